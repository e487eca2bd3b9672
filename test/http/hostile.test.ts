// Hostile guests against a running host: each attack on the hostile-http workload is stopped
// with a clear status, while a healthy workload (examples/http-counter, counting visits in
// wasi:keyvalue) is served without a single failure and loses no write, and the guest memory
// the host counts returns to its baseline.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { HostBuilder, type Host } from '../../src/host/host.ts';
import { HttpServer } from '../../src/http/server.ts';
import { HostRouter } from '../../src/http/router.ts';
import { configPlugin } from '../../src/plugins/config/index.ts';
import { keyValuePlugin, MemoryKeyValueBackend } from '../../src/plugins/keyvalue/index.ts';
import { loggingPlugin } from '../../src/plugins/logging/index.ts';
import { exampleOutputPath, fixturePath } from '../fixtures/index.ts';
import { engine, memoryLogger } from '../host/helpers.ts';

let host: Host;
let http: HttpServer;
let base: string;
const kv = new MemoryKeyValueBackend();

const httpInterface = (config: Record<string, string>) => ({ namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], version: '0.2.12', config });

before(async () => {
  const { logger } = memoryLogger();
  http = new HttpServer({ address: '127.0.0.1:0', router: new HostRouter(), logger });
  host = new HostBuilder()
    .withEngine(engine)
    .withLogger(logger)
    .withHttpHandler(http)
    .withGuestOutput('ignore')
    .withPlugin(configPlugin())
    .withPlugin(loggingPlugin())
    .withPlugin(keyValuePlugin({ backend: kv }))
    .withLimits({ maxInstancesPerComponent: 4, queueTimeoutMs: 200, maxResourceHandles: 1000 })
    .build();
  await host.start();
  const started = await Promise.all([
    host.workloadStart({
      workloadId: 'healthy',
      workload: {
        namespace: 'test',
        name: 'healthy',
        witWorld: {
          components: [{ name: 'counter', file: exampleOutputPath('http-counter') }],
          hostInterfaces: [
            httpInterface({ host: 'healthy' }),
            { namespace: 'wasi', package: 'keyvalue', interfaces: ['store', 'atomics'], version: '0.2.0-draft' },
            { namespace: 'wasi', package: 'config', interfaces: ['store'], version: '0.2.0-rc.1' },
            { namespace: 'wasi', package: 'logging', interfaces: ['logging'], version: '0.1.0-draft' },
          ],
        },
      },
    }),
    host.workloadStart({
      workloadId: 'hostile',
      workload: {
        namespace: 'test',
        name: 'hostile',
        witWorld: {
          components: [{ name: 'attacker', file: fixturePath('hostile-http'), localResources: { memoryLimitMb: 40 } }],
          hostInterfaces: [httpInterface({ host: 'hostile', 'request-timeout': '1s' })],
        },
      },
    }),
  ]);
  for (const s of started) assert.equal(s.workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', s.workloadStatus.message);
  base = http.url.href.replace(/\/$/, '');
});

after(async () => {
  await host.stop();
});

/** A request with a Host header (fetch does not let one set it); answers status and body. */
function send(hostHeader: string, path: string, options: { body?: 'never-ends'; timeoutMs?: number } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: options.body ? 'POST' : 'GET', headers: { host: hostHeader } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', () => resolve({ status: res.statusCode!, body: `${body}[cut]` }));
    });
    req.on('error', reject);
    if (options.body === 'never-ends') req.write('a first chunk, and then nothing more'); // never `end()`
    else req.end();
  });
}

/** Visits the healthy counter in a loop until stopped; every answer must be the next count. */
function healthyClient() {
  let running = true;
  const failures: string[] = [];
  let first: number | undefined;
  let last = 0;
  const done = (async () => {
    while (running) {
      const { status, body } = await send('healthy', '/steady').catch((err: Error) => ({ status: 0, body: err.message }));
      const n = Number(/#(\d+)/.exec(body)?.[1]);
      first ??= n;
      if (status !== 200 || (n !== first && n !== last + 1)) failures.push(`${status} ${body}`);
      else last = n;
    }
  })();
  return {
    /** Answers the last count seen, how many visits were made, and every failed one. */
    async stop() {
      running = false;
      await done;
      return { last, visits: first === undefined ? 0 : last - first + 1, failures };
    },
  };
}

test('attacks are stopped with clear statuses while a healthy workload serves every request', { timeout: 120_000 }, async () => {
  const baseline = host.guestMemory.usedBytes;
  const healthy = healthyClient();
  const attacks = {
    spin: await send('hostile', '/spin'),
    grow: await send('hostile', '/grow'),
    endless: await send('hostile', '/endless'),
    readForever: await send('hostile', '/read-forever', { body: 'never-ends' }),
    exit: await send('hostile', '/exit'),
    hoard: await send('hostile', '/hoard?n=3000'),
  };
  const { last, visits, failures } = await healthy.stop();

  assert.equal(attacks.spin.status, 504, 'a guest spinning past the request timeout is stopped: 504');
  assert.equal(attacks.grow.status, 500, 'a memory bomb is stopped at the memory limit: 500');
  assert.equal(attacks.endless.status, 200, 'an endless body is cut at the request timeout');
  assert.match(attacks.endless.body, /\[cut\]$/);
  assert.equal(attacks.readForever.status, 504);
  assert.equal(attacks.exit.status, 500);
  assert.equal(attacks.hoard.status, 500, 'a guest holding 3000 handles passes the cap of 1000');
  assert.deepEqual(failures, [], 'the healthy client saw no failure');
  assert.ok(visits > 5, `the healthy client was served throughout (${visits} visits)`);

  // Nothing written was lost: the counter went up by exactly one per visit.
  assert.equal((await send('healthy', '/steady')).body.match(/#(\d+)/)?.[1], String(last + 1));
  assert.equal((await send('hostile', '/ok')).status, 200, 'the hostile workload itself serves again');
  // Every instance the attacks used is gone: guest memory is back to where it was.
  assert.equal(host.guestMemory.usedBytes, baseline);
  assert.equal(host.guestMemory.instances, 0);
});

test('past its instance cap a component queues briefly, then answers 503; other workloads are unaffected', { timeout: 60_000 }, async () => {
  const healthy = healthyClient();
  // Six requests whose bodies never end (each holds its instance until the 1 s request timeout)
  // against a cap of 4 instances: two wait 200 ms for a slot, then get 503.
  const statuses = (await Promise.all(Array.from({ length: 6 }, () => send('hostile', '/read-forever', { body: 'never-ends' })))).map((r) => r.status).sort();
  const { failures } = await healthy.stop();
  assert.deepEqual(statuses, [503, 503, 504, 504, 504, 504]);
  assert.deepEqual(failures, []);
  assert.equal((await send('hostile', '/ok')).status, 200);
});
