/**
 * The one interface every key-value backend implements (memory, filesystem, NATS JetStream KV,
 * PostgreSQL). The WIT binding (`plugin.ts`) calls only this.
 *
 * A backend sees bucket names and nothing else: which workload may reach which bucket is decided
 * once, by the plugin's naming policy (`shared/storage-scope.ts`), which puts the workload's
 * identity into the name when workloads are isolated.
 *
 * Failures the guest should see are thrown as `KeyValueError` (its `kind` is the WIT error case,
 * its message the text of `other`). Anything else thrown is logged on the host and reaches the
 * guest as a generic `other`, so host paths and addresses never leak into a guest.
 */
import { nameProblem } from '../shared/file-names.ts';
import type { StorageIsolation } from '../shared/storage-scope.ts';
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
  /**
   * The isolation a plugin uses with this backend unless told otherwise: where its data has
   * always lived (the filesystem store has shared buckets by name). Absent: 'workload'.
   */
  readonly defaultIsolation?: StorageIsolation;
  /** Makes sure the bucket exists, creating it when the backend can; else `no-such-store`. */
  openBucket(bucket: string): Promise<void>;
  get(bucket: string, key: string): Promise<Uint8Array | undefined>;
  set(bucket: string, key: string, value: Uint8Array): Promise<void>;
  /** Deleting a missing key is not an error. */
  delete(bucket: string, key: string): Promise<void>;
  exists(bucket: string, key: string): Promise<boolean>;
  /** Up to `limit` keys from `cursor` (undefined = the start), in a stable order. */
  listKeys(bucket: string, cursor: number | undefined, limit: number): Promise<KeyPage>;
  /**
   * Atomically adds `delta` to the counter at `key` and answers the new value. A missing key
   * starts at 0. Counters are stored as the decimal ASCII text of a u64 (`counter.ts`), as
   * wasmCloud's filesystem and NATS stores do, so `get` reads them as `"42"`.
   */
  increment(bucket: string, key: string, delta: bigint): Promise<bigint>;
  /** One entry per key, in order: the value, or undefined for a missing key. */
  getMany(bucket: string, keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  setMany(bucket: string, entries: readonly (readonly [string, Uint8Array])[]): Promise<void>;
  deleteMany(bucket: string, keys: readonly string[]): Promise<void>;
  /**
   * Forgets every bucket whose name starts with `prefix`. Only a store whose data dies with the
   * process anyway (memory) has it: the plugin calls it when the last replica of a workload
   * isolated by name stops. Stores meant to outlive workloads leave it out: a workload started
   * again must find its data. Idempotent.
   */
  dropBuckets?(prefix: string): Promise<void>;
  /** Releases connections; called when the host stops. */
  close?(): Promise<void>;
}

/**
 * At most this many UTF-16 units in a backend's bucket name: the guest's part (below) plus the
 * workload's identity, bounded so that PostgreSQL's unique index on names always holds one.
 */
export const MAX_BUCKET_NAME_LENGTH = 1024;

/** At most this many UTF-16 units in what the guest names a bucket (config `prefix` + identifier). */
export const MAX_IDENTIFIER_LENGTH = 255;

/** The rule every backend applies to bucket names: non-empty, bounded, no control characters. */
export function checkBucketName(bucket: string): void {
  checkName(bucket, MAX_BUCKET_NAME_LENGTH);
}

/** The rule the plugin applies to what the guest names, before the policy makes it a bucket name. */
export function checkIdentifier(identifier: string): void {
  checkName(identifier, MAX_IDENTIFIER_LENGTH);
}

function checkName(name: string, maxLength: number): void {
  const problem = nameProblem(name, maxLength);
  if (problem) throw new KeyValueError('other', `invalid bucket name ${JSON.stringify(name.slice(0, 64))}: ${problem}`);
}

/** The rule every backend applies to keys: any string but the empty one. */
export function checkKey(key: string): void {
  if (key.length === 0) throw new KeyValueError('other', 'invalid key "": it is empty');
}
