import type { FileHandle } from 'node:fs/promises';
import { ALWAYS_READY } from '../io/poll.ts';
import { StreamClosed, type InputSource, type OutputSink } from '../io/streams.ts';
import { toStreamError, type ErrorCode } from './errors.ts';
import type { Closable, ResourceSet } from './resources.ts';

/** What a file output stream offers per `check-write` (wasmtime offers 1 MiB too). */
const WRITE_WINDOW = 1024 * 1024;
/** The largest buffer one read allocates, whatever the guest asks for. */
const READ_CHUNK = 1024 * 1024;

/**
 * An open file shared by a descriptor and the streams made from it: streams may outlive the
 * descriptor's handle in the guest, so the file closes when the last of them lets go (or when
 * the instance's resources are closed all at once).
 */
export class SharedFile implements Closable {
  readonly handle: FileHandle;
  readonly #resources: ResourceSet;
  #refs = 1;
  #closed = false;

  constructor(handle: FileHandle, resources: ResourceSet) {
    this.handle = handle;
    this.#resources = resources;
    resources.add(this);
  }

  retain(): this {
    this.#refs++;
    return this;
  }

  release(): void {
    if (--this.#refs === 0) this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#resources.delete(this);
    this.handle.close().catch(() => {});
  }
}

/** Node takes write positions as numbers (a bigint is silently ignored!); refuse what cannot be exact. */
export function toPosition(offset: bigint): number {
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw 'file-too-large' satisfies ErrorCode;
  return Number(offset);
}

/** Read positions may be bigints, up to `off_t`'s range; past it POSIX says EINVAL. */
export function readPosition(offset: bigint): bigint {
  if (offset > 0x7fff_ffff_ffff_ffffn) throw 'invalid' satisfies ErrorCode;
  return offset;
}

/** Reads a file from an offset on: `read-via-stream`. Files are always ready; each read awaits the disk. */
export class FileSource implements InputSource {
  readonly readiness = ALWAYS_READY;
  readonly #file: SharedFile;
  #position: bigint;
  #closed = false;

  constructor(file: SharedFile, offset: bigint) {
    this.#position = readPosition(offset);
    this.#file = file.retain();
  }

  async read(max: number): Promise<Uint8Array | null> {
    if (this.#closed) throw new StreamClosed('file stream is closed');
    if (max === 0) return new Uint8Array(0);
    const buffer = Buffer.allocUnsafe(Math.min(max, READ_CHUNK));
    let bytesRead: number;
    try {
      ({ bytesRead } = await this.#file.handle.read(buffer, 0, buffer.length, readPosition(this.#position)));
    } catch (err) {
      throw toStreamError(err);
    }
    if (bytesRead === 0) return null;
    this.#position += BigInt(bytesRead);
    return buffer.subarray(0, bytesRead);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.release();
  }
}

/** Writes a file from an offset on, or at its end: `write-via-stream`, `append-via-stream`. */
export class FileSink implements OutputSink {
  readonly readiness = ALWAYS_READY;
  readonly #file: SharedFile;
  /** Undefined in append mode: every write goes to the current end. */
  #position: bigint | undefined;
  #closed = false;

  constructor(file: SharedFile, offset: bigint | 'append') {
    this.#file = file.retain();
    this.#position = offset === 'append' ? undefined : offset;
  }

  checkWrite(): number {
    if (this.#closed) throw new StreamClosed('file stream is closed');
    return WRITE_WINDOW;
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.checkWrite();
    const handle = this.#file.handle;
    try {
      // Node cannot add O_APPEND to an open file: append means "write at the size seen now",
      // which is exact for this guest but not atomic against other writers of the same file.
      let position = this.#position ?? (await handle.stat({ bigint: true })).size;
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, toPosition(position));
        done += bytesWritten;
        position += BigInt(bytesWritten);
      }
      if (this.#position !== undefined) this.#position = position;
    } catch (err) {
      throw toStreamError(err);
    }
  }

  /** Every write has reached the OS once it resolved. */
  flush(): void {
    if (this.#closed) throw new StreamClosed('file stream is closed');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.release();
  }
}
