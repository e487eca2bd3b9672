import type { Logger } from '../../plugin/plugin.ts';
import { KeyValueError, type KeyValueBackend } from './backend.ts';

/** `wasi:keyvalue/store.error` as jco lowers it. */
export type StoreError = { tag: 'no-such-store' } | { tag: 'access-denied' } | { tag: 'other'; val: string };

/** What every bucket of one component shares. */
export interface BucketContext {
  backend: KeyValueBackend;
  /** The workload's `namespace/name`: the backend's isolation scope. */
  scope: string;
  /** Keys per `list-keys` page. */
  pageSize: number;
  logger: Logger;
}

/**
 * `wasi:keyvalue/store.bucket`: a backend bucket as the guest holds it. The atomics and batch
 * interfaces take it as `borrow<bucket>` and call its extra methods (`increment`, `getMany`...).
 */
export class Bucket {
  readonly #ctx: BucketContext;
  /** The backend's name for the bucket (config `prefix` + identifier). */
  readonly #name: string;

  constructor(ctx: BucketContext, name: string) {
    this.#ctx = ctx;
    this.#name = name;
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.#call('get', (b, scope, name) => b.get(scope, name, key));
  }

  set(key: string, value: Uint8Array): Promise<void> {
    return this.#call('set', (b, scope, name) => b.set(scope, name, key, value));
  }

  delete(key: string): Promise<void> {
    return this.#call('delete', (b, scope, name) => b.delete(scope, name, key));
  }

  exists(key: string): Promise<boolean> {
    return this.#call('exists', (b, scope, name) => b.exists(scope, name, key));
  }

  listKeys(cursor: bigint | undefined): Promise<{ keys: string[]; cursor: bigint | undefined }> {
    // The cursor is ours: anything past what a safe integer holds is past the end anyway.
    const start = cursor === undefined ? undefined : Number(cursor > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : cursor);
    return this.#call('list-keys', async (b, scope, name) => {
      const page = await b.listKeys(scope, name, start, this.#ctx.pageSize);
      return { keys: page.keys, cursor: page.cursor === undefined ? undefined : BigInt(page.cursor) };
    });
  }

  increment(key: string, delta: bigint): Promise<bigint> {
    return this.#call('increment', (b, scope, name) => b.increment(scope, name, key, delta));
  }

  getMany(keys: string[]): Promise<([string, Uint8Array] | undefined)[]> {
    return this.#call('get-many', async (b, scope, name) => {
      const values = await b.getMany(scope, name, keys);
      return values.map((value, i): [string, Uint8Array] | undefined => (value === undefined ? undefined : [keys[i], value]));
    });
  }

  setMany(entries: [string, Uint8Array][]): Promise<void> {
    return this.#call('set-many', (b, scope, name) => b.setMany(scope, name, entries));
  }

  deleteMany(keys: string[]): Promise<void> {
    return this.#call('delete-many', (b, scope, name) => b.deleteMany(scope, name, keys));
  }

  async #call<T>(operation: string, fn: (backend: KeyValueBackend, scope: string, name: string) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#ctx.backend, this.#ctx.scope, this.#name);
    } catch (err) {
      throw storeError(this.#ctx.logger, `${operation} on bucket ${JSON.stringify(this.#name)}`, err);
    }
  }
}

/**
 * The WIT error a failure becomes. A `KeyValueError` says what the guest may know; anything else
 * is a backend bug or outage: logged here, and the guest gets a message without host details.
 */
export function storeError(logger: Logger, operation: string, err: unknown): StoreError {
  if (err instanceof KeyValueError) {
    logger.debug({ err, operation }, 'key-value operation failed');
    return err.kind === 'other' ? { tag: 'other', val: err.message } : { tag: err.kind };
  }
  logger.warn({ err, operation }, 'key-value backend failed');
  return { tag: 'other', val: `${operation} failed: internal error in the key-value store` };
}
