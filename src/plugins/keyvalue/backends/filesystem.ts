import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyValueError, checkBucketName, checkKey, type KeyPage, type KeyValueBackend } from '../backend.ts';
import { nextCounterValue } from '../counter.ts';
import { pageOf } from '../paging.ts';
import { decodeFileName, encodeFileName } from '../../shared/file-names.ts';
import type { StorageIsolation } from '../../shared/storage-scope.ts';
import { withFileLock } from './file-lock.ts';
import { KeyedLock } from './keyed-lock.ts';

export interface FilesystemKeyValueOptions {
  /** The directory holding every bucket (created if missing). */
  root: string;
}

/**
 * Key-value pairs as files: `<root>/<bucket>/<key>`, bucket and key encoded as safe file names
 * (`file-names.ts`), so any key is storable and none can leave the root. Data outlives the
 * process: a new backend over the same root sees it.
 *
 * Its default isolation is 'shared': the data is meant to outlive a workload (the dev loop
 * restarts it under a new id), and workloads sharing a root have always shared buckets by name,
 * as in wasmCloud's filesystem store; the plugin's `prefix` config keeps them apart when needed.
 *
 * Writes go to a temporary file renamed into place, so a reader sees the old value or the new
 * one, never half of it. `increment` is atomic, within this process and across the processes
 * that share the root (`up --workers n --data-dir`): its read and write hold a lock file of the
 * key (`file-lock.ts`), under the in-process lock so that one process waits on it once at a time.
 */
export class FilesystemKeyValueBackend implements KeyValueBackend {
  readonly root: string;
  readonly defaultIsolation: StorageIsolation = 'shared';
  readonly #lock = new KeyedLock();

  constructor(options: FilesystemKeyValueOptions) {
    this.root = options.root;
  }

  async openBucket(bucket: string): Promise<void> {
    await io(() => mkdir(this.#bucketDir(bucket), { recursive: true }));
  }

  async get(bucket: string, key: string): Promise<Uint8Array | undefined> {
    return this.#read(bucket, this.#keyPath(bucket, key));
  }

  async set(bucket: string, key: string, value: Uint8Array): Promise<void> {
    const path = this.#keyPath(bucket, key);
    await this.#lock.run(path, () => this.#write(bucket, path, value));
  }

  async delete(bucket: string, key: string): Promise<void> {
    const path = this.#keyPath(bucket, key);
    await this.#lock.run(path, async () => {
      await this.#requireBucket(bucket);
      await io(() => rm(path, { force: true }));
    });
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    try {
      return (await stat(this.#keyPath(bucket, key))).isFile();
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw ioError(err);
      await this.#requireBucket(bucket);
      return false;
    }
  }

  async listKeys(bucket: string, cursor: number | undefined, limit: number): Promise<KeyPage> {
    const dir = this.#bucketDir(bucket);
    await this.#requireBucket(bucket);
    const files = await io(() => readdir(dir));
    // Temporary files start with `.`, which no encoded key does.
    const keys = files.map(decodeFileName).filter((key) => key !== undefined);
    return pageOf(keys, cursor, limit);
  }

  async increment(bucket: string, key: string, delta: bigint): Promise<bigint> {
    const path = this.#keyPath(bucket, key);
    return this.#lock.run(path, () =>
      withFileLock(this.#lockPath(bucket, path), async () => {
        const { value, bytes } = nextCounterValue(key, await this.#read(bucket, path), delta);
        await this.#write(bucket, path, bytes);
        return value;
      }).catch(async (err: unknown) => {
        // No bucket directory to hold the lock file: the bucket is gone.
        if (errorCode(err) === 'ENOENT') await this.#requireBucket(bucket);
        throw ioError(err);
      }),
    );
  }

  async getMany(bucket: string, keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    return Promise.all(keys.map((key) => this.get(bucket, key)));
  }

  async setMany(bucket: string, entries: readonly (readonly [string, Uint8Array])[]): Promise<void> {
    await Promise.all(entries.map(([key, value]) => this.set(bucket, key, value)));
  }

  async deleteMany(bucket: string, keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => this.delete(bucket, key)));
  }

  #bucketDir(bucket: string): string {
    checkBucketName(bucket);
    const name = encodeFileName(bucket);
    if (!name) throw new KeyValueError('other', `invalid bucket name ${JSON.stringify(bucket.slice(0, 64))}: too long once encoded`);
    return join(this.root, name);
  }

  #keyPath(bucket: string, key: string): string {
    checkKey(key);
    const name = encodeFileName(key);
    if (!name) {
      throw new KeyValueError('other', `invalid key ${JSON.stringify(key.slice(0, 64))}: too long for the filesystem store (255 bytes once encoded)`);
    }
    return join(this.#bucketDir(bucket), name);
  }

  /** Beside the key, hidden from listings (it starts with `.`), of fixed length whatever the key's. */
  #lockPath(bucket: string, path: string): string {
    return join(this.#bucketDir(bucket), `.lock-${createHash('sha256').update(path).digest('hex').slice(0, 32)}`);
  }

  async #read(bucket: string, path: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(path));
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw ioError(err);
      await this.#requireBucket(bucket);
      return undefined;
    }
  }

  async #write(bucket: string, path: string, value: Uint8Array): Promise<void> {
    const temp = join(this.#bucketDir(bucket), `.tmp-${randomUUID()}`);
    try {
      await writeFile(temp, value, { flag: 'wx' });
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => {});
      if (errorCode(err) === 'ENOENT') await this.#requireBucket(bucket);
      throw ioError(err);
    }
  }

  /** A bucket directory removed behind our back is `no-such-store`, not an I/O error. */
  async #requireBucket(bucket: string): Promise<void> {
    const info = await stat(this.#bucketDir(bucket)).catch(() => undefined);
    if (!info?.isDirectory()) throw new KeyValueError('no-such-store', `bucket ${JSON.stringify(bucket)} does not exist`);
  }
}

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/** The guest learns the error code, never a host path. */
function ioError(err: unknown): KeyValueError {
  if (err instanceof KeyValueError) return err;
  return new KeyValueError('other', `storage I/O failed (${errorCode(err) ?? 'unknown error'})`, { cause: err });
}

async function io<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw ioError(err);
  }
}
