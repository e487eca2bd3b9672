import { KeyValueError, checkBucketName, checkKey, type KeyPage, type KeyValueBackend } from '../backend.ts';
import { nextCounterValue } from '../counter.ts';
import { pageOf } from '../paging.ts';

type Bucket = Map<string, Uint8Array>;

/**
 * Key-value pairs in this process's memory, isolated per scope (workload): one workload never
 * sees another's buckets, and `dropScope` frees everything a workload stored. Values are copied
 * in and out, so callers never share a buffer with the store.
 */
export class MemoryKeyValueBackend implements KeyValueBackend {
  readonly #scopes = new Map<string, Map<string, Bucket>>();

  async openBucket(scope: string, bucket: string): Promise<void> {
    checkBucketName(bucket);
    let buckets = this.#scopes.get(scope);
    if (!buckets) this.#scopes.set(scope, (buckets = new Map()));
    if (!buckets.has(bucket)) buckets.set(bucket, new Map());
  }

  async get(scope: string, bucket: string, key: string): Promise<Uint8Array | undefined> {
    checkKey(key);
    return this.#bucket(scope, bucket).get(key)?.slice();
  }

  async set(scope: string, bucket: string, key: string, value: Uint8Array): Promise<void> {
    checkKey(key);
    this.#bucket(scope, bucket).set(key, value.slice());
  }

  async delete(scope: string, bucket: string, key: string): Promise<void> {
    checkKey(key);
    this.#bucket(scope, bucket).delete(key);
  }

  async exists(scope: string, bucket: string, key: string): Promise<boolean> {
    checkKey(key);
    return this.#bucket(scope, bucket).has(key);
  }

  async listKeys(scope: string, bucket: string, cursor: number | undefined, limit: number): Promise<KeyPage> {
    return pageOf([...this.#bucket(scope, bucket).keys()], cursor, limit);
  }

  async increment(scope: string, bucket: string, key: string, delta: bigint): Promise<bigint> {
    checkKey(key);
    // Synchronous from read to write: nothing else runs in between, so this is atomic.
    const entries = this.#bucket(scope, bucket);
    const { value, bytes } = nextCounterValue(key, entries.get(key), delta);
    entries.set(key, bytes);
    return value;
  }

  async getMany(scope: string, bucket: string, keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    keys.forEach(checkKey);
    const entries = this.#bucket(scope, bucket);
    return keys.map((key) => entries.get(key)?.slice());
  }

  async setMany(scope: string, bucket: string, pairs: readonly (readonly [string, Uint8Array])[]): Promise<void> {
    for (const [key] of pairs) checkKey(key);
    const entries = this.#bucket(scope, bucket);
    for (const [key, value] of pairs) entries.set(key, value.slice());
  }

  async deleteMany(scope: string, bucket: string, keys: readonly string[]): Promise<void> {
    keys.forEach(checkKey);
    const entries = this.#bucket(scope, bucket);
    for (const key of keys) entries.delete(key);
  }

  async dropScope(scope: string): Promise<void> {
    this.#scopes.delete(scope);
  }

  /** A bucket that was never opened, or whose scope was dropped, is not recreated behind a caller's back. */
  #bucket(scope: string, bucket: string): Bucket {
    const entries = this.#scopes.get(scope)?.get(bucket);
    if (!entries) throw new KeyValueError('no-such-store', `bucket ${JSON.stringify(bucket)} is not open`);
    return entries;
  }
}
