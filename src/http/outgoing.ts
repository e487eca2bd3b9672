/**
 * `wasi:http/outgoing-handler` on undici (Node's own HTTP client stack): the request is sent as
 * soon as the guest calls `handle`, its body streams from the guest as it writes, and the
 * response body streams back as the guest reads. Every destination is checked against the
 * component's `allowedHosts` first; a refusal is the `HTTP-request-denied` error code.
 */
import { PassThrough } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { outgoingRequest } from '../telemetry/channels.ts';
import { AllowedHosts } from './allowed-hosts.ts';
import { readableBody } from './node-body.ts';
import type { ErrorCode } from './types/error-code.ts';
import { Fields } from './types/fields.ts';
import { FutureIncomingResponse, IncomingResponse, methodName, type OutgoingRequest, type RequestOptions } from './types/messages.ts';

const NS_PER_MS = 1_000_000n;

function toMs(ns: bigint | undefined): number | undefined {
  if (ns === undefined) return undefined;
  const ms = Number(ns / NS_PER_MS);
  return Math.max(1, Math.min(ms, 2 ** 31 - 1));
}

/** The undici agents the host's components share, one per distinct connect timeout. */
export class OutgoingHttp {
  readonly #agents = new Map<number | undefined, Agent>();

  #agent(connectTimeoutMs: number | undefined): Dispatcher {
    let agent = this.#agents.get(connectTimeoutMs);
    if (!agent) {
      agent = new Agent(connectTimeoutMs === undefined ? {} : { connect: { timeout: connectTimeoutMs } });
      this.#agents.set(connectTimeoutMs, agent);
    }
    return agent;
  }

  /** `wasi:http/outgoing-handler` for one component. */
  handlerFor(allowed: AllowedHosts, logger: Logger): { handle: (req: OutgoingRequest, options?: RequestOptions) => FutureIncomingResponse } {
    return { handle: (req, options) => this.#handle(req, options, allowed, logger) };
  }

  #handle(req: OutgoingRequest, options: RequestOptions | undefined, allowed: AllowedHosts, logger: Logger): FutureIncomingResponse {
    const p = req.parts();
    const scheme = p.scheme?.tag ?? 'HTTPS';
    if (scheme === 'other') throw { tag: 'HTTP-protocol-error' } satisfies ErrorCode;
    if (p.authority === undefined) throw { tag: 'HTTP-request-URI-invalid' } satisfies ErrorCode;
    let url: URL;
    try {
      url = new URL(`${scheme === 'HTTPS' ? 'https' : 'http'}://${p.authority}${p.pathWithQuery ?? '/'}`);
    } catch {
      throw { tag: 'HTTP-request-URI-invalid' } satisfies ErrorCode;
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
    const send = () =>
      request(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body: body instanceof Buffer && body.length === 0 ? undefined : body,
        dispatcher: this.#agent(toMs(options?.connect)),
        headersTimeout: toMs(options?.firstByte),
        bodyTimeout: toMs(options?.betweenBytes),
      }).then((res) => new IncomingResponse(res.statusCode, Fields.fromRecord(res.headers), readableBody(res.body, () => res.trailers)));
    // Telemetry listening: a client span, whose context goes out in `traceparent` (added to `headers` at start).
    const response = outgoingRequest.start.hasSubscribers ? outgoingRequest.tracePromise(send, { method, url, headers }) : send();
    return new FutureIncomingResponse(response);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#agents.values()].map((a) => a.close()));
    this.#agents.clear();
  }
}
