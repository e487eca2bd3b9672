// The listener's connection cap and idle timeout (3 s: Node's keep-alive clients close a
// connection a second before the server's hint, which is whole seconds): a flood of idle connections cannot lock other
// clients out, an idle connection is closed, and a connection with a request under way is never
// cut for it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { HostBuilder, type Host } from '../../src/host/host.ts';
import { HttpServer } from '../../src/http/server.ts';
import { DevRouter } from '../../src/http/router.ts';
import { fixturePath } from '../fixtures/index.ts';
import { engine, eventually, memoryLogger } from '../host/helpers.ts';

let host: Host;
let http: HttpServer;

before(async () => {
  http = new HttpServer({ address: '127.0.0.1:0', router: new DevRouter(), connections: { maxConnections: 50, idleTimeoutMs: 3000 } });
  host = new HostBuilder().withEngine(engine).withLogger(memoryLogger().logger).withHttpHandler(http).withGuestOutput('ignore').build();
  await host.start();
  const { workloadStatus } = await host.workloadStart({
    workloadId: 'app',
    workload: {
      namespace: 'test',
      name: 'app',
      witWorld: {
        components: [{ name: 'app', file: fixturePath('http-test') }],
        hostInterfaces: [{ namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], version: '0.2.12' }],
      },
    },
  });
  assert.equal(workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', workloadStatus.message);
});

after(() => host.stop());

function get(path: string, agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpRequest(new URL(path, http.url), { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** Opens a TCP connection that never sends a byte; answers once connected. */
function idleConnection(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(http.port, '127.0.0.1', () => resolve(socket));
    socket.on('error', () => {}); // closed by the server: expected
    socket.once('error', reject);
  });
}

test('a flood of idle connections past the cap: the ones idle longest make room, a busy client is always served', { timeout: 60_000 }, async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  let clientConnections = 0;
  const createConnection = agent.createConnection.bind(agent);
  agent.createConnection = ((...args: Parameters<typeof createConnection>) => (clientConnections++, createConnection(...args))) as typeof agent.createConnection;
  const evictedBefore = http.connections.evicted;
  // A busy client: four connections, each sending its next request as soon as one is answered.
  let flooding = true;
  const answers: { status: number; body: string }[] = [];
  const busy = Promise.all(
    Array.from({ length: 4 }, async () => {
      while (flooding) answers.push(await get('/', agent));
    }),
  );
  const flood: Socket[] = [];
  for (let i = 0; i < 200; i++) flood.push(await idleConnection());
  flooding = false;
  await busy;
  assert.ok(answers.length >= 4, `${answers.length} answers`);
  assert.ok(answers.every((a) => a.status === 200 && a.body === 'hello from js'), 'every request of the busy client was served');
  assert.equal(clientConnections, 4, 'the busy client kept its connections: idle only for an instant between requests, they are never the ones to go');
  assert.ok(http.connections.open <= 50, `${http.connections.open} connections open, cap 50`);
  assert.ok(http.connections.evicted - evictedBefore >= 150, `${http.connections.evicted - evictedBefore} idle connections closed to make room`);
  agent.destroy();
  for (const s of flood) s.destroy();
});

test('an idle connection is closed after the idle timeout; one with a request under way is not', { timeout: 30_000 }, async () => {
  const idle = await idleConnection();
  let closed = false;
  idle.on('close', () => (closed = true));
  await eventually(() => (closed ? true : undefined), 10_000);
  // Three chunks 2 s apart: the request outlives the 3 s idle timeout.
  const slow = await get('/stream?chunks=3&delay=2000');
  assert.deepEqual(slow, { status: 200, body: 'chunk 0\nchunk 1\nchunk 2\n' });
});
