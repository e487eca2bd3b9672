import type { Dir, Dirent } from 'node:fs';
import { lstat, opendir } from 'node:fs/promises';
import { guard, type ErrorCode } from './errors.ts';
import { descriptorType, type DescriptorType } from './metadata.ts';
import { HostDir } from './paths.ts';
import type { ResourceSet } from './resources.ts';

export interface DirectoryEntry {
  type: DescriptorType;
  name: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Created only by `openDirectoryStream`: the guest gets it from `read-directory`. */
const INTERNAL = Symbol('DirectoryEntryStream');

/**
 * `wasi:filesystem/types.directory-entry-stream`: entries read lazily from an open directory
 * (no `.` or `..`, as the WIT says), closed at the end or when the guest drops it.
 */
export class DirectoryEntryStream {
  readonly #dir: Dir;
  /** The listed directory, held open for as long as the listing (its descriptor may go first). */
  readonly #host: HostDir;
  readonly #resources: ResourceSet;
  #closed = false;

  constructor(token: symbol, dir: Dir, host: HostDir, resources: ResourceSet) {
    if (token !== INTERNAL) throw new TypeError('DirectoryEntryStream is created by read-directory');
    this.#dir = dir;
    this.#host = host;
    this.#resources = resources;
    resources.add(this);
  }

  readDirectoryEntry(): Promise<DirectoryEntry | undefined> {
    return guard(async () => {
      if (this.#closed) return undefined;
      const entry = (await this.#dir.read()) as Dirent<Buffer> | null;
      if (entry === null) {
        this.close();
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
        const st = await lstat(`${this.#host.path}/${name}`, { bigint: true }).catch(() => undefined);
        if (st) type = descriptorType(st);
      }
      return { type, name };
    });
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal also called when the instance's resources are closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#resources.delete(this);
    this.#dir.close().catch(() => {});
    this.#host.close();
  }
}

/** Lists the directory that `path` (a `HostDir` path) names. */
export async function openDirectoryStream(path: string, resources: ResourceSet): Promise<DirectoryEntryStream> {
  const host = await HostDir.open(`${path}/.`, resources);
  try {
    const dir = await opendir(host.path, { encoding: 'buffer' as BufferEncoding, bufferSize: 128 });
    return new DirectoryEntryStream(INTERNAL, dir, host, resources);
  } catch (err) {
    host.close();
    throw err;
  }
}
