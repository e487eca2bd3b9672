// HTTP/2 in and out, as gRPC needs it, with real servers and clients (node:http2) on both sides of
// a real componentize-js guest (fixture http-test): its gRPC-style call out over h2c and over TLS
// with ALPN (checked from the server side), gRPC-style requests served over h2c and over TLS h2
// with trailers, HTTP/1.1 still served on the same port, and the bad paths (a stream reset, a
// server that does not speak HTTP/2) with their error codes and log lines.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttp1Server, type Server as Http1Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, constants, createSecureServer, createServer as createH2Server, type Http2SecureServer, type Http2Server, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import type { Logger } from 'pino';
import { HostBuilder, type Host } from '../../src/host/host.ts';
import { HttpServer } from '../../src/http/server.ts';
import { fixturePath } from '../fixtures/index.ts';
import { engine, memoryLogger } from '../host/helpers.ts';

/** gRPC's framing: flag byte 0, big-endian u32 length, the message. */
function frame(message: string): Buffer {
  const bytes = Buffer.from(message);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

function unframe(body: Buffer): string {
  return body.subarray(5, 5 + body.readUInt32BE(1)).toString();
}

const port = (server: { address(): unknown }) => (server.address() as AddressInfo).port;

async function listen<T extends { listen(port: number, host: string, cb: () => void): unknown }>(server: T): Promise<T> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** What an upstream gRPC server saw of a call. */
interface Seen {
  httpVersion: string;
  alpn: string | false | undefined;
  headers: IncomingHttpHeaders;
  message: string;
}

/** A gRPC-style upstream: answers `hello, <message>` framed, with grpc-status 0 in the trailers. */
function grpcUpstream(server: Http2Server | Http2SecureServer, seen: Seen[]): void {
  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ httpVersion: req.httpVersion, alpn: req.stream.session?.alpnProtocol, headers: req.headers, message: unframe(Buffer.concat(chunks)) });
      res.writeHead(200, { 'content-type': 'application/grpc' });
      res.addTrailers({ 'grpc-status': '0', 'grpc-message': 'all good' });
      res.end(frame(`hello, ${unframe(Buffer.concat(chunks))}`));
    });
  });
}

/** A self-signed certificate for 127.0.0.1 and localhost (openssl). */
async function certificate(): Promise<{ cert: Buffer; key: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-h2-'));
  try {
    await new Promise<void>((resolve, reject) =>
      execFile(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    return { cert: await readFile(join(dir, 'cert.pem')), key: await readFile(join(dir, 'key.pem')) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An HTTP/2 request with a node:http2 client: status, headers, body and trailers. */
function h2Request(
  origin: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  options: { ca?: Buffer } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer; trailers: IncomingHttpHeaders | undefined; alpn: string | undefined }> {
  return new Promise((resolve, reject) => {
    const session = connect(origin, options);
    session.on('error', reject);
    const stream = session.request(headers);
    let response: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (response = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('end', () => {
      const alpn = session.alpnProtocol;
      session.close();
      resolve({ status: Number(response[':status']), headers: response, body: Buffer.concat(chunks), trailers, alpn });
    });
    stream.end(body);
  });
}

const grpcHeaders = (path: string) => ({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });

let tlsMaterial: { cert: Buffer; key: Buffer };
let hosts: Host[] = [];
let plain: HttpServer;
let secure: HttpServer;
let entries: Array<Record<string, unknown>>;
const seenH2c: Seen[] = [];
const seenTls: Seen[] = [];
let h2cUpstream: Http2Server;
let tlsUpstream: Http2SecureServer;
let resetting: Http2Server;
let http1Only: Http1Server;

before(async () => {
  tlsMaterial = await certificate();
  // The guest's HTTPS client trusts what the process trusts: add the test certificate.
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), tlsMaterial.cert.toString()]);

  h2cUpstream = createH2Server();
  grpcUpstream(h2cUpstream, seenH2c);
  tlsUpstream = createSecureServer({ ...tlsMaterial, allowHTTP1: true });
  grpcUpstream(tlsUpstream, seenTls);
  resetting = createH2Server();
  resetting.on('stream', (stream) => {
    stream.on('error', () => {}); // its own reset, reported on this side too
    stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  });
  http1Only = createHttp1Server((_req, res) => res.end('HTTP/1.1 only'));
  await Promise.all([listen(h2cUpstream), listen(tlsUpstream), listen(resetting), listen(http1Only)]);

  const memory = memoryLogger();
  entries = memory.entries as unknown as Array<Record<string, unknown>>;
  plain = new HttpServer({ address: '127.0.0.1:0', logger: memory.logger });
  secure = new HttpServer({ address: '127.0.0.1:0', logger: memory.logger, tls: tlsMaterial });
  hosts = await Promise.all([plain, secure].map((http) => startHost(http, memory.logger)));
});

/** A host serving the http-test workload through `http`. */
async function startHost(http: HttpServer, logger: Logger): Promise<Host> {
  const host = new HostBuilder().withEngine(engine).withLogger(logger).withHttpHandler(http).withGuestOutput('ignore').build();
  await host.start();
  const status = await host.workloadStart({
    workloadId: 'grpc',
    workload: {
      namespace: 'test',
      name: 'grpc',
      witWorld: {
        components: [{ name: 'web', file: fixturePath('http-test'), localResources: { allowedHosts: ['127.0.0.1'] } }],
        hostInterfaces: [{ namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], version: '0.2.12', config: {} }],
      },
    },
  });
  assert.equal(status.workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', status.workloadStatus.message);
  return host;
}

after(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  for (const s of [h2cUpstream, tlsUpstream, resetting, http1Only]) s?.close();
});

/** Has the guest call `url` gRPC-style (through the HTTP/1.1 front door) and returns what it saw. */
async function guestCall(url: string, message: string): Promise<{ status: number; json: Record<string, unknown> | undefined; text: string }> {
  const res = await fetch(`${plain.url.href}grpc-call?url=${encodeURIComponent(url)}&message=${encodeURIComponent(message)}`, { method: 'POST' });
  const text = await res.text();
  return { status: res.status, json: res.status === 200 ? (JSON.parse(text) as Record<string, unknown>) : undefined, text };
}

describe('outgoing', () => {
  test('a gRPC call over http:// goes over HTTP/2 with prior knowledge; the reply and grpc-status (a trailer) reach the guest', async () => {
    const before = seenH2c.length;
    const { status, json } = await guestCall(`http://127.0.0.1:${port(h2cUpstream)}/test.Greeter/Hello`, 'guest');
    assert.equal(status, 200);
    assert.deepEqual(json, { status: 200, contentType: 'application/grpc', reply: 'hello, guest', grpcStatus: '0', grpcMessage: 'all good', trailersError: null });
    const seen = seenH2c.slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].httpVersion, '2.0');
    assert.equal(seen[0].alpn, 'h2c');
    assert.equal(seen[0].message, 'guest');
    assert.equal(seen[0].headers['content-type'], 'application/grpc');
    assert.equal(seen[0].headers.te, 'trailers');
  });

  test('a gRPC call over https:// negotiates h2 by ALPN', async () => {
    const before = seenTls.length;
    const { status, json } = await guestCall(`https://127.0.0.1:${port(tlsUpstream)}/test.Greeter/Hello`, 'over tls');
    assert.equal(status, 200);
    assert.deepEqual(json, { status: 200, contentType: 'application/grpc', reply: 'hello, over tls', grpcStatus: '0', grpcMessage: 'all good', trailersError: null });
    const seen = seenTls.slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].httpVersion, '2.0');
    assert.equal(seen[0].alpn, 'h2');
  });

  test('an HTTP/2 server that resets the stream: HTTP-protocol-error for the guest, and a log line with the cause', async () => {
    const { status, text } = await guestCall(`http://127.0.0.1:${port(resetting)}/test.Greeter/Hello`, 'x');
    assert.equal(status, 502);
    assert.equal(text, 'HTTP-protocol-error');
    const line = entries.find((e) => e.msg === 'outgoing HTTP request failed' && e.destination === `127.0.0.1:${port(resetting)}`);
    assert.ok(line, 'the failure is logged');
    assert.equal(line.level, 40); // warn
    assert.equal(line.errorCode, 'HTTP-protocol-error');
    assert.equal(line.protocol, 'h2c');
    assert.equal(line.path, '/test.Greeter/Hello');
    assert.match(JSON.stringify(line.err), /NGHTTP2_INTERNAL_ERROR|stream/i);
  });

  test('a gRPC call to a server that does not speak HTTP/2: a clear error code, logged with its cause', async () => {
    const { status, text } = await guestCall(`http://127.0.0.1:${port(http1Only)}/test.Greeter/Hello`, 'x');
    assert.equal(status, 502);
    assert.equal(text, 'HTTP-protocol-error');
    const line = entries.find((e) => e.msg === 'outgoing HTTP request failed' && e.destination === `127.0.0.1:${port(http1Only)}`);
    assert.ok(line, 'the failure is logged');
    assert.equal(line.errorCode, 'HTTP-protocol-error');
    assert.ok(line.err, 'with the error that caused it');
  });

  test('first-byte-timeout from request-options holds on the HTTP/2 path too', async () => {
    const silent = await listen(createH2Server());
    silent.on('stream', (stream) => stream.on('error', () => {})); // never answers
    try {
      const url = `http://127.0.0.1:${port(silent)}/test.Greeter/Slow`;
      const started = Date.now();
      const res = await fetch(`${plain.url.href}fetch?url=${encodeURIComponent(url)}&timeout-ms=300`, { method: 'POST', headers: { 'content-type': 'application/grpc' }, body: new Uint8Array(frame('x')) });
      assert.equal(res.status, 502);
      assert.equal(await res.text(), 'connection-read-timeout');
      assert.ok(Date.now() - started < 5000);
      const line = entries.find((e) => e.msg === 'outgoing HTTP request failed' && e.destination === `127.0.0.1:${port(silent)}`);
      assert.equal(line?.protocol, 'h2c');
    } finally {
      silent.close();
    }
  });

  test('a refused connection is logged too', async () => {
    const closed = await listen(createHttp1Server());
    const deadPort = port(closed);
    await new Promise((resolve) => closed.close(resolve));
    const { status, text } = await guestCall(`http://127.0.0.1:${deadPort}/x`, 'x');
    assert.equal(status, 502);
    assert.equal(text, 'connection-refused');
    const line = entries.find((e) => e.msg === 'outgoing HTTP request failed' && e.destination === `127.0.0.1:${deadPort}`);
    assert.equal(line?.errorCode, 'connection-refused');
  });
});

describe('incoming', () => {
  test('an h2c request (prior knowledge) is served by the guest, trailers and all', async () => {
    const res = await h2Request(`http://127.0.0.1:${plain.port}`, grpcHeaders('/grpc.test.Reverser/Reverse'), frame('stressed'));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/grpc');
    assert.equal(unframe(res.body), 'desserts');
    assert.equal(res.trailers?.['grpc-status'], '0');
    assert.equal(res.trailers?.['grpc-message'], 'reversed');
  });

  test('over h2c the guest sees method, path, authority and scheme, and headers without pseudo-headers', async () => {
    const authority = `127.0.0.1:${plain.port}`;
    const res = await h2Request(`http://${authority}`, { ':path': '/headers?x=1', 'x-custom': 'yes' }, undefined);
    assert.equal(res.status, 200);
    const { request } = JSON.parse(res.body.toString()) as { request: { method: string; pathWithQuery: string; authority: string; scheme: string; headers: Record<string, string[]> } };
    assert.equal(request.method, 'GET');
    assert.equal(request.pathWithQuery, '/headers?x=1');
    assert.equal(request.authority, authority);
    assert.equal(request.scheme, 'HTTP');
    assert.deepEqual(request.headers['x-custom'], ['yes']);
    assert.deepEqual(Object.keys(request.headers).filter((name) => name.startsWith(':')), []);
  });

  test('HTTP/1.1 is still served on the same port, keep-alive and all', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${plain.url.href}`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'hello from js');
    }
    const echoed = await fetch(`${plain.url.href}echo`, { method: 'POST', body: 'PRI * HTTP/2.0 is only a body here' });
    assert.equal(await echoed.text(), 'PRI * HTTP/2.0 is only a body here');
  });

  test('a TLS h2 request (ALPN) is served by the guest, trailers and all', async () => {
    const res = await h2Request(`https://127.0.0.1:${secure.port}`, grpcHeaders('/grpc.test.Reverser/Reverse'), frame('tls'), { ca: tlsMaterial.cert });
    assert.equal(res.alpn, 'h2');
    assert.equal(res.status, 200);
    assert.equal(unframe(res.body), 'slt');
    assert.equal(res.trailers?.['grpc-status'], '0');
  });

  test('HTTP/1.1 over TLS is still served on the TLS port', async () => {
    const { status, body, alpn } = await new Promise<{ status: number; body: string; alpn: string | false | null }>((resolve, reject) => {
      const req = httpsRequest(`https://127.0.0.1:${secure.port}/`, { ca: tlsMaterial.cert }, (res) => {
        const alpn = (res.socket as tls.TLSSocket).alpnProtocol;
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text, alpn }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200);
    assert.equal(body, 'hello from js');
    assert.equal(alpn, false); // Node's https client offers no ALPN: the server falls back to HTTP/1.1
  });

  test('gRPC both ways: the guest calls the host itself over h2c, and its own service answers', async () => {
    const { status, json } = await guestCall(`http://127.0.0.1:${plain.port}/grpc.test.Reverser/Reverse`, 'loop');
    assert.equal(status, 200);
    assert.deepEqual(json, { status: 200, contentType: 'application/grpc', reply: 'pool', grpcStatus: '0', grpcMessage: 'reversed', trailersError: null });
  });
});
