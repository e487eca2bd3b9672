// The outgoing handler on its own, as a guest drives it (through the wasi:http resources), against
// real local servers: streaming both ways, allowedHosts, error codes, timeouts from request-options.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { AllowedHosts } from '../../src/http/allowed-hosts.ts';
import { OutgoingHttp } from '../../src/http/outgoing.ts';
import { IncomingBody, OutgoingBody } from '../../src/http/types/body.ts';
import { Fields } from '../../src/http/types/fields.ts';
import { OutgoingRequest, RequestOptions, type FutureIncomingResponse, type IncomingResponse } from '../../src/http/types/messages.ts';

const logger = pino({ level: 'silent' });
const outgoing = new OutgoingHttp();
let server: Server;
let port: number;

before(async () => {
  server = createServer(async (req, res) => {
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
    if (req.url === '/echo') {
      res.writeHead(200, { 'x-method': req.method ?? '' });
      for await (const chunk of req) res.write(chunk);
      return void res.end();
    }
    res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-done' });
    res.write('hello ');
    res.addTrailers({ 'x-done': 'yes' });
    res.end('world');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await outgoing.close();
  server.close();
});

function request(path: string, authority = `127.0.0.1:${port}`, method?: string): OutgoingRequest {
  const r = new OutgoingRequest(new Fields());
  r.setScheme({ tag: 'HTTP' });
  r.setAuthority(authority);
  r.setPathWithQuery(path);
  if (method) r.setMethod({ tag: 'post' });
  return r;
}

async function settle(future: FutureIncomingResponse): Promise<IncomingResponse> {
  await future.subscribe().block();
  const got = future.get();
  assert.ok(got && got.tag === 'ok');
  if (got.val.tag === 'err') throw got.val.val;
  return got.val.val;
}

async function readAll(response: IncomingResponse): Promise<{ body: string; trailers: Fields | undefined }> {
  const body = response.consume();
  const stream = body.stream();
  const chunks: Buffer[] = [];
  for (;;) {
    try {
      chunks.push(Buffer.from(await stream.blockingRead(65536n)));
    } catch (err) {
      assert.equal((err as { tag: string }).tag, 'closed');
      break;
    }
  }
  const future = IncomingBody.finish(body);
  await future.subscribe().block();
  const t = future.get();
  assert.ok(t?.tag === 'ok' && t.val.tag === 'ok');
  return { body: Buffer.concat(chunks).toString(), trailers: t.val.val };
}

test('a GET to an allowed host: status, headers, body and trailers', async () => {
  const handler = outgoing.handlerFor(new AllowedHosts(['127.0.0.1']), logger);
  const response = await settle(handler.handle(request('/'), undefined));
  assert.equal(response.status(), 200);
  assert.equal(Buffer.from(response.headers().get('content-type')[0]).toString(), 'text/plain');
  const { body, trailers } = await readAll(response);
  assert.equal(body, 'hello world');
  assert.equal(Buffer.from(trailers!.get('x-done')[0]).toString(), 'yes');
});

test('a request body streams out while the guest writes it, after handle', async () => {
  const handler = outgoing.handlerFor(new AllowedHosts([`127.0.0.1:${port}`]), logger);
  const req = request('/echo', undefined, 'POST');
  const body = req.body();
  const future = handler.handle(req, undefined);
  const stream = body.write();
  const piece = new Uint8Array(64 * 1024).fill(97);
  for (let i = 0; i < 32; i++) await stream.blockingWriteAndFlush(piece); // 2 MiB, never whole in one buffer
  stream[Symbol.dispose]();
  OutgoingBody.finish(body, undefined);
  const response = await settle(future);
  assert.equal(Buffer.from(response.headers().get('x-method')[0]).toString(), 'POST');
  const { body: echoed } = await readAll(response);
  assert.equal(echoed.length, 32 * 64 * 1024);
});

test('hosts not allowed get HTTP-request-denied; an empty list denies all', () => {
  const denied = (allowed: AllowedHosts, authority: string) => {
    try {
      outgoing.handlerFor(allowed, logger).handle(request('/', authority), undefined);
      return 'sent';
    } catch (err) {
      return (err as { tag: string }).tag;
    }
  };
  assert.equal(denied(new AllowedHosts([]), `127.0.0.1:${port}`), 'HTTP-request-denied');
  assert.equal(denied(new AllowedHosts(['127.0.0.1:1']), `127.0.0.1:${port}`), 'HTTP-request-denied');
  assert.equal(denied(new AllowedHosts(['*.example.com']), 'example.com'), 'HTTP-request-denied');
});

test('a refused connection and an unknown name are error codes, not crashes', async () => {
  const handler = outgoing.handlerFor(new AllowedHosts(['*']), logger);
  await assert.rejects(settle(handler.handle(request('/', '127.0.0.1:1'), undefined)), { tag: 'connection-refused' });
  await assert.rejects(settle(handler.handle(request('/', 'no-such-host.invalid'), undefined)), (err: { tag: string }) => err.tag === 'DNS-error');
});

test('first-byte-timeout from request-options ends a slow request with connection-read-timeout', async () => {
  const handler = outgoing.handlerFor(new AllowedHosts(['127.0.0.1']), logger);
  const options = new RequestOptions();
  options.setFirstByteTimeout(200n * 1_000_000n);
  const started = Date.now();
  await assert.rejects(settle(handler.handle(request('/slow'), options)), { tag: 'connection-read-timeout' });
  assert.ok(Date.now() - started < 1900, 'gave up before the server answered');
});

test('a request without an authority, or with a non-HTTP scheme, is refused with its error code', () => {
  const handler = outgoing.handlerFor(new AllowedHosts(['*']), logger);
  const r = new OutgoingRequest(new Fields());
  assert.throws(() => handler.handle(r, undefined), { tag: 'HTTP-request-URI-invalid' });
  r.setAuthority('example.com');
  r.setScheme({ tag: 'other', val: 'ftp' });
  assert.throws(() => handler.handle(r, undefined), { tag: 'HTTP-protocol-error' });
});
