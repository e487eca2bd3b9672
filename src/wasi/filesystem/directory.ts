import type { Dir, Dirent } from 'node:fs';
import { lstat, opendir } from 'node:fs/promises';
import { guard, type ErrorCode } from './errors.ts';
import { descriptorType, type DescriptorType } from './metadata.ts';

export interface DirectoryEntry {
  type: DescriptorType;
  name: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Created only by `openDirectoryStream`: the guest gets it from `read-directory`. */
const INTERNAL = Symbol('DirectoryEntryStream');

/**
 * `wasi:filesystem/types.directory-entry-stream`: entries read lazily from an open directory
 * (no `.` or `..`, as the WIT says), closed at the end or when the guest drops it.
 */
export class DirectoryEntryStream {
  readonly #dir: Dir;
  readonly #path: string;
  #closed = false;

  constructor(token: symbol, dir: Dir, path: string) {
    if (token !== INTERNAL) throw new TypeError('DirectoryEntryStream is created by read-directory');
    this.#dir = dir;
    this.#path = path;
  }

  readDirectoryEntry(): Promise<DirectoryEntry | undefined> {
    return guard(async () => {
      if (this.#closed) return undefined;
      const entry = (await this.#dir.read()) as Dirent<Buffer> | null;
      if (entry === null) {
        this.#close();
        return undefined;
      }
      let name: string;
      try {
        name = strictUtf8.decode(entry.name);
      } catch {
        // A name a guest string cannot carry (wasmtime reports the same).
        throw 'illegal-byte-sequence' satisfies ErrorCode;
      }
      let type = descriptorType(entry);
      // Some filesystems do not say (DT_UNKNOWN): ask the entry itself.
      if (type === 'unknown') {
        const st = await lstat(`${this.#path}/${name}`, { bigint: true }).catch(() => undefined);
        if (st) type = descriptorType(st);
      }
      return { type, name };
    });
  }

  [Symbol.dispose](): void {
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#dir.close().catch(() => {});
  }
}

export async function openDirectoryStream(path: string): Promise<DirectoryEntryStream> {
  const dir = await opendir(path, { encoding: 'buffer' as BufferEncoding, bufferSize: 128 });
  return new DirectoryEntryStream(INTERNAL, dir, path);
}
