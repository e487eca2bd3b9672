// `wasmhost host` as a real process against the real NATS server: it announces itself, answers
// a scripted operator, serves a started workload's HTTP through --http-addr and its messages
// through the data connection, and stops gracefully on SIGTERM. Flag mistakes fail before
// anything connects. With --workers 2 the cluster still sees one host, whose workloads run
// in both worker processes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { main } from '../../src/cli/main.ts';
import { heartbeatSubject, rpcSubject } from '../../src/washlet/index.ts';
import { fixturePath } from '../fixtures/index.ts';
import { NATS_URL, POSTGRES_URL, reachable, service } from '../services.ts';
import { ask, eventually, get, status } from './helpers.ts';

const skip = await service('NATS', NATS_URL);
// With PostgreSQL at hand the host also serves wasmcloud:postgres (the flag is optional).
const { hostname: pgHost, port: pgPort } = new URL(POSTGRES_URL);
const withPostgres = await reachable(pgHost, Number(pgPort));
const BIN = resolve(import.meta.dirname, '../../bin/wasmhost.js');

/** Runs the CLI in this process; what it wrote to stderr and its exit code. */
async function runMain(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stderr };
  } finally {
    process.stderr.write = write;
  }
}

test('flag mistakes are refused before anything connects', async () => {
  const cases: [string[], RegExp][] = [
    [['--keyvalue-backend', 'redis'], /--keyvalue-backend redis: expected nats or postgres/],
    [['--blobstore-backend', 'postgres'], /--blobstore-backend postgres needs --postgres-url/],
    [['--label', 'zone'], /--label zone: expected key=value/],
    [['--label', 'hostgroup=x'], /the hostgroup label is set with --host-group/],
    [['--registry-pull-timeout', 'soon'], /--registry-pull-timeout soon: not a duration/],
    [['--registry-pull-timeout', '90d'], /--registry-pull-timeout 90d: longer than 24 days, the longest Node can time/],
    [['--heartbeat-interval', '4000000000'], /--heartbeat-interval 4000000000: longer than 24 days/],
    [['--scheduler-nats-tls-cert', '/tmp/cert.pem'], /--scheduler-nats-tls-cert and --scheduler-nats-tls-key go together/],
    [['--tls-cert-path', 'a.pem', '--tls-key-path', 'b.pem'], /--tls-cert-path needs --http-addr/],
    [['--workers', '0'], /--workers 0: expected a whole number from 1 to 256/],
    [['--workers', 'two'], /--workers two: expected a whole number from 1 to 256/],
    [['--max-guest-memory', '1KiB'], /--max-guest-memory 1KiB: at least one 64 KiB page is needed/],
    // Nothing listens on port 1: the error names the server.
    [['--scheduler-nats-url', 'nats://127.0.0.1:1'], /cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/],
  ];
  for (const [args, expected] of cases) {
    const { code, stderr } = await runMain(['host', ...args]);
    assert.equal(code, 1, args.join(' '));
    assert.match(stderr, expected);
  }
});

describe('wasmhost host, a real process', { skip }, () => {
  const run = randomUUID().slice(0, 8);
  const group = `cli-test-${run}`;
  let child: ChildProcess;
  let stdout = '';
  let stderr = '';
  let exited: Promise<number | null>;
  let operator: NatsConnection;
  let cacheDir: string;
  let hostId: string;

  before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'wasmhost-host-cli-'));
    operator = await connect({ servers: NATS_URL });
    child = spawn(
      process.execPath,
      [
        BIN, 'host',
        '--host-group', group,
        '--label', 'zone=test',
        '--scheduler-nats-url', NATS_URL,
        '--data-nats-url', NATS_URL,
        '--http-addr', '127.0.0.1:0',
        '--heartbeat-interval', '300ms',
        '--allow-insecure-registries',
        '--registry-pull-timeout', '5s',
        '--oci-cache-dir', cacheDir,
        '--log-level', 'warn',
        ...(withPostgres ? ['--postgres-url', POSTGRES_URL] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    hostId = await eventually(() => /^Host (\S+) \(/m.exec(stdout)?.[1] ?? (child.exitCode !== null ? '' : undefined), 30_000);
    assert.ok(hostId, `the host did not start:\n${stderr}`);
  });

  after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await operator?.drain();
    await rm(cacheDir, { recursive: true, force: true });
  });

  test('it announces itself on stdout and through heartbeats carrying its labels and plugins', async () => {
    assert.match(stdout, new RegExp(`running in host group "${group}"`));
    assert.match(stdout, new RegExp(`control: runtime\\.host\\.${hostId}\\.> on `));
    const beats: Record<string, any>[] = [];
    const sub = operator.subscribe(heartbeatSubject(hostId), { callback: (_e, msg) => void beats.push(msg.json()) });
    try {
      await eventually(() => (beats.length >= 2 ? true : undefined), 5000);
    } finally {
      sub.unsubscribe();
    }
    const hb = beats[0];
    assert.equal(hb.id, hostId);
    assert.deepEqual(hb.labels, { hostgroup: group, zone: 'test' });
    assert.ok(hb.httpPort > 0);
    const served = hb.imports.map((i: any) => `${i.namespace}:${i.package}`);
    const expected = ['wasi:config', 'wasi:logging', 'wasi:keyvalue', 'wasi:blobstore', 'wasmcloud:messaging', ...(withPostgres ? ['wasmcloud:postgres'] : [])];
    for (const p of expected) assert.ok(served.includes(p), `${p} in ${served}`);
  });

  test('a started workload serves HTTP through --http-addr and messages through the data connection', async () => {
    const port = (await ask(operator, hostId, 'heartbeat')).json.httpPort;
    const web = {
      workloadId: `web-${run}`,
      workload: {
        name: 'hello',
        witWorld: {
          components: [{ name: 'web', bytes: readFileSync(fixturePath('http-hello')).toString('base64') }],
          hostInterfaces: [{ namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], config: { host: `web-${run}.test` } }],
        },
      },
    };
    const subject = `cli-test.${run}.greet`;
    const handler = {
      workloadId: `handler-${run}`,
      workload: {
        name: 'handler',
        witWorld: {
          components: [{ name: 'handler', file: fixturePath('msg-handler') }],
          hostInterfaces: [{ namespace: 'wasmcloud', package: 'messaging', interfaces: ['consumer', 'handler'], version: '0.2.0', config: { subscriptions: subject } }],
        },
      },
    };
    for (const request of [web, handler]) {
      const started = await status(operator, hostId, 'workload.start', request);
      assert.equal(started.workloadState, 'WORKLOAD_STATE_RUNNING', started.message);
    }
    assert.deepEqual(await get(port, `web-${run}.test`), { status: 200, body: 'hello' });
    assert.equal((await get(port, `nobody-${run}.test`)).status, 404);
    assert.equal((await operator.request(subject, 'hi', { timeout: 10_000 })).string(), 'reply:hi');
    assert.equal((await ask(operator, hostId, 'heartbeat')).json.workloadCount, '2');
    for (const { workloadId } of [web, handler]) {
      assert.equal((await status(operator, hostId, 'workload.stop', { workloadId })).workloadState, 'WORKLOAD_STATE_STOPPING');
    }
    assert.equal((await get(port, `web-${run}.test`)).status, 404);
  });

  test('an unpullable image answers ERROR with the reason', async () => {
    const failed = await status(operator, hostId, 'workload.start', {
      workloadId: `nope-${run}`,
      workload: { name: 'nope', witWorld: { components: [{ name: 'nope', image: '127.0.0.1:1/nope:latest' }] } },
    });
    assert.equal(failed.workloadState, 'WORKLOAD_STATE_ERROR');
    assert.match(failed.message, /^failed to pull image for component 'nope': .*127\.0\.0\.1:1\/nope:latest/);
  });

  test('SIGTERM stops it gracefully: exit code 0, and nothing answers any more', async () => {
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), 20_000)))]);
    clearTimeout(timer);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /SIGTERM: stopping/);
    await assert.rejects(operator.request(rpcSubject(hostId, 'heartbeat'), '', { timeout: 2000 }));
  });
});

/** `wasmhost host` as a child process, with what it wrote so far. */
function startHost(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'host', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Once the primary has printed its lines: the host id and the worker pids its note names. */
async function workersReady(h: ReturnType<typeof startHost>): Promise<{ hostId: string; pids: number[] }> {
  const ready = await eventually(() => {
    const id = /^Host (\S+) \(/m.exec(h.stdout())?.[1];
    const pids = /note: 2 worker processes \(pids (\d+), (\d+)\)/.exec(h.stderr());
    if (id && pids) return { hostId: id, pids: [Number(pids[1]), Number(pids[2])] };
    return h.child.exitCode !== null ? null : undefined;
  }, 60_000);
  assert.ok(ready, `the host did not start:\n${h.stderr()}`);
  return ready;
}

/** GET on a new connection, so that each goes to the next worker. */
function getFresh(port: number, hostHeader: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path, headers: { host: hostHeader }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

describe('wasmhost host --workers 2: one host to the cluster, two processes serving', { skip }, () => {
  const run = randomUUID().slice(0, 8);
  const group = `cli-workers-${run}`;
  const workloadId = `web-${run}`;
  let h: ReturnType<typeof startHost>;
  let operator: NatsConnection;
  let hostId: string;
  let pids: number[];

  before(async () => {
    operator = await connect({ servers: NATS_URL });
    h = startHost([
      '--workers', '2',
      '--host-group', group,
      '--scheduler-nats-url', NATS_URL,
      '--data-nats-url', NATS_URL,
      '--http-addr', '127.0.0.1:0',
      '--heartbeat-interval', '300ms',
      '--log-level', 'warn',
    ]);
    ({ hostId, pids } = await workersReady(h));
  });

  after(async () => {
    if (h.child.exitCode === null) h.child.kill('SIGKILL');
    for (const pid of pids ?? []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await operator?.drain();
  });

  test('it prints one host, and the heartbeats on NATS carry one host id', async () => {
    assert.equal(h.stdout().match(/^Host /gm)?.length, 1, h.stdout());
    assert.match(h.stdout(), new RegExp(`control: runtime\\.host\\.${hostId}\\.> on `));
    assert.match(h.stdout(), /HTTP: {4}http:\/\/127\.0\.0\.1:\d+\/ \(routed by Host header\)/);
    assert.match(h.stderr(), /note: 2 worker processes \(pids \d+, \d+\) run the workloads and share the HTTP port; this one answers the control subjects/);
    const ids: string[] = [];
    const sub = operator.subscribe(heartbeatSubject('*'), {
      callback: (_e, msg) => {
        const hb = msg.json<Record<string, any>>();
        if (hb.labels?.hostgroup === group) ids.push(hb.id);
      },
    });
    try {
      await eventually(() => (ids.length >= 4 ? true : undefined), 10_000);
    } finally {
      sub.unsubscribe();
    }
    assert.deepEqual([...new Set(ids)], [hostId]);
  });

  test('a started workload runs in both workers: RUNNING, and new connections are answered by both', async () => {
    const start = {
      workloadId,
      workload: {
        name: 'web',
        witWorld: {
          // One warm instance per process counting its requests: a count seen twice was served by two.
          components: [{ name: 'web', file: fixturePath('http-test'), poolSize: 1 }],
          hostInterfaces: [{ namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], config: { host: `${workloadId}.test` } }],
        },
      },
    };
    const started = await status(operator, hostId, 'workload.start', start);
    assert.equal(started.workloadState, 'WORKLOAD_STATE_RUNNING', started.message);
    assert.equal((await status(operator, hostId, 'workload.status', { workloadId })).workloadState, 'WORKLOAD_STATE_RUNNING');
    const hb = (await ask(operator, hostId, 'heartbeat')).json;
    assert.equal(hb.id, hostId);
    // The counts of one worker: the workload runs in both, and is one workload of the host.
    assert.equal(hb.workloadCount, '1');
    assert.equal(hb.componentCount, '1');
    const counts: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await getFresh(hb.httpPort, `${workloadId}.test`, '/count');
      assert.equal(r.status, 200, r.body);
      assert.match(r.body, /^\d+$/);
      counts.push(r.body);
    }
    const perCount = new Map<string, number>();
    for (const c of counts) perCount.set(c, (perCount.get(c) ?? 0) + 1);
    assert.ok(Math.max(...perCount.values()) >= 2, `a count answered by two processes: ${counts.join(' ')}`);
    assert.ok(perCount.size < counts.length);
    // A second start under a live id is refused by every worker alike, and leaves it running.
    const again = await status(operator, hostId, 'workload.start', start);
    assert.equal(again.workloadState, 'WORKLOAD_STATE_ERROR');
    assert.match(again.message, /^workload .* is already running; it was left as it is/);
    assert.equal((await getFresh(hb.httpPort, `${workloadId}.test`, '/count')).status, 200);
  });

  test('an image is pulled once, by the primary: an unpullable one answers ERROR before any worker is asked', async () => {
    const failed = await status(operator, hostId, 'workload.start', {
      workloadId: `nope-${run}`,
      workload: { name: 'nope', witWorld: { components: [{ name: 'nope', image: '127.0.0.1:1/nope:latest' }] } },
    });
    assert.equal(failed.workloadState, 'WORKLOAD_STATE_ERROR');
    assert.match(failed.message, /^failed to pull image for component 'nope': .*127\.0\.0\.1:1\/nope:latest/);
    assert.equal((await status(operator, hostId, 'workload.status', { workloadId: `nope-${run}` })).workloadState, 'WORKLOAD_STATE_NOT_FOUND');
  });

  test('workload.stop stops it in every worker: no connection finds its route any more', async () => {
    const port = (await ask(operator, hostId, 'heartbeat')).json.httpPort;
    const stopped = await status(operator, hostId, 'workload.stop', { workloadId });
    assert.equal(stopped.workloadState, 'WORKLOAD_STATE_STOPPING', stopped.message);
    assert.equal((await status(operator, hostId, 'workload.status', { workloadId })).workloadState, 'WORKLOAD_STATE_NOT_FOUND');
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await getFresh(port, `${workloadId}.test`, '/count')).status);
    assert.deepEqual(statuses, Array(10).fill(404));
    assert.equal((await ask(operator, hostId, 'heartbeat')).json.workloadCount, undefined, 'no workloads (proto3 JSON leaves out 0)');
  });

  test('a worker that dies ends the command with exit 1, naming it; the host stops answering', async () => {
    process.kill(pids[1], 'SIGKILL');
    assert.equal(await h.exited, 1, h.stderr());
    assert.match(h.stderr(), new RegExp(`error: worker ${pids[1]} ended \\(SIGKILL\\)\nhint: the other workers were stopped too`));
    await assert.rejects(operator.request(rpcSubject(hostId, 'heartbeat'), '', { timeout: 2000 }));
  });
});

test('host --workers 2 without HTTP stops gracefully on SIGTERM: the control subjects go, then the workers', { skip }, async () => {
  const operator = await connect({ servers: NATS_URL });
  const h = startHost(['--workers', '2', '--host-group', `cli-workers-${randomUUID().slice(0, 8)}`, '--scheduler-nats-url', NATS_URL, '--data-nats-url', NATS_URL, '--log-level', 'warn']);
  try {
    const { hostId } = await workersReady(h);
    assert.match(h.stdout(), /HTTP: {4}none \(--http-addr serves it\)/);
    assert.match(h.stderr(), /note: 2 worker processes \(pids \d+, \d+\) run the workloads; this one answers the control subjects/);
    assert.equal((await ask(operator, hostId, 'heartbeat')).json.id, hostId);
    h.child.kill('SIGTERM');
    assert.equal(await h.exited, 0, h.stderr());
    assert.match(h.stderr(), /SIGTERM: stopping 2 workers/);
    await assert.rejects(operator.request(rpcSubject(hostId, 'heartbeat'), '', { timeout: 2000 }));
  } finally {
    if (h.child.exitCode === null) h.child.kill('SIGKILL');
    await operator.drain();
  }
});
