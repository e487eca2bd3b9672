import { KeyValueError, checkBucketName, checkKey, type KeyPage, type KeyValueBackend } from '../backend.ts';
import { nextCounterValue } from '../counter.ts';
import { pageOf } from '../paging.ts';

type Bucket = Map<string, Uint8Array>;

/**
 * Key-value pairs in this process's memory, one map per bucket name. Workloads are kept apart by
 * the plugin's names; `dropBuckets` frees what a stopped workload stored. Values are copied in
 * and out, so callers never share a buffer with the store.
 */
export class MemoryKeyValueBackend implements KeyValueBackend {
  readonly #buckets = new Map<string, Bucket>();

  async openBucket(bucket: string): Promise<void> {
    checkBucketName(bucket);
    if (!this.#buckets.has(bucket)) this.#buckets.set(bucket, new Map());
  }

  async get(bucket: string, key: string): Promise<Uint8Array | undefined> {
    checkKey(key);
    return this.#bucket(bucket).get(key)?.slice();
  }

  async set(bucket: string, key: string, value: Uint8Array): Promise<void> {
    checkKey(key);
    this.#bucket(bucket).set(key, value.slice());
  }

  async delete(bucket: string, key: string): Promise<void> {
    checkKey(key);
    this.#bucket(bucket).delete(key);
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    checkKey(key);
    return this.#bucket(bucket).has(key);
  }

  async listKeys(bucket: string, cursor: number | undefined, limit: number): Promise<KeyPage> {
    return pageOf([...this.#bucket(bucket).keys()], cursor, limit);
  }

  async increment(bucket: string, key: string, delta: bigint): Promise<bigint> {
    checkKey(key);
    // Synchronous from read to write: nothing else runs in between, so this is atomic.
    const entries = this.#bucket(bucket);
    const { value, bytes } = nextCounterValue(key, entries.get(key), delta);
    entries.set(key, bytes);
    return value;
  }

  async getMany(bucket: string, keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    keys.forEach(checkKey);
    const entries = this.#bucket(bucket);
    return keys.map((key) => entries.get(key)?.slice());
  }

  async setMany(bucket: string, pairs: readonly (readonly [string, Uint8Array])[]): Promise<void> {
    for (const [key] of pairs) checkKey(key);
    const entries = this.#bucket(bucket);
    for (const [key, value] of pairs) entries.set(key, value.slice());
  }

  async deleteMany(bucket: string, keys: readonly string[]): Promise<void> {
    keys.forEach(checkKey);
    const entries = this.#bucket(bucket);
    for (const key of keys) entries.delete(key);
  }

  async dropBuckets(prefix: string): Promise<void> {
    for (const name of this.#buckets.keys()) if (name.startsWith(prefix)) this.#buckets.delete(name);
  }

  /** A bucket that was never opened, or was dropped, is not recreated behind a caller's back. */
  #bucket(bucket: string): Bucket {
    const entries = this.#buckets.get(bucket);
    if (!entries) throw new KeyValueError('no-such-store', `bucket ${JSON.stringify(bucket)} is not open`);
    return entries;
  }
}
