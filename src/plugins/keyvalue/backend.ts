/**
 * The one interface every key-value backend implements (memory and filesystem here; NATS
 * JetStream KV and PostgreSQL later). The WIT binding (`plugin.ts`) calls only this.
 *
 * Every call names a `scope` (the plugin passes the workload's `namespace/name`) and a bucket. A backend decides
 * what a scope means: the memory backend isolates workloads by it, stores meant to outlive a
 * workload (filesystem, NATS, PostgreSQL) may ignore it and rely on bucket names instead.
 *
 * Failures the guest should see are thrown as `KeyValueError` (its `kind` is the WIT error case,
 * its message the text of `other`). Anything else thrown is logged on the host and reaches the
 * guest as a generic `other`, so host paths and addresses never leak into a guest.
 */
import { nameProblem } from '../shared/file-names.ts';
import { WasmhostError } from '../../errors.ts';

/** The cases of `wasi:keyvalue/store.error`. */
export type KeyValueErrorKind = 'no-such-store' | 'access-denied' | 'other';

export class KeyValueError extends WasmhostError {
  override readonly code = 'WASMHOST_KEYVALUE';
  readonly kind: KeyValueErrorKind;
  constructor(kind: KeyValueErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

/** One page of `listKeys`. */
export interface KeyPage {
  keys: string[];
  /** Where the next page starts (opaque to callers); absent on the last page. */
  cursor?: number;
}

export interface KeyValueBackend {
  /** Makes sure the bucket exists, creating it when the backend can; else `no-such-store`. */
  openBucket(scope: string, bucket: string): Promise<void>;
  get(scope: string, bucket: string, key: string): Promise<Uint8Array | undefined>;
  set(scope: string, bucket: string, key: string, value: Uint8Array): Promise<void>;
  /** Deleting a missing key is not an error. */
  delete(scope: string, bucket: string, key: string): Promise<void>;
  exists(scope: string, bucket: string, key: string): Promise<boolean>;
  /** Up to `limit` keys from `cursor` (undefined = the start), in a stable order. */
  listKeys(scope: string, bucket: string, cursor: number | undefined, limit: number): Promise<KeyPage>;
  /**
   * Atomically adds `delta` to the counter at `key` and answers the new value. A missing key
   * starts at 0. Counters are stored as the decimal ASCII text of a u64 (`counter.ts`), as
   * wasmCloud's filesystem and NATS stores do, so `get` reads them as `"42"`.
   */
  increment(scope: string, bucket: string, key: string, delta: bigint): Promise<bigint>;
  /** One entry per key, in order: the value, or undefined for a missing key. */
  getMany(scope: string, bucket: string, keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  setMany(scope: string, bucket: string, entries: readonly (readonly [string, Uint8Array])[]): Promise<void>;
  deleteMany(scope: string, bucket: string, keys: readonly string[]): Promise<void>;
  /** Frees what the scope holds, if the backend keeps anything per scope. Idempotent. */
  dropScope(scope: string): Promise<void>;
  /** Releases connections; called when the host stops. */
  close?(): Promise<void>;
}

/** At most this many UTF-16 units in a bucket name. */
export const MAX_BUCKET_NAME_LENGTH = 255;

/** The rule every backend applies to bucket names: non-empty, bounded, no control characters. */
export function checkBucketName(bucket: string): void {
  const problem = nameProblem(bucket, MAX_BUCKET_NAME_LENGTH);
  if (problem) throw new KeyValueError('other', `invalid bucket name ${JSON.stringify(bucket.slice(0, 64))}: ${problem}`);
}

/** The rule every backend applies to keys: any string but the empty one. */
export function checkKey(key: string): void {
  if (key.length === 0) throw new KeyValueError('other', 'invalid key "": it is empty');
}
