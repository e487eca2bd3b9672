/**
 * `wasi:http/outgoing-handler` on undici (Node's own HTTP client stack): the request is sent as
 * soon as the guest calls `handle`, its body streams from the guest as it writes, and the
 * response body streams back as the guest reads, its trailers after it. Every destination is
 * checked against the component's `allowedHosts` first; a refusal is the `HTTP-request-denied`
 * error code. HTTPS negotiates HTTP/2 by ALPN; gRPC over plain HTTP goes over HTTP/2 with prior
 * knowledge (h2-outgoing.ts). Every failure is logged with its cause, at warn: the guest sees only
 * an error code, and may turn it into a bare 500.
 */
import { PassThrough } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { outgoingRequest } from '../telemetry/channels.ts';
import { AllowedHosts } from './allowed-hosts.ts';
import { OutgoingAgents, protocolFor } from './h2-outgoing.ts';
import { readableBody } from './node-body.ts';
import { toErrorCode, type ErrorCode } from './types/error-code.ts';
import { Fields } from './types/fields.ts';
import { FutureIncomingResponse, IncomingResponse, methodName, type OutgoingRequest, type RequestOptions } from './types/messages.ts';

const NS_PER_MS = 1_000_000n;

function toMs(ns: bigint | undefined): number | undefined {
  if (ns === undefined) return undefined;
  const ms = Number(ns / NS_PER_MS);
  return Math.max(1, Math.min(ms, 2 ** 31 - 1));
}

/** Outgoing HTTP for the host's components, on agents they share (h2-outgoing.ts). */
export class OutgoingHttp {
  readonly #agents = new OutgoingAgents();

  /** `wasi:http/outgoing-handler` for one component. */
  handlerFor(allowed: AllowedHosts, logger: Logger): { handle: (req: OutgoingRequest, options?: RequestOptions) => FutureIncomingResponse } {
    return { handle: (req, options) => this.#handle(req, options, allowed, logger) };
  }

  #handle(req: OutgoingRequest, options: RequestOptions | undefined, allowed: AllowedHosts, logger: Logger): FutureIncomingResponse {
    const p = req.parts();
    const scheme = p.scheme?.tag ?? 'HTTPS';
    const refuse = (errorCode: ErrorCode, why: string): never => {
      logger.warn({ method: methodName(p.method), authority: p.authority, errorCode: errorCode.tag }, `outgoing HTTP request failed: ${why}`);
      throw errorCode;
    };
    if (scheme === 'other') return refuse({ tag: 'HTTP-protocol-error' }, `scheme "${p.scheme?.tag === 'other' ? p.scheme.val : ''}" is not HTTP`);
    if (p.authority === undefined) return refuse({ tag: 'HTTP-request-URI-invalid' }, 'the request has no authority');
    let url: URL;
    try {
      url = new URL(`${scheme === 'HTTPS' ? 'https' : 'http'}://${p.authority}${p.pathWithQuery ?? '/'}`);
    } catch {
      return refuse({ tag: 'HTTP-request-URI-invalid' }, 'its URL is not valid');
    }
    const port = url.port ? Number(url.port) : scheme === 'HTTPS' ? 443 : 80;
    if (!allowed.allows(url.hostname, port)) {
      logger.warn({ destination: url.host }, 'outgoing HTTP request denied: host not in allowedHosts');
      throw { tag: 'HTTP-request-denied' } satisfies ErrorCode;
    }

    const sink = p.body?.sink;
    let body: Buffer | PassThrough | undefined = sink?.finishedEarly;
    if (sink && !body) {
      const stream = new PassThrough();
      sink.attach({ writable: stream, end: () => stream.end(), abort: (reason) => stream.destroy(reason) });
      body = stream;
    }
    const method = methodName(p.method);
    const headers = p.headers.toRecord();
    const protocol = protocolFor(scheme, p.headers);
    // What a log line says about the request (no query: it may hold secrets).
    const about = { method, destination: url.host, path: url.pathname, protocol };
    const send = () =>
      request(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body: body instanceof Buffer && body.length === 0 ? undefined : body,
        dispatcher: this.#agents.get(protocol, toMs(options?.connect)),
        headersTimeout: toMs(options?.firstByte),
        bodyTimeout: toMs(options?.betweenBytes),
      }).then((res) => {
        res.body.once('error', (err) => logger.warn({ ...about, status: res.statusCode, err, errorCode: toErrorCode(err).tag }, 'outgoing HTTP response body failed'));
        return new IncomingResponse(res.statusCode, Fields.fromRecord(res.headers), readableBody(res.body, () => res.trailers));
      });
    // Telemetry listening: a client span, whose context goes out in `traceparent` (added to `headers` at start).
    const response = outgoingRequest.start.hasSubscribers ? outgoingRequest.tracePromise(send, { method, url, headers }) : send();
    response.catch((err: unknown) => logger.warn({ ...about, err, errorCode: toErrorCode(err).tag }, 'outgoing HTTP request failed'));
    return new FutureIncomingResponse(response);
  }

  async close(): Promise<void> {
    await this.#agents.close();
  }
}
