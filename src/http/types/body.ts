/**
 * `incoming-body`, `outgoing-body` and `future-trailers`. Bodies stream: an incoming body reads
 * from the Node stream as the guest asks; an outgoing body writes straight to its destination
 * once it has one (the response once headers are set, the request once it is sent), with
 * backpressure, and buffers a bounded amount before that.
 */
import type { Writable } from 'node:stream';
import { promisePollable, type Pollable, type Readiness } from '../../wasi/io/poll.ts';
import { WritableSink } from '../../wasi/io/pipes.ts';
import { InputStream, OutputStream, StreamClosed, type InputSource, type OutputSink } from '../../wasi/io/streams.ts';
import { HttpError, toErrorCode, type ErrorCode } from './error-code.ts';
import type { Fields } from './fields.ts';

/** `result` errors with no payload are thrown as `undefined` (jco's convention). */
export const NO_PAYLOAD = undefined;

/**
 * A value that arrives later (`future-trailers`, `future-incoming-response`): `get` answers
 * nothing until it settles, then the result once, then an error.
 */
export class Later<T> {
  #state: { s: 'pending' } | { s: 'ok'; v: T } | { s: 'err'; e: ErrorCode } | { s: 'taken' } = { s: 'pending' };
  readonly #settled: Promise<unknown>;

  constructor(promise: Promise<T>) {
    this.#settled = promise.then(
      (v) => void (this.#state = { s: 'ok', v }),
      (e) => void (this.#state = { s: 'err', e: toErrorCode(e) }),
    );
  }

  subscribe(): Pollable {
    return promisePollable(this.#settled);
  }

  /** `option<result<result<T, error-code>>>` in jco's shape. */
  get(): { tag: 'ok'; val: { tag: 'ok'; val: T } | { tag: 'err'; val: ErrorCode } } | { tag: 'err'; val: undefined } | undefined {
    const state = this.#state;
    if (state.s === 'pending') return undefined;
    if (state.s === 'taken') return { tag: 'err', val: undefined };
    this.#state = { s: 'taken' };
    return state.s === 'ok' ? { tag: 'ok', val: { tag: 'ok', val: state.v } } : { tag: 'ok', val: { tag: 'err', val: state.e } };
  }
}

export class FutureTrailers {
  readonly #later: Later<Fields | undefined>;
  constructor(trailers: Promise<Fields | undefined>) {
    this.#later = new Later(trailers);
  }
  subscribe(): Pollable {
    return this.#later.subscribe();
  }
  get() {
    return this.#later.get();
  }
}

/** Where an incoming body's bytes and trailers come from. */
export interface IncomingBodySource {
  source: InputSource;
  /** Resolves once the body has ended (undefined when there were none). */
  trailers: Promise<Fields | undefined>;
  /** Reads and discards what the guest did not read, so the trailers can arrive. */
  drain(): void;
}

export class IncomingBody {
  readonly #body: IncomingBodySource;
  #streamTaken = false;

  constructor(body: IncomingBodySource) {
    this.#body = body;
  }

  stream(): InputStream {
    if (this.#streamTaken) throw NO_PAYLOAD;
    this.#streamTaken = true;
    return new InputStream(this.#body.source);
  }

  static finish(body: IncomingBody): FutureTrailers {
    body.#body.drain();
    return new FutureTrailers(body.#body.trailers);
  }
}

/** Where an outgoing body ends up once it has a destination. */
export interface BodyTarget {
  readonly writable: Writable;
  /** The guest finished the body (with trailers, if any). */
  end(trailers: Fields | undefined): void;
  /** The body cannot be completed (dropped unfinished, wrong length): the peer must not take it as whole. */
  abort(reason: Error): void;
}

/** Bytes an outgoing body holds before it has a destination. */
const PENDING_LIMIT = 1024 * 1024;
const WINDOW = 64 * 1024;

/**
 * The sink behind an outgoing body's output stream: buffered (bounded) until `attach`, then
 * written straight to the target with its backpressure.
 */
export class BodySink implements OutputSink {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #direct: WritableSink | undefined;
  #target: BodyTarget | undefined;
  #ending: { trailers: Fields | undefined } | { abort: Error } | undefined;
  /** Made only when a guest waits for room before the body has a destination (most never do). */
  #attached: Promise<void> | undefined;
  #resolveAttached: (() => void) | undefined;
  #written = 0;
  readonly #expected: number | undefined;
  readonly #sizeError: 'HTTP-request-body-size' | 'HTTP-response-body-size';
  readonly readiness: Readiness;

  constructor(expectedLength: number | undefined, kind: 'request' | 'response') {
    this.#expected = expectedLength;
    this.#sizeError = kind === 'request' ? 'HTTP-request-body-size' : 'HTTP-response-body-size';
    this.readiness = {
      ready: () => (this.#direct ? this.#direct.readiness.ready() : this.#pendingBytes < PENDING_LIMIT),
      wait: (signal) => (this.#direct ? this.#direct.readiness.wait(signal) : (this.#attached ??= new Promise((resolve) => (this.#resolveAttached = resolve)))),
    };
  }

  get written(): number {
    return this.#written;
  }

  /** Everything written, when the body finished, without trailers, before it had a destination (a small body). */
  get finishedEarly(): Buffer | undefined {
    const ending = this.#ending;
    if (this.#target || !ending || !('trailers' in ending) || ending.trailers) return undefined;
    return this.#pending.length === 1 ? this.#pending[0] : Buffer.concat(this.#pending);
  }

  attach(target: BodyTarget): void {
    this.#target = target;
    this.#direct = new WritableSink(target.writable);
    for (const chunk of this.#pending.splice(0)) target.writable.write(chunk);
    this.#pendingBytes = 0;
    this.#resolveAttached?.();
    const ending = this.#ending;
    if (ending) 'abort' in ending ? target.abort(ending.abort) : target.end(ending.trailers);
  }

  checkWrite(): number {
    if (this.#ending) throw new StreamClosed('body is finished');
    if (this.#direct) return this.#direct.checkWrite();
    return Math.min(WINDOW, PENDING_LIMIT - this.#pendingBytes);
  }

  write(bytes: Uint8Array): void {
    this.checkWrite();
    this.#written += bytes.length;
    if (this.#expected !== undefined && this.#written > this.#expected) {
      throw new HttpError({ tag: this.#sizeError, val: BigInt(this.#written) }, `body longer than its content-length of ${this.#expected}`);
    }
    if (this.#direct) return this.#direct.write(bytes);
    this.#pending.push(Buffer.from(bytes));
    this.#pendingBytes += bytes.length;
  }

  flush(): void | Promise<void> {
    return this.#direct?.flush();
  }

  /** `outgoing-body.finish`: checks the length, then ends the destination with the trailers. */
  finish(trailers: Fields | undefined): void {
    if (this.#ending) return;
    if (this.#expected !== undefined && this.#written !== this.#expected) {
      const code: ErrorCode = { tag: this.#sizeError, val: BigInt(this.#written) };
      this.abort(new HttpError(code, `body of ${this.#written} bytes does not match its content-length of ${this.#expected}`));
      throw code;
    }
    this.#ending = { trailers };
    this.#target?.end(trailers);
  }

  abort(reason: Error): void {
    if (this.#ending) return;
    this.#ending = { abort: reason };
    this.#target?.abort(reason);
  }

  get ended(): boolean {
    return this.#ending !== undefined;
  }
}

export class OutgoingBody {
  readonly sink: BodySink;
  #streamTaken = false;

  /** @internal */
  constructor(sink: BodySink) {
    this.sink = sink;
  }

  write(): OutputStream {
    if (this.#streamTaken || this.sink.ended) throw NO_PAYLOAD;
    this.#streamTaken = true;
    return new OutputStream(this.sink);
  }

  static finish(body: OutgoingBody, trailers: Fields | undefined): void {
    body.sink.finish(trailers);
  }

  /** Dropped without `finish`: the message is incomplete and must not look whole to the peer. */
  [Symbol.dispose](): void {
    this.sink.abort(new HttpError({ tag: 'HTTP-response-incomplete' }, 'outgoing body dropped before finish'));
  }
}
