import { ALWAYS_READY, Pollable, type Readiness } from './poll.ts';
import { IoError } from './error.ts';

/** `wasi:io/streams.stream-error`, thrown (jco's convention for `result` errors) as a plain value. */
export type StreamError = { tag: 'last-operation-failed'; val: IoError } | { tag: 'closed' };

/** Thrown by a source or sink when the other end is gone for good: becomes `closed`. */
export class StreamClosed extends Error {}

/** The most one read hands to a guest, whatever length it asks for (lengths are u64). */
export const MAX_READ = 4 * 1024 * 1024;

/** Where an input stream's bytes come from. */
export interface InputSource {
  /** Up to `max` bytes available now: empty when none yet, `null` at end of stream. */
  read(max: number): Uint8Array | null | Promise<Uint8Array | null>;
  /** Ready when `read` would return data or end of stream. */
  readonly readiness: Readiness;
  /** Called when the guest drops the stream. */
  close?(): void;
}

/** Where an output stream's bytes go. */
export interface OutputSink {
  /** Bytes that may be written now without waiting; 0 means wait for readiness. */
  checkWrite(): number;
  write(bytes: Uint8Array): void | Promise<void>;
  /** Resolves once everything written so far is handed on. */
  flush(): void | Promise<void>;
  /** Ready when `checkWrite` would answer more than 0. */
  readonly readiness: Readiness;
  close?(): void;
}

function streamError(err: unknown): StreamError {
  if (err instanceof StreamClosed) return { tag: 'closed' };
  const message = err instanceof Error ? err.message : String(err);
  // Filesystem and socket sources tag their errors with the WASI error code they stand for.
  const code = (err as { wasiCode?: string } | null)?.wasiCode;
  return { tag: 'last-operation-failed', val: new IoError(message, code, err) };
}

function clampLength(len: bigint | number): number {
  const n = typeof len === 'bigint' ? (len > BigInt(MAX_READ) ? MAX_READ : Number(len)) : Math.min(len, MAX_READ);
  return Math.max(0, n);
}

/** `wasi:io/streams.input-stream`. */
export class InputStream {
  readonly #source: InputSource;
  #ended = false;

  constructor(source: InputSource) {
    this.#source = source;
  }

  read(len: bigint): Uint8Array | Promise<Uint8Array> {
    if (this.#ended) throw { tag: 'closed' } satisfies StreamError;
    const max = clampLength(len);
    let result: Uint8Array | null | Promise<Uint8Array | null>;
    try {
      result = this.#source.read(max);
    } catch (err) {
      throw streamError(err);
    }
    if (result instanceof Promise) return result.then((r) => this.#settle(r), (err) => Promise.reject(streamError(err)));
    return this.#settle(result);
  }

  async blockingRead(len: bigint): Promise<Uint8Array> {
    if (clampLength(len) === 0) return this.read(len);
    for (;;) {
      const chunk = await this.read(len);
      if (chunk.length > 0) return chunk;
      await this.#source.readiness.wait(new AbortController().signal);
    }
  }

  async skip(len: bigint): Promise<bigint> {
    return BigInt((await this.read(len)).length);
  }

  async blockingSkip(len: bigint): Promise<bigint> {
    return BigInt((await this.blockingRead(len)).length);
  }

  subscribe(): Pollable {
    return new Pollable(this.#ended ? ALWAYS_READY : this.#source.readiness);
  }

  [Symbol.dispose](): void {
    this.#source.close?.();
  }

  #settle(r: Uint8Array | null): Uint8Array {
    if (r === null) {
      this.#ended = true;
      throw { tag: 'closed' } satisfies StreamError;
    }
    return r;
  }
}

/** `wasi:io/streams.output-stream`. */
export class OutputStream {
  readonly #sink: OutputSink;
  #failed: StreamError | undefined;

  constructor(sink: OutputSink) {
    this.#sink = sink;
  }

  checkWrite(): bigint {
    this.#check();
    try {
      return BigInt(this.#sink.checkWrite());
    } catch (err) {
      throw this.#fail(err);
    }
  }

  write(contents: Uint8Array): void | Promise<void> {
    this.#check();
    try {
      const r = this.#sink.write(contents);
      if (r instanceof Promise) return r.catch((err) => Promise.reject(this.#fail(err)));
    } catch (err) {
      throw this.#fail(err);
    }
  }

  /**
   * Synchronous when the sink takes everything at once and flushes at once (the common case: a
   * returned promise suspends the guest through JSPI, which costs far more than the write).
   */
  blockingWriteAndFlush(contents: Uint8Array): void | Promise<void> {
    this.#check();
    if (contents.length <= Number(this.checkWrite())) {
      const written = this.write(contents);
      if (written instanceof Promise) return written.then(() => this.blockingFlush());
      return this.flush();
    }
    return this.#writeInPieces(contents);
  }

  async #writeInPieces(contents: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < contents.length) {
      const permitted = await this.#permitted();
      const end = Math.min(contents.length, offset + permitted);
      await this.write(contents.subarray(offset, end));
      offset = end;
    }
    await this.blockingFlush();
  }

  flush(): void | Promise<void> {
    this.#check();
    try {
      const r = this.#sink.flush();
      if (r instanceof Promise) return r.catch((err) => Promise.reject(this.#fail(err)));
    } catch (err) {
      throw this.#fail(err);
    }
  }

  async blockingFlush(): Promise<void> {
    await this.flush();
  }

  subscribe(): Pollable {
    return new Pollable(this.#sink.readiness);
  }

  writeZeroes(len: bigint): void | Promise<void> {
    return this.write(new Uint8Array(clampLength(len)));
  }

  async blockingWriteZeroesAndFlush(len: bigint): Promise<void> {
    await this.blockingWriteAndFlush(new Uint8Array(clampLength(len)));
  }

  async splice(src: InputStream, len: bigint): Promise<bigint> {
    const permitted = Math.min(clampLength(len), Number(this.checkWrite()));
    if (permitted === 0) return 0n;
    const chunk = await src.read(BigInt(permitted));
    await this.write(chunk);
    return BigInt(chunk.length);
  }

  async blockingSplice(src: InputStream, len: bigint): Promise<bigint> {
    const permitted = Math.min(clampLength(len), await this.#permitted());
    const chunk = await src.blockingRead(BigInt(permitted));
    await this.write(chunk);
    return BigInt(chunk.length);
  }

  [Symbol.dispose](): void {
    this.#sink.close?.();
  }

  async #permitted(): Promise<number> {
    for (;;) {
      const n = Number(this.checkWrite());
      if (n > 0) return n;
      await this.#sink.readiness.wait(new AbortController().signal);
    }
  }

  #check(): void {
    if (this.#failed) throw this.#failed;
  }

  /** A failed write leaves the stream permanently closed, as the WIT says. */
  #fail(err: unknown): StreamError {
    const e = streamError(err);
    this.#failed = { tag: 'closed' };
    return e;
  }
}
