// An incoming body read from a Node request, made only when the guest consumes it (so requests
// whose body nobody reads cost no listeners): made after the body ended it still reads to its
// end and yields the trailers; made after the client cut the body off it fails as
// connection-terminated. Real server, real client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readableBody } from '../../src/http/node-body.ts';
import type { HttpError } from '../../src/http/types/error-code.ts';

/** Serves one request with `handle`, sent by `send`; resolves with what `handle` resolves. */
async function oneRequest<T>(handle: (req: IncomingMessage) => Promise<T>, send: (port: number) => void): Promise<T> {
  let result!: Promise<T>;
  const server = createServer((req, res) => {
    result = handle(req);
    result.finally(() => res.end('done')).catch(() => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const served = new Promise<void>((resolve) => server.once('request', () => resolve()));
  send((server.address() as AddressInfo).port);
  await served;
  try {
    return await result;
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

test('a body made after the request ended reads as ended and yields its trailers', async () => {
  const outcome = await oneRequest(
    async (req) => {
      req.resume(); // someone else drained it first
      await new Promise((resolve) => req.once('end', resolve));
      const body = readableBody(req, () => req.trailers);
      assert.equal(body.source.read(100), null, 'end of stream at once');
      assert.ok(body.source.readiness.ready());
      return (await body.trailers)?.first('x-t');
    },
    (port) => {
      const req = request({ port, method: 'POST', headers: { trailer: 'x-t' } }, (res) => res.resume());
      req.write('abc');
      req.addTrailers({ 'x-t': 'yes' });
      req.end();
    },
  );
  assert.equal(outcome, 'yes');
});

test('a body made after the client cut it off fails as connection-terminated', async () => {
  const outcome = await oneRequest(
    async (req) => {
      await new Promise((resolve) => req.once('close', resolve));
      const body = readableBody(req, () => req.trailers);
      return body.trailers.then(
        () => 'resolved',
        (err: HttpError) => err.errorCode?.tag,
      );
    },
    (port) => {
      const req = request({ port, method: 'POST', headers: { 'content-length': '100' } });
      req.on('error', () => {});
      req.write('only part of it');
      setTimeout(() => req.destroy(), 50);
    },
  );
  assert.equal(outcome, 'connection-terminated');
});
