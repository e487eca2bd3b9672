import type { Readable, Writable } from 'node:stream';
import { ALWAYS_READY, type Readiness } from './poll.ts';
import { StreamClosed, type InputSource, type OutputSink } from './streams.ts';
import { TurnBudget } from './turn-budget.ts';

/** The chunk size a sink offers when it has room. */
const WRITE_WINDOW = 64 * 1024;

/** Fixed bytes, then end of stream. */
export class BytesSource implements InputSource {
  #data: Uint8Array;
  readonly readiness = ALWAYS_READY;
  constructor(data: Uint8Array) {
    this.#data = data;
  }
  read(max: number): Uint8Array | null {
    if (this.#data.length === 0) return max === 0 ? new Uint8Array(0) : null;
    const out = this.#data.slice(0, max);
    this.#data = this.#data.subarray(out.length);
    return out;
  }
}

/** A Node readable stream, read in paused mode. Listeners are attached only while someone waits. */
export class ReadableSource implements InputSource {
  readonly #stream: Readable;
  #ended = false;
  readonly #budget = new TurnBudget();
  readonly readiness: Readiness;

  constructor(stream: Readable) {
    this.#stream = stream;
    this.#ended = stream.readableEnded;
    if (!this.#ended) stream.once('end', () => (this.#ended = true));
    this.readiness = {
      ready: () => !this.#budget.exhausted && (this.#ended || this.#stream.readableLength > 0 || this.#stream.destroyed),
      wait: (signal) => (this.#budget.exhausted ? this.#budget.nextTurn() : this.#wait(signal)),
    };
  }

  read(max: number): Uint8Array | null {
    if (max === 0) return new Uint8Array(0);
    // Its burst is over: nothing more until the next turn (the guest waits on its pollable).
    if (this.#budget.exhausted) return new Uint8Array(0);
    const chunk = this.#stream.read(Math.min(max, this.#stream.readableLength || max)) as Buffer | string | null;
    if (chunk === null) {
      if (this.#ended || this.#stream.readableEnded || this.#stream.destroyed) return null;
      return new Uint8Array(0);
    }
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.#budget.spend(buf.byteLength);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  #wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const s = this.#stream;
      const done = () => {
        s.off('readable', done).off('end', done).off('close', done).off('error', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      if (this.readiness.ready() || signal.aborted) return resolve();
      s.on('readable', done).on('end', done).on('close', done).on('error', done);
      signal.addEventListener('abort', done, { once: true });
      // Paused-mode streams only fill their buffer after a read() call.
      s.read(0);
    });
  }
}

/** A Node writable stream; honours backpressure through `writableNeedDrain`. */
export class WritableSink implements OutputSink {
  readonly #stream: Writable;
  readonly #budget = new TurnBudget();
  readonly readiness: Readiness;

  constructor(stream: Writable) {
    this.#stream = stream;
    this.readiness = {
      ready: () => (!stream.writableNeedDrain && !this.#budget.exhausted) || stream.destroyed,
      wait: (signal) => (this.#budget.exhausted && !stream.writableNeedDrain ? this.#budget.nextTurn() : this.#drain(signal)),
    };
  }

  checkWrite(): number {
    if (this.#stream.destroyed || this.#stream.writableEnded) throw new StreamClosed('stream is closed');
    if (this.#stream.errored) throw this.#stream.errored;
    return this.#stream.writableNeedDrain || this.#budget.exhausted ? 0 : WRITE_WINDOW;
  }

  write(bytes: Uint8Array): void {
    this.checkWrite();
    this.#budget.spend(bytes.length);
    // Copy: the guest's memory may change once the call returns.
    this.#stream.write(Buffer.from(bytes));
  }

  flush(): void | Promise<void> {
    if (this.#stream.writableNeedDrain) return this.#drain(new AbortController().signal);
    // A burst over: the flush completes on the next turn, when others have had theirs.
    if (this.#budget.exhausted) return this.#budget.nextTurn();
  }

  #drain(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const s = this.#stream;
      if (!s.writableNeedDrain || s.destroyed || signal.aborted) return resolve();
      const done = () => {
        s.off('drain', done).off('close', done).off('error', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      s.on('drain', done).on('close', done).on('error', done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** Collects everything written, up to `limit` bytes (past it, writes fail). */
export class MemorySink implements OutputSink {
  readonly chunks: Buffer[] = [];
  #size = 0;
  readonly #limit: number;
  readonly readiness = ALWAYS_READY;

  constructor(limit = Number.MAX_SAFE_INTEGER) {
    this.#limit = limit;
  }

  checkWrite(): number {
    if (this.#size >= this.#limit) failFull(this.#limit);
    return Math.min(WRITE_WINDOW, this.#limit - this.#size);
  }

  write(bytes: Uint8Array): void {
    if (this.#size + bytes.length > this.#limit) failFull(this.#limit);
    this.chunks.push(Buffer.from(bytes));
    this.#size += bytes.length;
  }

  flush(): void {}

  get size(): number {
    return this.#size;
  }

  contents(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function failFull(limit: number): never {
  throw new Error(`output capture limit of ${limit} bytes reached`);
}

/** Discards everything. */
export class NullSink implements OutputSink {
  readonly readiness = ALWAYS_READY;
  checkWrite(): number {
    return WRITE_WINDOW;
  }
  write(): void {}
  flush(): void {}
}

/** A callback per chunk (the embedder's own sink). */
export class CallbackSink implements OutputSink {
  readonly readiness = ALWAYS_READY;
  readonly #fn: (chunk: Uint8Array) => void;
  constructor(fn: (chunk: Uint8Array) => void) {
    this.#fn = fn;
  }
  checkWrite(): number {
    return WRITE_WINDOW;
  }
  write(bytes: Uint8Array): void {
    this.#fn(bytes.slice());
  }
  flush(): void {}
}
