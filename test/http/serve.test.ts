// The HTTP server end to end: a real componentize-js wasi:http component (fixture http-test) in a
// workload on a real host, driven by real HTTP clients (undici's fetch and node:http). Streaming
// both ways, trailers, header rules, failures (trap, exit, no response, stuck guest), outgoing
// requests through allowedHosts, pools, and a graceful stop.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { Host } from '../../src/host/host.ts';
import { HttpServer } from '../../src/http/server.ts';
import { HostBuilder } from '../../src/host/host.ts';
import { fixturePath } from '../fixtures/index.ts';
import { engine, memoryLogger } from '../host/helpers.ts';
import type { ComponentInput, WorkloadInput } from '../../src/workload/types.ts';

let host: Host;
let http: HttpServer;
let base: string;
let upstream: Server;
let upstreamPort: number;

const httpInterface = (config: Record<string, string> = {}) => ({ namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], version: '0.2.12', config });

/** A workload of the http-test component; the host validates it (and fills defaults). */
function workload(name: string, extra: Partial<Omit<ComponentInput, 'name' | 'file' | 'bytes' | 'image'>> = {}, config: Record<string, string> = {}): WorkloadInput {
  return {
    namespace: 'test',
    name,
    witWorld: {
      components: [{ name: 'web', file: fixturePath('http-test'), ...extra }],
      hostInterfaces: [httpInterface(config)],
    },
  };
}

before(async () => {
  upstream = createServer((req, res) => {
    if (req.url === '/teapot') return void res.writeHead(418, { 'x-upstream': 'yes' }).end('short and stout');
    res.writeHead(200);
    req.pipe(res);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamPort = (upstream.address() as AddressInfo).port;

  const { logger } = memoryLogger();
  http = new HttpServer({ address: '127.0.0.1:0', logger });
  host = new HostBuilder().withEngine(engine).withLogger(logger).withHttpHandler(http).withGuestOutput('ignore').build();
  await host.start();
  const status = await host.workloadStart({
    workloadId: 'web',
    workload: workload('web', { localResources: { allowedHosts: [`127.0.0.1:${upstreamPort}`], environment: { GREETING: 'hi' } } }, {}),
  });
  assert.equal(status.workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', status.workloadStatus.message);
  base = http.url.href.replace(/\/$/, '');
});

after(async () => {
  await host.stop();
  upstream.close();
});

test('a GET is answered by the component; a body finished before the guest returns goes out whole, with its length', async () => {
  const res = await fetch(`${base}/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String('hello from js'.length));
  assert.equal(res.headers.get('transfer-encoding'), null);
  assert.equal(await res.text(), 'hello from js');
});

test('a 50 MiB request body streams through the guest and back unchanged', async () => {
  const chunk = Buffer.alloc(1024 * 1024);
  const sent = createHash('sha256');
  let n = 0;
  const body = new Readable({
    read() {
      if (n === 50) return void this.push(null);
      chunk.fill(n++ % 251);
      sent.update(chunk);
      this.push(Buffer.from(chunk));
    },
  });
  const res = await fetch(`${base}/echo`, { method: 'POST', body: Readable.toWeb(body) as ReadableStream, duplex: 'half', headers: { 'content-type': 'application/x-test' } } as RequestInit);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/x-test');
  const received = createHash('sha256');
  let size = 0;
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    received.update(part);
    size += part.length;
  }
  assert.equal(size, 50 * 1024 * 1024);
  assert.equal(received.digest('hex'), sent.digest('hex'));
});

test('headers reach the client before the guest finishes writing the body', async () => {
  const res = await fetch(`${base}/stream?chunks=2&delay=1500`);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert.equal(new TextDecoder().decode(first.value), 'chunk 0\n', 'the first chunk arrives on its own, while the guest sleeps');
  let rest = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
  assert.equal(rest, 'chunk 1\n');
});

test('a large response body streams out', async () => {
  const res = await fetch(`${base}/big?mb=20`);
  assert.equal(res.headers.get('transfer-encoding'), 'chunked', 'streamed, not collected first');
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.equal(bytes.length, 20 * 1024 * 1024);
  assert.ok(bytes.every((b) => b === 0x78));
});

test('request trailers reach the guest and response trailers reach the client', async () => {
  const { body, trailers } = await new Promise<{ body: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
    const req = httpRequest(`${base}/trailers`, { method: 'POST', headers: { trailer: 'x-req' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ body: text, trailers: res.trailers }));
    });
    req.on('error', reject);
    req.write('12345');
    req.addTrailers({ 'x-req': 'from-client' });
    req.end();
  });
  assert.equal(body, 'ok');
  assert.equal(trailers['x-body-bytes'], '5');
  assert.equal(trailers['x-request-trailer'], 'from-client');
});

test('forbidden, invalid and immutable headers are refused with the WIT error', async () => {
  const res = await fetch(`${base}/headers`, { headers: { 'x-custom': 'v1' } });
  type Attempts = Record<string, string>;
  const report = (await res.json()) as {
    forbidden: Record<string, Attempts>;
    invalidName: Attempts;
    invalidValue: Attempts;
    immutable: Attempts;
    request: { headers: Record<string, string[]>; method: string; pathWithQuery: string; authority: string; scheme: string };
  };
  const attempts = (a: Attempts) => [a.fromList, a.set, a.append];
  for (const name of ['connection', 'keep-alive', 'host', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']) {
    assert.deepEqual(attempts(report.forbidden[name]), ['forbidden', 'forbidden', 'forbidden'], name);
  }
  assert.deepEqual(attempts(report.invalidName), ['invalid-syntax', 'invalid-syntax', 'invalid-syntax']);
  assert.deepEqual(attempts(report.invalidValue), ['invalid-syntax', 'invalid-syntax', 'invalid-syntax']);
  assert.deepEqual(report.immutable, { set: 'immutable', append: 'immutable', delete: 'immutable' });
  assert.deepEqual(report.request.headers['x-custom'], ['v1']);
  assert.equal(report.request.method, 'GET');
  assert.equal(report.request.pathWithQuery, '/headers');
  assert.equal(report.request.authority, new URL(base).host);
});

test('a guest that traps answers 500 with an empty body, and the next request succeeds', async () => {
  const [trap, ok] = await Promise.all([fetch(`${base}/trap`), fetch(`${base}/`)]);
  assert.equal(trap.status, 500);
  assert.equal(await trap.text(), '');
  assert.equal(ok.status, 200);
  assert.equal((await fetch(`${base}/`)).status, 200);
});

test('exit in the middle of a request and a handler that never answers are 500s', async () => {
  assert.equal((await fetch(`${base}/exit`)).status, 500);
  assert.equal((await fetch(`${base}/no-response`)).status, 500);
  assert.equal((await fetch(`${base}/`)).status, 200);
});

test('a trap after the headers went out cuts the connection: the client never takes a broken body for a whole one', async () => {
  await assert.rejects(async () => {
    const res = await fetch(`${base}/trap-after-headers`);
    await res.text();
  });
  assert.equal((await fetch(`${base}/`)).status, 200);
});

test('a trap after the response was set, before the guest waited for anything, is a plain 500: nothing had gone out', async () => {
  const res = await fetch(`${base}/trap-after-headers?wait=0`);
  assert.equal(res.status, 500);
  assert.equal(await res.text(), '');
});

test('a stuck guest answers 504 once the request-timeout of its workload passes, and the host goes on', async () => {
  await host.workloadStart({ workloadId: 'stuck', workload: workload('stuck', {}, { 'request-timeout': '500ms' }) });
  try {
    const [stuck, ok] = await Promise.all([fetch(`${base}/stuck`), fetch(`${base}/`)]);
    assert.equal(stuck.status, 504);
    assert.equal(ok.status, 200);
  } finally {
    await host.workloadStop({ workloadId: 'stuck' });
  }
});

test('outgoing requests go to allowed hosts, streamed both ways; others get HTTP-request-denied', async () => {
  const teapot = await fetch(`${base}/fetch?url=${encodeURIComponent(`http://127.0.0.1:${upstreamPort}/teapot`)}`);
  assert.equal(teapot.status, 418);
  assert.equal(await teapot.text(), 'short and stout');
  const echoed = await fetch(`${base}/fetch?url=${encodeURIComponent(`http://127.0.0.1:${upstreamPort}/echo`)}`, { method: 'POST', body: 'ping over the wire' });
  assert.equal(await echoed.text(), 'ping over the wire');
  const denied = await fetch(`${base}/fetch?url=${encodeURIComponent('http://localhost:1/')}`);
  assert.equal(denied.status, 502);
  assert.equal(await denied.text(), 'HTTP-request-denied');
});

test('the guest sees only its own environment', async () => {
  assert.equal(await (await fetch(`${base}/env?name=GREETING`)).text(), 'hi');
  assert.equal((await fetch(`${base}/env?name=HOME`)).status, 404);
  assert.equal((await fetch(`${base}/env?name=PATH`)).status, 404);
});

test('stopping a workload lets requests in flight finish, answers 503 meanwhile, then routes past it', async () => {
  await host.workloadStart({ workloadId: 'stopping', workload: workload('stopping') });
  try {
    const slow = fetch(`${base}/stream?chunks=2&delay=800`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await new Promise((r) => setTimeout(r, 200));
    const stopped = host.workloadStop({ workloadId: 'stopping' });
    let during = 0;
    for (let i = 0; i < 50 && during !== 503; i++) during = (await fetch(`${base}/`)).status;
    assert.equal(during, 503, 'new requests are refused while it stops');
    assert.deepEqual(await slow, { status: 200, body: 'chunk 0\nchunk 1\n' });
    await stopped;
    // The dev router falls back to the workload started before.
    assert.equal((await fetch(`${base}/`)).status, 200);
  } finally {
    await host.workloadStop({ workloadId: 'stopping' });
  }
});

test('instances: fresh per request by default; a pool reuses them, recycles after maxInvocations, and never reuses one that trapped', async () => {
  const counts = async (n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await (await fetch(`${base}/count`)).text());
    return out;
  };
  assert.deepEqual(await counts(3), ['1', '1', '1'], 'the default workload starts every request fresh');
  await host.workloadStart({ workloadId: 'pooled', workload: workload('pooled', { poolSize: 1, maxInvocations: 3 }) });
  try {
    assert.deepEqual(await counts(4), ['1', '2', '3', '1'], 'one warm instance, replaced after 3 requests');
    assert.equal((await fetch(`${base}/trap`)).status, 500);
    assert.deepEqual(await counts(2), ['1', '2'], 'the instance that trapped was dropped');
  } finally {
    await host.workloadStop({ workloadId: 'pooled' });
  }
});

test('max-concurrent-requests: past the cap a request waits up to queue-timeout, then gets 503', async () => {
  await host.workloadStart({ workloadId: 'capped', workload: workload('capped', {}, { 'max-concurrent-requests': '1', 'queue-timeout': '100ms' }) });
  try {
    const slow = fetch(`${base}/stream?chunks=2&delay=600`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 150));
    const turnedAway = await fetch(`${base}/`);
    assert.equal(turnedAway.status, 503);
    assert.equal(turnedAway.headers.get('retry-after'), '1');
    assert.equal(await slow, 'chunk 0\nchunk 1\n', 'the request holding the slot is unaffected');
    assert.equal((await fetch(`${base}/`)).status, 200, 'the slot is free again');
  } finally {
    await host.workloadStop({ workloadId: 'capped' });
  }
});
