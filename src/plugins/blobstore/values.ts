import { ALWAYS_READY, BytesSource, InputStream, OutputStream, StreamClosed, type OutputSink } from '../../plugin/streams.ts';
import { tooLarge } from './backend.ts';

/** The chunk size the body offers a writer at a time. */
const WRITE_WINDOW = 64 * 1024;

/** Collects an outgoing value's bytes, up to the backend's object size limit; sealed once finished or dropped. */
class BodySink implements OutputSink {
  readonly readiness = ALWAYS_READY;
  readonly #chunks: Buffer[] = [];
  readonly #limit: number;
  #size = 0;
  #sealed = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  checkWrite(): number {
    if (this.#sealed) throw new StreamClosed('the outgoing value is finished');
    // Answering 0 would make a blocking writer wait forever: a full body is an error instead.
    if (this.#size >= this.#limit) throw tooLarge(this.#size + 1, this.#limit);
    return Math.min(WRITE_WINDOW, this.#limit - this.#size);
  }

  write(bytes: Uint8Array): void {
    if (this.#sealed) throw new StreamClosed('the outgoing value is finished');
    if (this.#size + bytes.length > this.#limit) throw tooLarge(this.#size + bytes.length, this.#limit);
    this.#chunks.push(Buffer.from(bytes));
    this.#size += bytes.length;
  }

  flush(): void {}

  seal(): void {
    this.#sealed = true;
  }

  contents(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.#chunks));
  }
}

/** Where `container.write-data` asked a value to go: stored when the value is finished. */
export type ValueTarget = (data: Uint8Array) => Promise<void>;

/**
 * `wasi:blobstore/types.outgoing-value`: bytes a guest writes through an output stream, stored
 * in every container `write-data` named once the guest calls `finish`. Dropped unfinished, the
 * value is discarded. The plugin subclasses it to give `new-outgoing-value` its size limit.
 */
export class OutgoingValue {
  readonly #body: BodySink;
  readonly #targets: ValueTarget[] = [];
  #bodyTaken = false;

  constructor(maxObjectSize: number) {
    this.#body = new BodySink(maxObjectSize);
  }

  /** `result<output-stream>`: the stream is handed out once; the error case has no payload. */
  outgoingValueWriteBody(): OutputStream {
    if (this.#bodyTaken) throw undefined;
    this.#bodyTaken = true;
    return new OutputStream(this.#body);
  }

  /** For `container.write-data`. */
  addTarget(target: ValueTarget): void {
    this.#targets.push(target);
  }

  /** Stores the bytes written so far wherever `write-data` said; a value never given to `write-data` goes nowhere. */
  static async finish(value: OutgoingValue): Promise<void> {
    value.#body.seal();
    const data = value.#body.contents();
    for (const target of value.#targets) await target(data);
  }

  [Symbol.dispose](): void {
    this.#body.seal();
  }
}

/** `wasi:blobstore/types.incoming-value`: bytes read by `get-data`, held until consumed. */
export class IncomingValue {
  readonly #data: Uint8Array;

  constructor(data: Uint8Array) {
    this.#data = data;
  }

  static incomingValueConsumeSync(value: IncomingValue): Uint8Array {
    return value.#data;
  }

  static incomingValueConsumeAsync(value: IncomingValue): InputStream {
    return new InputStream(new BytesSource(value.#data));
  }

  size(): bigint {
    return BigInt(this.#data.length);
  }
}
