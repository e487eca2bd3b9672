// Types only: embedding wasmhost loads the NATS clients at the first call of a NATS backend.
import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV, KvEntry, Kvm } from '@nats-io/kv';
import { KeyValueError, checkBucketName, checkKey, type KeyPage, type KeyValueBackend } from '../backend.ts';
import { nextCounterValue } from '../counter.ts';
import { pageOf } from '../paging.ts';
import { MAX_ENCODED_KEY_LENGTH, decodeKey, encodeKey } from './nats-keys.ts';
import { DEFAULT_NATS_TIMEOUT_MS, NatsStoreNames, natsStoreName, natsStoreSettings, type NatsIsolation } from '../../shared/nats-names.ts';
import {
  NatsConnectionState,
  isNoResponders,
  isStreamNotFound,
  isWrongLastSequence,
  streamExists,
  natsFailure,
  withWatchdog,
} from '../../shared/nats-calls.ts';

export interface NatsKeyValueOptions {
  /** A connection from `connect` of `@nats-io/transport-node`; the caller owns it (`close` leaves it open). */
  connection: NatsConnection;
  /** Put before every JetStream bucket name (`[A-Za-z0-9_-]`); default none. */
  bucketPrefix?: string;
  /**
   * The isolation of the key-value plugin over this backend when the plugin is not told one
   * (its `defaultIsolation`): 'workload' (default), each workload its own buckets, or 'shared'.
   */
  isolation?: NatsIsolation;
  /** How long a call may wait for NATS without an answer; default 5000 ms. */
  timeoutMs?: number;
  /** Replicas of the buckets this backend creates; default 1. */
  replicas?: number;
}

export { DEFAULT_NATS_TIMEOUT_MS };

/** Compare-and-swap rounds an increment tries before it gives up on a key other writers keep changing. */
const MAX_INCREMENT_ATTEMPTS = 200;

interface Clients {
  kvm: Kvm;
  jsm: JetStreamManager;
}

/**
 * Key-value pairs in NATS JetStream key-value buckets. The JetStream bucket of a bucket name is
 * `bucketPrefix` + the name encoded into the characters JetStream allows
 * (`plugins/shared/nats-names.ts`); keys are encoded by `nats-keys.ts`, so any non-empty key is
 * storable and `listKeys` answers it as written.
 *
 * Before the plugin named buckets, this backend put the workload's scope into the JetStream name
 * itself (`encode(scope) + '_' + encode(bucket)`): such a bucket is still found (`NatsStoreNames`).
 *
 * Data outlives workloads and hosts: `openBucket` creates a missing bucket (history 1) and
 * nothing is ever deleted. `increment` is a compare-and-swap on the key's last revision,
 * retried when another writer got there first, so it is atomic across processes. Batch calls run
 * their keys concurrently and are not atomic (the WIT allows that). Reads go to the stream
 * leader (no direct get), so a read sees every write acknowledged before it.
 *
 * Every call is bounded: when NATS does not answer within `timeoutMs` (server down, network
 * gone) the call fails with a `KeyValueError` saying so, while the connection reconnects by
 * itself (connect with `maxReconnectAttempts: -1`). A call that timed out may still take effect
 * once the server is back: its request may already be on its way.
 */
export class NatsKeyValueBackend implements KeyValueBackend {
  readonly bucketPrefix: string;
  readonly defaultIsolation: NatsIsolation;
  readonly timeoutMs: number;
  readonly replicas: number;
  readonly #nc: NatsConnection;
  readonly #state: NatsConnectionState;
  readonly #buckets = new Map<string, KV>();
  /** Bucket name -> the JetStream name it lives under (current or older, see the class comment). */
  readonly #storeNames: NatsStoreNames;
  #clients: Promise<Clients> | undefined;
  #closed = false;

  constructor(options: NatsKeyValueOptions) {
    this.#nc = options.connection;
    ({ bucketPrefix: this.bucketPrefix, isolation: this.defaultIsolation, timeoutMs: this.timeoutMs, replicas: this.replicas } = natsStoreSettings('NatsKeyValueBackend', options));
    this.#state = new NatsConnectionState(this.#nc);
    this.#storeNames = new NatsStoreNames(this.bucketPrefix, async (store) => streamExists((await this.#loadClients()).jsm, `KV_${store}`));
  }

  async openBucket(bucket: string): Promise<void> {
    await this.#call(`open bucket ${quote(bucket)}`, bucket, async () => {
      const name = await this.#storeName(bucket);
      const { kvm } = await this.#loadClients();
      // Opens the bucket when it exists (whatever its settings), creates it otherwise.
      await kvm.create(name, { history: 1, replicas: this.replicas });
    });
  }

  async get(bucket: string, key: string): Promise<Uint8Array | undefined> {
    const natsKey = toNatsKey(key);
    return this.#call(`get from bucket ${quote(bucket)}`, bucket, async () => valueOf(await (await this.#bucket(bucket)).get(natsKey)));
  }

  async set(bucket: string, key: string, value: Uint8Array): Promise<void> {
    const natsKey = toNatsKey(key);
    this.#checkSize(value);
    await this.#call(`set in bucket ${quote(bucket)}`, bucket, async () => {
      const kv = await this.#bucket(bucket);
      await this.#publish(bucket, () => kv.put(natsKey, value));
    });
  }

  async delete(bucket: string, key: string): Promise<void> {
    const natsKey = toNatsKey(key);
    await this.#call(`delete from bucket ${quote(bucket)}`, bucket, async () => {
      const kv = await this.#bucket(bucket);
      // A delete marker: the key's history says it is gone, and `keys()` skips it.
      await this.#publish(bucket, () => kv.delete(natsKey));
    });
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    return (await this.get(bucket, key)) !== undefined;
  }

  async listKeys(bucket: string, cursor: number | undefined, limit: number): Promise<KeyPage> {
    return this.#call(`list keys of bucket ${quote(bucket)}`, bucket, async (alive, signal) => {
      const kv = await this.#bucket(bucket);
      const iterator = await kv.keys();
      const stop = () => iterator.stop();
      signal.addEventListener('abort', stop, { once: true });
      try {
        const keys: string[] = [];
        for await (const natsKey of iterator) {
          alive();
          // A key another NATS client wrote in some other spelling is not addressable here: skipped.
          const key = decodeKey(natsKey);
          if (key !== undefined) keys.push(key);
        }
        // The cursor is an offset into the sorted keys: stable while the bucket does not change.
        return pageOf(keys, cursor, limit);
      } finally {
        signal.removeEventListener('abort', stop);
      }
    });
  }

  async increment(bucket: string, key: string, delta: bigint): Promise<bigint> {
    const natsKey = toNatsKey(key);
    return this.#call(`increment in bucket ${quote(bucket)}`, bucket, async (alive) => {
      const kv = await this.#bucket(bucket);
      for (let attempt = 1; attempt <= MAX_INCREMENT_ATTEMPTS; attempt++) {
        const entry = await kv.get(natsKey);
        const { value, bytes } = nextCounterValue(key, valueOf(entry), delta);
        try {
          // Written only if the key's last revision (a delete marker counts; 0 = none) is still the one read.
          await this.#publish(bucket, () => kv.put(natsKey, bytes, { previousSeq: entry?.revision ?? 0 }));
          return value;
        } catch (err) {
          if (!isWrongLastSequence(err)) throw err;
          // Another writer won this round: NATS answered, so the call is alive; back off a little, at random.
          alive();
          await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 50)));
        }
      }
      throw new KeyValueError('other', `increment of key ${quote(key)} gave up after ${MAX_INCREMENT_ATTEMPTS} attempts: other writers kept changing it`);
    });
  }

  async getMany(bucket: string, keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const natsKeys = keys.map(toNatsKey);
    return this.#call(`get-many from bucket ${quote(bucket)}`, bucket, async () => {
      const kv = await this.#bucket(bucket);
      return Promise.all(natsKeys.map(async (natsKey) => valueOf(await kv.get(natsKey))));
    });
  }

  async setMany(bucket: string, entries: readonly (readonly [string, Uint8Array])[]): Promise<void> {
    const pairs = entries.map(([key, value]) => [toNatsKey(key), value] as const);
    for (const [, value] of pairs) this.#checkSize(value);
    await this.#call(`set-many in bucket ${quote(bucket)}`, bucket, async () => {
      const kv = await this.#bucket(bucket);
      await Promise.all(pairs.map(([natsKey, value]) => this.#publish(bucket, () => kv.put(natsKey, value))));
    });
  }

  async deleteMany(bucket: string, keys: readonly string[]): Promise<void> {
    const natsKeys = keys.map(toNatsKey);
    await this.#call(`delete-many from bucket ${quote(bucket)}`, bucket, async () => {
      const kv = await this.#bucket(bucket);
      await Promise.all(natsKeys.map((natsKey) => this.#publish(bucket, () => kv.delete(natsKey))));
    });
  }

  /** Stops using the connection; the connection itself stays open (the caller owns it). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#state.stop();
    this.#buckets.clear();
    this.#storeNames.clear();
  }

  /** The JetStream bucket `bucket` lives in: the current name, or the older one when only that exists. */
  async #storeName(bucket: string): Promise<string> {
    return this.#storeNames.resolve(bucket, storeNameOf(this.bucketPrefix, bucket));
  }

  /** A handle on the bucket; binding asks the server nothing, so a missing bucket shows at the first call. */
  async #bucket(bucket: string): Promise<KV> {
    const name = await this.#storeName(bucket);
    let kv = this.#buckets.get(name);
    if (!kv) {
      const { kvm } = await this.#loadClients();
      // Not direct get: reads go to the stream leader and see every acknowledged write.
      kv = await kvm.open(name, { allow_direct: false });
      this.#buckets.set(name, kv);
    }
    return kv;
  }

  /**
   * A publish to a bucket whose stream is gone has no responder, which the client reports as
   * "JetStream not enabled": asking for the stream tells the two apart (it fails with "stream not
   * found" when the bucket is missing).
   */
  async #publish<T>(bucket: string, publish: () => Promise<T>): Promise<T> {
    try {
      return await publish();
    } catch (err) {
      if (isNoResponders(err)) {
        const { jsm } = await this.#loadClients();
        await jsm.streams.info(`KV_${await this.#storeName(bucket)}`);
      }
      throw err;
    }
  }

  #checkSize(value: Uint8Array): void {
    const limit = this.#nc.info?.max_payload;
    if (limit !== undefined && value.length > limit) {
      throw new KeyValueError('other', `value of ${value.length} bytes exceeds the NATS server's limit of ${limit} bytes`);
    }
  }

  #loadClients(): Promise<Clients> {
    this.#clients ??= (async () => {
      const [{ jetstream }, { Kvm }] = await Promise.all([import('@nats-io/jetstream'), import('@nats-io/kv')]);
      // checkAPI off: no account-info round trip before each manager call.
      const js = jetstream(this.#nc, { timeout: this.timeoutMs, checkAPI: false });
      return { kvm: new Kvm(js), jsm: await js.jetstreamManager(false) };
    })();
    // A failed load is tried again by the next call rather than remembered.
    this.#clients.catch(() => (this.#clients = undefined));
    return this.#clients;
  }

  /** Runs one backend call under the time bound, turning NATS failures into `KeyValueError`s. */
  async #call<T>(operation: string, bucket: string, work: (alive: () => void, signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.#closed) throw new KeyValueError('other', `${operation} failed: the NATS key-value backend is closed`);
    if (this.#nc.isClosed()) throw new KeyValueError('other', `${operation} failed: the NATS connection is closed`);
    try {
      return await withWatchdog(this.timeoutMs, work);
    } catch (err) {
      if (err instanceof KeyValueError) throw err;
      if (isStreamNotFound(err)) throw new KeyValueError('no-such-store', `bucket ${quote(bucket)} does not exist`, { cause: err });
      const failure = natsFailure(err, this.timeoutMs, this.#state);
      if (failure !== undefined) throw new KeyValueError('other', `${operation} failed: ${failure}`, { cause: err });
      throw err;
    }
  }
}

/** The JetStream name of `bucket`, or the guest-visible reason it has none. */
function storeNameOf(prefix: string, bucket: string): string {
  checkBucketName(bucket);
  const result = natsStoreName(prefix, 'shared', '', bucket);
  if ('problem' in result) throw new KeyValueError('other', `invalid bucket name ${quote(bucket.slice(0, 64))}: ${result.problem}`);
  return result.name;
}

/** The stored value of an entry, copied; a delete or purge marker is no value. */
function valueOf(entry: KvEntry | null): Uint8Array | undefined {
  return entry && entry.operation === 'PUT' ? new Uint8Array(entry.value) : undefined;
}

function toNatsKey(key: string): string {
  checkKey(key);
  const natsKey = encodeKey(key);
  if (natsKey === undefined) throw new KeyValueError('other', `invalid key ${quote(key.slice(0, 64))}: it is not well-formed Unicode`);
  if (natsKey.length > MAX_ENCODED_KEY_LENGTH) {
    throw new KeyValueError(
      'other',
      `invalid key ${quote(key.slice(0, 64))}: too long for the NATS store (${natsKey.length} characters once encoded, at most ${MAX_ENCODED_KEY_LENGTH})`,
    );
  }
  return natsKey;
}

function quote(text: string): string {
  return JSON.stringify(text);
}
