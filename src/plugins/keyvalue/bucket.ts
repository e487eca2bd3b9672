import type { Logger } from '../../plugin/plugin.ts';
import { KeyValueError, type KeyValueBackend } from './backend.ts';

/** `wasi:keyvalue/store.error` as jco lowers it. */
export type StoreError = { tag: 'no-such-store' } | { tag: 'access-denied' } | { tag: 'other'; val: string };

/** What every bucket of one component shares. */
export interface BucketContext {
  backend: KeyValueBackend;
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
  /** The backend's name for the bucket (the plugin's naming policy). */
  readonly #name: string;
  /** What the guest calls it (config `prefix` + identifier), for its error messages. */
  readonly #shown: string;

  constructor(ctx: BucketContext, name: string, shown: string) {
    this.#ctx = ctx;
    this.#name = name;
    this.#shown = shown;
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.#call('get', (b, name) => b.get(name, key));
  }

  set(key: string, value: Uint8Array): Promise<void> {
    return this.#call('set', (b, name) => b.set(name, key, value));
  }

  delete(key: string): Promise<void> {
    return this.#call('delete', (b, name) => b.delete(name, key));
  }

  exists(key: string): Promise<boolean> {
    return this.#call('exists', (b, name) => b.exists(name, key));
  }

  listKeys(cursor: bigint | undefined): Promise<{ keys: string[]; cursor: bigint | undefined }> {
    // The cursor is ours: anything past what a safe integer holds is past the end anyway.
    const start = cursor === undefined ? undefined : Number(cursor > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : cursor);
    return this.#call('list-keys', async (b, name) => {
      const page = await b.listKeys(name, start, this.#ctx.pageSize);
      return { keys: page.keys, cursor: page.cursor === undefined ? undefined : BigInt(page.cursor) };
    });
  }

  increment(key: string, delta: bigint): Promise<bigint> {
    return this.#call('increment', (b, name) => b.increment(name, key, delta));
  }

  getMany(keys: string[]): Promise<([string, Uint8Array] | undefined)[]> {
    return this.#call('get-many', async (b, name) => {
      const values = await b.getMany(name, keys);
      return values.map((value, i): [string, Uint8Array] | undefined => (value === undefined ? undefined : [keys[i], value]));
    });
  }

  setMany(entries: [string, Uint8Array][]): Promise<void> {
    return this.#call('set-many', (b, name) => b.setMany(name, entries));
  }

  deleteMany(keys: string[]): Promise<void> {
    return this.#call('delete-many', (b, name) => b.deleteMany(name, keys));
  }

  async #call<T>(operation: string, fn: (backend: KeyValueBackend, name: string) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#ctx.backend, this.#name);
    } catch (err) {
      throw storeError(this.#ctx.logger, `${operation} on bucket ${JSON.stringify(this.#shown)}`, err);
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
