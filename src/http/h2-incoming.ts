/**
 * HTTP/2 beside HTTP/1.1, on one port. With TLS, one `node:http2` secure server offers `h2` and
 * `http/1.1` by ALPN (`allowHTTP1`: an HTTP/1.1 client gets Node's own HTTP/1.1 server code). In
 * cleartext, a plain TCP listener reads each connection's first bytes once: the HTTP/2 connection
 * preface (h2c with prior knowledge, what gRPC clients send) hands the socket to an HTTP/2
 * server, anything else to the usual HTTP/1.1 server. So the cost is one sniff per connection,
 * never per request, and HTTP/1.1 requests run exactly the code they ran before.
 *
 * Both kinds of request reach the same handler as Node's `(req, res)` pair: HTTP/2 ones through
 * `node:http2`'s compatibility API, whose objects mirror `IncomingMessage` / `ServerResponse` in
 * everything the exchange uses; `fromHttp2` evens out the few differences.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, createServer as createH2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Server } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface Listeners {
  /** What listens on the port. */
  listener: NetServer;
  /** The server that gets HTTP/1.1 requests (the listener itself with TLS). */
  http1: Server;
  /** The one that gets HTTP/2 connections (the listener itself with TLS). */
  http2: Http2Server;
}

/** The servers for one port: HTTP/1.1 and HTTP/2, with TLS when given a certificate and key. */
export function createListeners(onRequest: RequestHandler, tls: { cert: string | Buffer; key: string | Buffer } | undefined): Listeners {
  const onHttp2Request = (req: Http2ServerRequest, res: Http2ServerResponse) => onRequest(...fromHttp2(req, res));
  if (tls) {
    // One server, two protocols: Node hands HTTP/1.1 requests (ALPN `http/1.1`, or none) to
    // the same 'request' event with real `IncomingMessage`s.
    const server = createSecureServer({ ...tls, allowHTTP1: true }, (req, res) => {
      if (req.httpVersionMajor === 2) onHttp2Request(req, res);
      else onRequest(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    });
    return { listener: server, http1: server as unknown as Server, http2: server as unknown as Http2Server };
  }
  const http1 = createHttpServer(onRequest);
  const http2 = createH2Server(onHttp2Request);
  const listener = createNetServer((socket) => sniff(socket, http1, http2));
  return { listener, http1, http2 };
}

/** Reads until the bytes are the HTTP/2 preface or cannot be, puts them back, and hands the socket on. */
function sniff(socket: Socket, http1: Server, http2: Http2Server): void {
  let seen: Buffer = Buffer.alloc(0);
  const onError = () => socket.destroy();
  // A connection that stays silent is idle as any other: the HTTP/1.1 server's 'timeout' is where
  // the connection guard hears of it.
  const onTimeout = () => http1.emit('timeout', socket);
  const onReadable = () => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) seen = seen.length ? Buffer.concat([seen, chunk]) : chunk;
    const n = Math.min(seen.length, PREFACE.length);
    const h2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (h2 && seen.length < PREFACE.length) return; // a prefix so far: wait for more
    socket.off('readable', onReadable);
    socket.off('error', onError);
    socket.off('timeout', onTimeout);
    if (seen.length) socket.unshift(seen);
    (h2 ? http2 : http1).emit('connection', socket);
  };
  socket.on('error', onError);
  socket.on('timeout', onTimeout);
  socket.on('readable', onReadable);
}

/**
 * An HTTP/2 request and response as the exchange expects them: the headers without HTTP/2's
 * pseudo-headers (method, path, scheme and authority reach the guest as themselves), a `host`
 * header for routing when the client sent only `:authority`, and `destroyed` from the stream.
 */
export function fromHttp2(req: Http2ServerRequest, res: Http2ServerResponse): [IncomingMessage, ServerResponse] {
  const raw = req.rawHeaders;
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!raw[i].startsWith(':')) headers.push(raw[i], raw[i + 1]);
  Object.defineProperty(req, 'rawHeaders', { value: headers });
  if (req.headers.host === undefined && req.authority) req.headers.host = req.authority;
  Object.defineProperty(res, 'destroyed', { get: () => res.stream.destroyed });
  return [req as unknown as IncomingMessage, res as unknown as ServerResponse];
}
