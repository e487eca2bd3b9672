// Routing: the host router by Host header (port ignored, aliases, path prefixes), its status codes,
// and the workload-start errors that keep routing deterministic; then TLS.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostBuilder, type Host } from '../../src/host/host.ts';
import { HostRouter } from '../../src/http/router.ts';
import { HttpServer } from '../../src/http/server.ts';
import { fixturePath } from '../fixtures/index.ts';
import { engine, memoryLogger } from '../host/helpers.ts';
import type { ComponentInput, WorkloadInput } from '../../src/workload/types.ts';

let host: Host;
let http: HttpServer;

function httpWorkload(fixture: string, config: Record<string, string>, components?: ComponentInput[]): WorkloadInput {
  return {
    namespace: 'test',
    name: fixture,
    witWorld: {
      components: components ?? [{ name: 'web', file: fixturePath(fixture) }],
      hostInterfaces: [{ namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], version: '0.2.12', config }],
    },
  };
}

async function start(id: string, workload: WorkloadInput): Promise<{ state: string; message: string }> {
  const { workloadStatus } = await host.workloadStart({ workloadId: id, workload });
  return { state: workloadStatus.workloadState, message: workloadStatus.message };
}

/** A GET with an explicit Host header: status and body. */
function get(hostHeader: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: http.port, path, headers: { host: hostHeader } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject).end();
  });
}

before(async () => {
  http = new HttpServer({ address: '127.0.0.1:0', router: new HostRouter(), logger: memoryLogger().logger });
  host = new HostBuilder().withEngine(engine).withHttpHandler(http).withLogger(memoryLogger().logger).build();
  await host.start();
  assert.equal((await start('a', httpWorkload('http-hello', { host: 'a.test', 'host-aliases': 'alias.test, other-alias.test' }))).state, 'WORKLOAD_STATE_RUNNING');
  assert.equal((await start('api', httpWorkload('http-test', { host: 'b.test', path: '/api' }))).state, 'WORKLOAD_STATE_RUNNING');
  assert.equal((await start('root', httpWorkload('http-hello', { host: 'b.test' }))).state, 'WORKLOAD_STATE_RUNNING');
});

after(async () => {
  await host.stop();
});

test('the Host header picks the workload, whatever its port or case', async () => {
  assert.deepEqual(await get('a.test'), { status: 200, body: 'hello' });
  assert.deepEqual(await get('A.Test:9999'), { status: 200, body: 'hello' });
  assert.deepEqual(await get('alias.test'), { status: 200, body: 'hello' });
  assert.deepEqual(await get('other-alias.test:80'), { status: 200, body: 'hello' });
});

test('the longest path prefix wins, on whole path segments; the path reaches the guest unchanged', async () => {
  // http-test answers unknown paths with "no route for <method> <path>": the prefix is not stripped.
  assert.deepEqual(await get('b.test', '/api'), { status: 404, body: 'no route for GET /api' });
  assert.deepEqual(await get('b.test', '/api/env?name=X'), { status: 404, body: 'no route for GET /api/env' });
  assert.deepEqual(await get('b.test', '/apix'), { status: 200, body: 'hello' });
  assert.deepEqual(await get('b.test', '/'), { status: 200, body: 'hello' });
});

test('no route is 404, a request without a Host header is 400', async () => {
  assert.equal((await get('unknown.test')).status, 404);
  const status = await new Promise<string>((resolve, reject) => {
    const socket = connect(http.port, '127.0.0.1', () => socket.write('GET / HTTP/1.0\r\n\r\n'));
    let data = '';
    socket.on('data', (d) => (data += d)).on('end', () => resolve(data.split('\r\n')[0])).on('error', reject);
  });
  assert.equal(status, 'HTTP/1.1 400 Bad Request');
});

test('a host and path already served, a missing host, and an unknown config key fail the start, naming the problem', async () => {
  const taken = await start('dup', httpWorkload('http-hello', { host: 'alias.test' }));
  assert.equal(taken.state, 'WORKLOAD_STATE_ERROR');
  assert.match(taken.message, /host "alias.test" path "\/" is already served by workload a/);
  const missing = await start('nohost', httpWorkload('http-hello', {}));
  assert.match(missing.message, /host router needs a "host"/);
  const unknown = await start('typo', httpWorkload('http-hello', { host: 'c.test', hots: 'x' }));
  assert.match(unknown.message, /unknown config key "hots"/);
  const badTimeout = await start('badtimeout', httpWorkload('http-hello', { host: 'c.test', 'request-timeout': 'soon' }));
  assert.match(badTimeout.message, /request-timeout: "soon" is not a duration/);
  const tooLong = await start('longtimeout', httpWorkload('http-hello', { host: 'c.test', 'request-timeout': '30d' }));
  assert.match(tooLong.message, /request-timeout: "30d" is longer than 24 days, the longest Node can time/);
  const longQueue = await start('longqueue', httpWorkload('http-hello', { host: 'c.test', 'queue-timeout': '2147483648' }));
  assert.match(longQueue.message, /queue-timeout: "2147483648" is longer than 24 days/);
  assert.deepEqual(await get('alias.test'), { status: 200, body: 'hello' }, 'the running workload is untouched');
  assert.equal((await get('c.test')).status, 404, 'nothing was left registered');
});

test('two components exporting incoming-handler make the entry ambiguous: the start fails', async () => {
  const both = await start(
    'two',
    httpWorkload('http-hello', { host: 'd.test' }, [
      { name: 'one', file: fixturePath('http-hello') },
      { name: 'two', file: fixturePath('http-test') },
    ]),
  );
  assert.equal(both.state, 'WORKLOAD_STATE_ERROR');
  assert.match(both.message, /more than one component exports wasi:http\/incoming-handler \("one", "two"\)/);
  assert.equal((await get('d.test')).status, 404);
});

test('TLS: given a certificate and key, the server speaks HTTPS', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmhost-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  } catch {
    return t.skip('openssl is not installed: cannot make a test certificate');
  }
  const cert = readFileSync(join(dir, 'cert.pem'));
  const tls = new HttpServer({ address: '127.0.0.1:0', tls: { cert, key: readFileSync(join(dir, 'key.pem')) } });
  const tlsHost = new HostBuilder().withEngine(engine).withHttpHandler(tls).withLogger(memoryLogger().logger).build();
  await tlsHost.start();
  try {
    await tlsHost.workloadStart({ workloadId: 'tls', workload: httpWorkload('http-test', {}) });
    assert.equal(tls.url.protocol, 'https:');
    const body = await new Promise<string>((resolve, reject) => {
      httpsRequest({ host: '127.0.0.1', port: tls.port, path: '/headers', servername: 'localhost', ca: cert, checkServerIdentity: () => undefined }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    assert.equal(JSON.parse(body).request.scheme, 'HTTPS', 'the guest sees the scheme');
  } finally {
    await tlsHost.stop();
  }
});
