// Two cluster hosts in one host group, driven by a scripted operator over the real NATS server:
// heartbeats (published and on request), start/status/stop with HTTP through the host router,
// snake_case requests, malformed requests and invalid workloads, images that cannot be pulled,
// requests served concurrently, and messages shared between the hosts through a queue group.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { HostBuilder, type Host } from '../../src/host/host.ts';
import { HostRouter } from '../../src/http/router.ts';
import { HttpServer } from '../../src/http/server.ts';
import { describeBinary } from '../../src/engine.ts';
import { OciImageFetcher } from '../../src/oci/index.ts';
import { configPlugin } from '../../src/plugins/config/index.ts';
import { loggingPlugin } from '../../src/plugins/logging/index.ts';
import { messagingPlugin } from '../../src/plugins/messaging/index.ts';
import { NatsBroker } from '../../src/plugins/messaging/backends/nats.ts';
import { heartbeatSubject, rpcSubject, Washlet } from '../../src/washlet/index.ts';
import { fixturePath } from '../fixtures/index.ts';
import { engine, memoryLogger } from '../host/helpers.ts';
import { NATS_URL, service } from '../services.ts';
import { ask, defaultFields, eventually, get, HEARTBEAT_FIELDS, stalledRegistry, status } from './helpers.ts';

const skip = await service('NATS', NATS_URL);
const HEARTBEAT_MS = 200;
const run = randomUUID().slice(0, 8);
const group = `washlet-test-${run}`;

interface TestHost {
  host: Host;
  http: HttpServer;
  washlet: Washlet;
  data: NatsConnection;
  control: NatsConnection;
  heartbeats: Record<string, any>[];
  heartbeatTexts: string[];
  heartbeatSub: Subscription;
}

let operator: NatsConnection;
let a: TestHost;
let b: TestHost;
let cacheDir: string;

const helloBase64 = () => readFileSync(fixturePath('http-hello')).toString('base64');

/** A workload serving HTTP for `hostHeader` through the host router, its component inline. */
function httpWorkload(hostHeader: string, component: Record<string, unknown> = { name: 'web', bytes: helloBase64() }) {
  return {
    namespace: 'washlet-test',
    name: 'hello',
    witWorld: {
      components: [component],
      hostInterfaces: [{ namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], version: '0.2.12', config: { host: hostHeader } }],
    },
  };
}

async function makeHost(): Promise<TestHost> {
  const data = await connect({ servers: NATS_URL });
  const http = new HttpServer({ address: '127.0.0.1:0', router: new HostRouter(), logger: memoryLogger().logger });
  const host = new HostBuilder()
    .withEngine(engine)
    .withLogger(memoryLogger().logger)
    .withGuestOutput('log')
    .withHttpHandler(http)
    .withLabel('hostgroup', group)
    .withPlugin(configPlugin())
    .withPlugin(loggingPlugin())
    .withPlugin(messagingPlugin({ backend: new NatsBroker({ connection: data }) }))
    .withStopTimeout(1000)
    .build();
  await host.start();
  const fetcher = new OciImageFetcher({ describeBinary, insecure: true, timeoutMs: 1500, cacheDir, dockerConfigDir: false });
  const control = await connect({ servers: NATS_URL });
  const washlet = new Washlet({ host, connection: control, heartbeatIntervalMs: HEARTBEAT_MS, imageFetcher: fetcher });
  // Subscribed before the washlet starts: the first heartbeat is sent at start.
  const heartbeats: Record<string, any>[] = [];
  const heartbeatTexts: string[] = [];
  const heartbeatSub = operator.subscribe(heartbeatSubject(washlet.hostId), {
    callback: (_err, msg: Msg) => {
      heartbeatTexts.push(msg.string());
      heartbeats.push(msg.json());
    },
  });
  await operator.flush();
  await washlet.start();
  return { host, http, washlet, data, control, heartbeats, heartbeatTexts, heartbeatSub };
}

async function closeHost(h: TestHost | undefined): Promise<void> {
  if (!h) return;
  await h.washlet.stop();
  await h.host.stop();
  h.heartbeatSub.unsubscribe();
  await h.data.drain();
  await h.control.drain();
}

describe('washlet', { skip }, () => {
  before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'wasmhost-washlet-test-'));
    operator = await connect({ servers: NATS_URL });
    a = await makeHost();
    b = await makeHost();
  });

  after(async () => {
    await closeHost(a);
    await closeHost(b);
    await operator?.drain();
    await rm(cacheDir, { recursive: true, force: true });
  });

  test('each host publishes its heartbeat at start and then every interval, as compact proto3 JSON', async () => {
    for (const h of [a, b]) {
      await eventually(() => (h.heartbeats.length >= 3 ? true : undefined), 5000);
      const hb = h.heartbeats[0];
      assert.equal(hb.id, h.washlet.hostId);
      assert.equal(hb.id, h.host.id, 'the default host id is the host\'s own');
      assert.deepEqual(hb.labels, { hostgroup: group });
      assert.equal(hb.friendlyName, h.host.friendlyName);
      assert.equal(hb.httpPort, h.http.port);
      assert.match(hb.startedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);
      assert.match(hb.systemMemoryTotal, /^[1-9]\d*$/, '64-bit integers are written as strings');
      assert.match(hb.systemMemoryFree, /^[1-9]\d*$/);
      assert.equal(hb.osName, 'linux');
      // The plugins' interfaces, each a WitInterface without its empty config.
      assert.ok(hb.imports.some((i: any) => i.namespace === 'wasmcloud' && i.package === 'messaging' && i.interfaces.includes('consumer') && i.version === '0.2.0'));
      assert.ok(hb.exports.some((i: any) => i.namespace === 'wasmcloud' && i.interfaces.includes('handler')));
      // Nothing running yet: the counts are 0, so they are not on the wire at all.
      assert.equal('workloadCount' in hb, false);
      assert.equal('componentCount' in hb, false);
      assert.deepEqual(defaultFields(hb), []);
      const keys = Object.keys(hb);
      assert.deepEqual(keys, HEARTBEAT_FIELDS.filter((f) => keys.includes(f)), 'fields in field-number order');
      assert.equal(h.heartbeatTexts[0], JSON.stringify(hb), 'published compact');
    }
  });

  test('the heartbeat command answers the same message, pretty-printed', async () => {
    const reply = await ask(operator, a.washlet.hostId, 'heartbeat');
    assert.ok(reply.text.startsWith(`{\n  "id": "${a.washlet.hostId}",\n  "hostname": `), reply.text.slice(0, 80));
    assert.equal(reply.text, JSON.stringify(reply.json, null, 2));
    assert.deepEqual(reply.json.labels, { hostgroup: group });
    assert.equal(reply.headers?.get('Nats-Service-Error'), undefined);
    // Whatever the payload: the reference ignores it too.
    assert.equal((await ask(operator, b.washlet.hostId, 'heartbeat', 'not even json')).json.id, b.washlet.hostId);
  });

  test('start, status, HTTP through the host router, stop: one host runs it, the other knows nothing of it', async () => {
    const id = `web-${run}`;
    const started = await ask(operator, a.washlet.hostId, 'workload.start', { workloadId: id, workload: httpWorkload(`${id}.test`) });
    assert.deepEqual(started.json, { workloadStatus: { workloadId: id, workloadState: 'WORKLOAD_STATE_RUNNING', message: 'running' } });
    assert.equal(started.text, JSON.stringify(started.json, null, 2));

    assert.equal((await status(operator, a.washlet.hostId, 'workload.status', { workloadId: id })).workloadState, 'WORKLOAD_STATE_RUNNING');
    assert.deepEqual(await status(operator, b.washlet.hostId, 'workload.status', { workloadId: id }), {
      workloadId: id,
      workloadState: 'WORKLOAD_STATE_NOT_FOUND',
      message: `no workload with id ${id} on this host`,
    });

    assert.deepEqual(await get(a.http.port, `${id}.test`), { status: 200, body: 'hello' });
    assert.equal((await get(b.http.port, `${id}.test`)).status, 404);

    const hb = (await ask(operator, a.washlet.hostId, 'heartbeat')).json;
    assert.equal(hb.workloadCount, '1');
    assert.equal(hb.componentCount, '1');

    assert.deepEqual(await status(operator, a.washlet.hostId, 'workload.stop', { workloadId: id }), {
      workloadId: id,
      workloadState: 'WORKLOAD_STATE_STOPPING',
      message: 'stopped',
    });
    assert.equal((await status(operator, a.washlet.hostId, 'workload.status', { workloadId: id })).workloadState, 'WORKLOAD_STATE_NOT_FOUND');
    assert.equal((await get(a.http.port, `${id}.test`)).status, 404);
    assert.equal('workloadCount' in (await ask(operator, a.washlet.hostId, 'heartbeat')).json, false);
  });

  test('a request in snake_case, with enums by name and 64-bit integers as strings, is accepted', async () => {
    const id = `snake-${run}`;
    const request = {
      workload_id: id,
      workload: {
        namespace: 'washlet-test',
        name: 'snake',
        wit_world: {
          components: [{ name: 'web', bytes: helloBase64(), image_pull_policy: 'IMAGE_PULL_POLICY_ALWAYS', pool_size: '2', local_resources: { memory_limit_mb: 64 } }],
          host_interfaces: [{ namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], config: { host: `${id}.test` } }],
        },
      },
    };
    const started = await status(operator, b.washlet.hostId, 'workload.start', request);
    assert.equal(started.workloadState, 'WORKLOAD_STATE_RUNNING', started.message);
    assert.deepEqual(await get(b.http.port, `${id}.test`), { status: 200, body: 'hello' });
    assert.equal((await status(operator, b.washlet.hostId, 'workload.stop', { workload_id: id })).workloadState, 'WORKLOAD_STATE_STOPPING');
  });

  test('malformed requests are answered with state ERROR and a message naming the problem', async () => {
    const cases: [string, string | object, RegExp][] = [
      ['workload.status', '{"workloadId":', /^invalid workload\.status request: the payload is not JSON/],
      ['workload.stop', '', /^invalid workload\.stop request: the payload is empty/],
      ['workload.status', [1, 2], /expected a workload status request, got a list/],
      ['workload.status', { workloadId: 'x', workloadID: 'y' }, /workloadID: unknown field \(did you mean "workloadId"\?\)/],
      ['workload.stop', { workloadId: 42 }, /workloadId: expected a workload id, got 42/],
      ['workload.start', { workloadId: 'x' }, /workload: missing \(expected a workload\)/],
      ['workload.restart', {}, /^unknown command "workload\.restart" \(expected one of heartbeat, workload\.start, workload\.status, workload\.stop\)$/],
    ];
    for (const [command, body, expected] of cases) {
      const reply = await ask(operator, a.washlet.hostId, command, body);
      const ws = reply.json.workloadStatus;
      assert.equal(ws.workloadState, 'WORKLOAD_STATE_ERROR', `${command} ${JSON.stringify(body)}`);
      assert.match(ws.message, expected);
      assert.equal(reply.headers?.get('Nats-Service-Error-Code'), '400');
      assert.equal(reply.headers?.get('Nats-Service-Error'), ws.message.split('\n').map((l: string) => l.trim()).join(' '));
    }
  });

  test('an invalid workload is refused with every problem named, and nothing is reserved', async () => {
    const id = `invalid-${run}`;
    const request = {
      workloadId: id,
      workload: {
        name: 'bad',
        witWorld: {
          components: [
            { name: 'one', bytes: 'not base64!' },
            { name: 'two', image: 'ghcr.io/a/b:1', file: '/x.wasm' },
            { name: 'three', bytes: helloBase64(), poolSize: -1 },
          ],
          hostInterfaces: ['wasi:keyvalue/store@0.2.0-draft'],
        },
        volumez: [],
      },
    };
    const reply = await ask(operator, a.washlet.hostId, 'workload.start', request);
    const ws = reply.json.workloadStatus;
    assert.equal(ws.workloadId, id, 'the answer echoes the id');
    assert.equal(ws.workloadState, 'WORKLOAD_STATE_ERROR');
    assert.match(ws.message, /^invalid workload\.start request:\n/);
    assert.match(ws.message, /workload\.witWorld\.components\[0\]\.bytes: expected base64/);
    assert.match(ws.message, /workload\.witWorld\.components\[1\]: expected exactly one of "file", "image" or "bytes", got "file" and "image"/);
    assert.match(ws.message, /workload\.witWorld\.components\[2\]\.poolSize: expected an integer >= 0, got -1/);
    assert.match(ws.message, /workload\.volumez: unknown field \(did you mean "volumes"\?\)/);
    assert.equal((await status(operator, a.washlet.hostId, 'workload.status', { workloadId: id })).workloadState, 'WORKLOAD_STATE_NOT_FOUND');
  });

  test('an image that cannot be pulled answers ERROR with the reason; the id stays free', async () => {
    const id = `unpullable-${run}`;
    const failed = await status(operator, a.washlet.hostId, 'workload.start', {
      workloadId: id,
      workload: httpWorkload(`${id}.test`, { name: 'web', image: '127.0.0.1:1/nope:latest', imagePullPolicy: 'ALWAYS' }),
    });
    assert.equal(failed.workloadId, id);
    assert.equal(failed.workloadState, 'WORKLOAD_STATE_ERROR');
    assert.match(failed.message, /^failed to pull image for component 'web': /);
    assert.ok(failed.message.includes('127.0.0.1:1/nope:latest'), failed.message);
    // The host was never asked: nothing reserved, no route, the id free for a corrected start.
    assert.equal((await status(operator, a.washlet.hostId, 'workload.status', { workloadId: id })).workloadState, 'WORKLOAD_STATE_NOT_FOUND');
    assert.equal((await get(a.http.port, `${id}.test`)).status, 404);
    const started = await status(operator, a.washlet.hostId, 'workload.start', { workloadId: id, workload: httpWorkload(`${id}.test`) });
    assert.equal(started.workloadState, 'WORKLOAD_STATE_RUNNING', started.message);
    assert.deepEqual(await get(a.http.port, `${id}.test`), { status: 200, body: 'hello' });
    assert.equal((await status(operator, a.washlet.hostId, 'workload.stop', { workloadId: id })).workloadState, 'WORKLOAD_STATE_STOPPING');
  });

  test('a slow start does not hold up status and heartbeat requests', async () => {
    const registry = await stalledRegistry();
    try {
      const id = `slow-${run}`;
      const image = `127.0.0.1:${registry.port}/slow:latest`;
      let startSettled = false;
      const start = status(operator, b.washlet.hostId, 'workload.start', {
        workloadId: id,
        workload: httpWorkload(`${id}.test`, { name: 'web', image }),
      }).finally(() => (startSettled = true));
      await new Promise((r) => setTimeout(r, 100)); // the start is now pulling
      const other = await status(operator, b.washlet.hostId, 'workload.status', { workloadId: `other-${run}` });
      assert.equal(other.workloadState, 'WORKLOAD_STATE_NOT_FOUND');
      assert.equal((await ask(operator, b.washlet.hostId, 'heartbeat')).json.id, b.washlet.hostId);
      assert.equal(startSettled, false, 'answered while the start was still pulling');
      const failed = await start;
      assert.equal(failed.workloadState, 'WORKLOAD_STATE_ERROR');
      assert.ok(failed.message.includes(image), failed.message);
    } finally {
      await registry.close();
    }
  });

  test('starting an id that is running is refused and leaves it running', async () => {
    const id = `twice-${run}`;
    assert.equal((await status(operator, a.washlet.hostId, 'workload.start', { workloadId: id, workload: httpWorkload(`${id}.test`) })).workloadState, 'WORKLOAD_STATE_RUNNING');
    const again = await status(operator, a.washlet.hostId, 'workload.start', { workloadId: id, workload: httpWorkload(`${id}.test`) });
    assert.equal(again.workloadState, 'WORKLOAD_STATE_ERROR');
    assert.equal(again.workloadId, id);
    assert.match(again.message, /already running/);
    assert.deepEqual(await get(a.http.port, `${id}.test`), { status: 200, body: 'hello' });
    assert.equal((await status(operator, a.washlet.hostId, 'workload.stop', { workloadId: id })).workloadState, 'WORKLOAD_STATE_STOPPING');
  });

  test('messages on a subscribed subject are shared between the two hosts, each handled exactly once', async () => {
    const id = `queue-${run}`;
    const subject = `washlet-test.${run}.work`;
    const workload = {
      namespace: 'washlet-test',
      name: `handler-${run}`,
      witWorld: {
        // Too big for one NATS message (1 MB by default), so a file both hosts can read.
        components: [{ name: 'handler', file: fixturePath('msg-handler') }],
        hostInterfaces: [{ namespace: 'wasmcloud', package: 'messaging', interfaces: ['consumer', 'handler'], version: '0.2.0', config: { subscriptions: subject } }],
      },
    };
    for (const h of [a, b]) {
      const started = await status(operator, h.washlet.hostId, 'workload.start', { workloadId: id, workload });
      assert.equal(started.workloadState, 'WORKLOAD_STATE_RUNNING', started.message);
    }
    const replySubject = `washlet-test.${run}.replies`;
    const replies: string[] = [];
    const sub = operator.subscribe(replySubject, { callback: (_err, msg) => void replies.push(msg.string()) });
    await operator.flush();
    const received = () => a.data.stats().inMsgs + b.data.stats().inMsgs;
    const before = { a: a.data.stats().inMsgs, b: b.data.stats().inMsgs };
    const N = 40;
    try {
      for (let i = 0; i < N; i++) operator.publish(subject, `m${i}`, { reply: replySubject });
      await operator.flush();
      await eventually(() => (replies.length >= N ? true : undefined), 30_000);
      await new Promise((r) => setTimeout(r, 500)); // room for a duplicate to show up
      assert.equal(replies.length, N, 'one reply per message');
      assert.deepEqual(new Set(replies), new Set(Array.from({ length: N }, (_, i) => `reply:m${i}`)));
      const took = { a: a.data.stats().inMsgs - before.a, b: b.data.stats().inMsgs - before.b };
      assert.equal(took.a + took.b, N, `each message reached one host (${JSON.stringify(took)}, total ${received()})`);
      assert.ok(took.a > 0 && took.b > 0, `both hosts took a share: ${JSON.stringify(took)}`);
    } finally {
      sub.unsubscribe();
      for (const h of [a, b]) await status(operator, h.washlet.hostId, 'workload.stop', { workloadId: id });
    }
  });

  test('a stopped washlet answers nothing more and its heartbeats stop', async () => {
    await b.washlet.stop();
    const count = b.heartbeats.length;
    await assert.rejects(operator.request(rpcSubject(b.washlet.hostId, 'heartbeat'), '', { timeout: 2000 }), (err: Error) => {
      assert.match(String((err as { code?: string }).code ?? err.message), /503|no responders/i);
      return true;
    });
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 3));
    assert.equal(b.heartbeats.length, count);
    // Host A is not affected.
    assert.equal((await ask(operator, a.washlet.hostId, 'heartbeat')).json.id, a.washlet.hostId);
  });
});
