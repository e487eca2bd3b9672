/**
 * One HTTP exchange between Node's server and a guest: the `incoming-request` and
 * `response-outparam` the guest is called with, and what reaches the client whatever the guest
 * does. Headers go out once the guest has set the response and returned or waits for something
 * (it may keep writing the body after). A guest that fails before setting a response yields
 * an empty 500, a stuck one an empty 504, and one that fails after has its connection cut, so
 * the client never takes a broken body for a whole one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readableBody } from './node-body.ts';
import type { ErrorCode } from './types/error-code.ts';
import { Fields } from './types/fields.ts';
import { IncomingRequest, OutgoingResponse, ResponseOutparam } from './types/messages.ts';

/** Bytes up to which a finished body is sent as a string with the head (see `#send`). */
const SMALL_BODY = 4096;

export class Exchange {
  readonly request: IncomingRequest;
  readonly outparam: ResponseOutparam;
  readonly #res: ServerResponse;
  readonly #method: string;
  #response: OutgoingResponse | undefined;
  #answered = false;
  #sent = false;
  /** Whether the guest is only between two time slices (set by the route once it has an invocation). */
  guestBusy: () => boolean = () => false;

  constructor(req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https') {
    this.#res = res;
    this.#method = req.method ?? 'GET';
    this.request = new IncomingRequest({
      method: this.#method,
      pathWithQuery: req.url ?? '/',
      scheme,
      authority: req.headers.host,
      headers: Fields.fromRaw(req.rawHeaders),
      body: () => readableBody(req, () => req.trailers),
    });
    this.outparam = new ResponseOutparam((response) => this.#set(response));
  }

  /** Whether the guest has answered (`response-outparam.set`). */
  get answered(): boolean {
    return this.#answered;
  }

  #set(response: OutgoingResponse | ErrorCode): void {
    if (this.#answered) return; // too late: the request already timed out
    this.#answered = true;
    if (!(response instanceof OutgoingResponse)) return this.status(500);
    this.#response = response;
    // The headers go out when the guest returns or waits (for I/O, for room in the body),
    // whichever comes first: a guest that streams lets the client see them before its body ends,
    // and a busy one suspended between time slices still sends a body it finishes whole.
    setImmediate(this.#sendOnceWaiting);
  }

  readonly #sendOnceWaiting = (): void => {
    if (this.guestBusy()) setImmediate(this.#sendOnceWaiting);
    else this.#send();
  };

  /** Sends the response the guest set: whole, with its length, when its body is finished by now; else streamed. */
  #send(): void {
    const response = this.#response;
    const res = this.#res;
    if (!response || this.#sent || res.destroyed || res.writableEnded) return;
    this.#sent = true;
    const { status, headers, sink } = response.parts();
    const whole = this.#lengthKnowable(status) ? sink.finishedEarly : undefined;
    try {
      if (whole && !headers.has('content-length') && !headers.has('transfer-encoding')) {
        const raw = headers.toRaw();
        raw.push('content-length', String(whole.length));
        res.writeHead(status, raw);
        // A small body as a latin1 string (the same bytes): Node writes it in one piece with the
        // head, where a Buffer goes out through a corked two-chunk writev (measured).
        if (whole.length <= SMALL_BODY) res.end(whole.toString('latin1'), 'latin1');
        else res.end(whole);
        return;
      }
      res.writeHead(status, headers.toRaw());
    } catch {
      // Node refused what the guest set (our Fields checks should make this unreachable).
      res.removeHeader('content-length');
      return this.status(500);
    }
    sink.attach({
      writable: res,
      end: (trailers) => {
        if (trailers) res.addTrailers(trailers.toRecord());
        res.end();
      },
      abort: (reason) => res.destroy(reason),
    });
    if (!res.headersSent && !res.writableEnded) res.flushHeaders();
  }

  /** Whether a body sent whole may carry a content-length (HEAD and bodiless statuses may not). */
  #lengthKnowable(status: number): boolean {
    return this.#method !== 'HEAD' && status >= 200 && status !== 204 && status !== 304;
  }

  /** The guest's `handle` returned: a response it never set is a 500; a body it left open ends here. */
  handlerReturned(): void {
    if (!this.#answered) return this.status(500);
    const sink = this.#response?.parts().sink;
    if (sink && !sink.ended) {
      try {
        sink.finish(undefined);
      } catch {
        // A body shorter than its content-length: `finish` aborted it.
      }
    }
    this.#send();
  }

  /** The guest trapped, exited or failed. */
  failed(): void {
    if (!this.#sent) return this.status(500);
    this.#abort();
  }

  /** The guest ran out of time. */
  timedOut(): void {
    // Nothing sent yet (not answered, or answered but busy ever since): a plain 504.
    if (!this.#sent) return this.status(504);
    this.#abort();
  }

  /** The host has no room for the request now (instances or guest memory at their limit). */
  unavailable(): void {
    if (this.#sent) return this.#abort();
    this.status(503, { 'retry-after': '1' });
  }

  /** An empty response with this status (when nothing was sent yet). */
  status(code: number, extra: Record<string, string> = {}): void {
    this.#answered = true;
    const res = this.#res;
    if (res.headersSent || res.writableEnded) return this.#abort();
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.writeHead(code, { 'content-length': '0', ...extra }).end();
  }

  #abort(): void {
    if (!this.#res.writableFinished) this.#res.destroy();
  }
}

/** An answer the host gives by itself (no route, stopping, overloaded). */
export function plainStatus(res: ServerResponse, code: number, extra: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-length': '0', ...extra }).end();
}
