import { randomUUID } from 'node:crypto';
// Types only: embedding wasmhost loads the NATS clients at the first call of a NATS backend.
import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamClient, JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import type { ObjectInfo as NatsObjectInfo, ObjectStore, Objm } from '@nats-io/obj';
import {
  BlobstoreError,
  checkContainerName,
  tooLarge,
  type BlobstoreBackend,
  type ContainerInfo,
  type ObjectInfo,
  type ObjectRef,
} from '../backend.ts';
import { NatsStoreNames, checkSetting, natsStoreName, natsStoreSettings, type NatsIsolation } from '../../shared/nats-names.ts';
import { checkObjectName, clientName, listedName, missingContainerAs, putObject, readWhole } from './nats-objects.ts';
import {
  JS_STREAM_NAME_IN_USE,
  JS_STREAM_SUBJECT_OVERLAP,
  NatsConnectionState,
  isNoResponders,
  isStreamNotFound,
  jetStreamCode,
  natsFailure,
  streamExists,
  withWatchdog,
} from '../../shared/nats-calls.ts';

export { MAX_NATS_OBJECT_NAME_BYTES } from './nats-objects.ts';

export interface NatsBlobstoreOptions {
  /** A connection from `connect` of `@nats-io/transport-node`; the caller owns it (`close` leaves it open). */
  connection: NatsConnection;
  /** Put before every object store name (`[A-Za-z0-9_-]`); default none. */
  bucketPrefix?: string;
  /**
   * The isolation of the blobstore plugin over this backend when the plugin is not told one
   * (its `defaultIsolation`): 'workload' (default), each workload its own containers, or 'shared'.
   */
  isolation?: NatsIsolation;
  /** How long a call may wait for NATS without an answer (per step of a large transfer); default 5000 ms. */
  timeoutMs?: number;
  /** Replicas of the object stores this backend creates; default 1. */
  replicas?: number;
  /** The largest object stored, in bytes; default 64 MiB. */
  maxObjectSize?: number;
}

export const DEFAULT_NATS_MAX_OBJECT_SIZE = 64 * 1024 * 1024;

/** The object store stream's name, and the subject of one object's chunks (the object store protocol, ADR-20). */
const streamOf = (store: string) => `OBJ_${store}`;
const chunkSubject = (store: string, nuid: string) => `$O.${store}.C.${nuid}`;

interface Clients {
  objm: Objm;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/**
 * Containers as NATS JetStream object stores: the store of a container name is `bucketPrefix` +
 * the name encoded into the characters JetStream allows (`plugins/shared/nats-names.ts`). Before
 * the plugin named containers, this backend put the workload's scope into the store name itself
 * (`encode(scope) + '_' + encode(container)`): such a store is still found (`NatsStoreNames`).
 * Any object name up to 2 KiB of UTF-8 is storable: the object store puts it into a subject as
 * base64url of its UTF-8 bytes, as every NATS client does (`nats-objects.ts` works around the
 * JavaScript client's `btoa`). Data outlives workloads and hosts: nothing is deleted when a
 * workload stops. A call that timed out may still take effect once the server is back: its
 * request may already be on its way.
 *
 * - A container's `createdAt` is its stream's creation time; an object's is its `mtime`, when
 *   this version was written. Creating a container that exists fails, also when two hosts race:
 *   each marks its new stream with a unique description and only the one whose mark is there wins.
 * - A byte range is read without the rest of the object: the chunks' sizes come from a
 *   headers-only consumer (a few bytes per chunk), then only the chunks the range covers are
 *   fetched (a one-chunk object: one request). The whole object comes through the client's
 *   stream, with its digest checked; a range cannot be checked against the digest.
 * - `copyObject` and `moveObject` carry the bytes through this process (the object store has no
 *   server-side copy), and a move is a copy then a delete, not atomic. `clearContainer` purges
 *   the stream in one request.
 *
 * Every call is bounded: a call fails with a `BlobstoreError` once NATS has not answered for
 * `timeoutMs` (a large transfer may take longer as long as every chunk is answered), while the
 * connection reconnects by itself (connect with `maxReconnectAttempts: -1`).
 */
export class NatsBlobstoreBackend implements BlobstoreBackend {
  readonly maxObjectSize: number;
  readonly bucketPrefix: string;
  readonly defaultIsolation: NatsIsolation;
  readonly timeoutMs: number;
  readonly replicas: number;
  readonly #nc: NatsConnection;
  readonly #state: NatsConnectionState;
  readonly #stores = new Map<string, ObjectStore>();
  /** Container name -> the object store it lives in (current or older, see the class comment). */
  readonly #storeNames: NatsStoreNames;
  #clients: Promise<Clients> | undefined;
  #closed = false;

  constructor(options: NatsBlobstoreOptions) {
    this.#nc = options.connection;
    ({ bucketPrefix: this.bucketPrefix, isolation: this.defaultIsolation, timeoutMs: this.timeoutMs, replicas: this.replicas } = natsStoreSettings('NatsBlobstoreBackend', options));
    this.maxObjectSize = options.maxObjectSize ?? DEFAULT_NATS_MAX_OBJECT_SIZE;
    checkSetting('NatsBlobstoreBackend', 'maxObjectSize', this.maxObjectSize, 0);
    this.#state = new NatsConnectionState(this.#nc);
    this.#storeNames = new NatsStoreNames(this.bucketPrefix, async (store) => streamExists((await this.#loadClients()).jsm, streamOf(store)));
  }

  async createContainer(name: string): Promise<ContainerInfo> {
    const current = this.#currentStoreName(name);
    return this.#call(`create container ${quote(name)}`, async () => {
      const store = await this.#storeNames.resolve(name, current);
      const { objm } = await this.#loadClients();
      const mark = `wasmhost blobstore container, creation ${randomUUID()}`;
      let os: ObjectStore;
      try {
        // Opens an existing store as it is, so the mark tells whether this call made it.
        os = await objm.create(store, { description: mark, replicas: this.replicas });
      } catch (err) {
        // Two hosts racing: the loser hears "name in use", or "subjects overlap" when its request
        // reached the server while the winner's stream was being made (seen in CI).
        const code = jetStreamCode(err);
        if (code === JS_STREAM_NAME_IN_USE || code === JS_STREAM_SUBJECT_OVERLAP) throw exists(name);
        throw err;
      }
      const info = (await os.status()).streamInfo;
      if (info.config.description !== mark) throw exists(name);
      this.#stores.set(store, os);
      return { name, createdAt: seconds(info.created) };
    });
  }

  async containerInfo(name: string): Promise<ContainerInfo> {
    const current = this.#currentStoreName(name);
    return this.#call(`describe container ${quote(name)}`, async () => {
      const store = await this.#storeNames.resolve(name, current);
      const info = await this.#streamInfo(store, name);
      return { name, createdAt: seconds(info.created) };
    });
  }

  async containerExists(name: string): Promise<boolean> {
    const current = this.#currentStoreName(name);
    return this.#call(`look up container ${quote(name)}`, async () => {
      const store = await this.#storeNames.resolve(name, current);
      return streamExists((await this.#loadClients()).jsm, streamOf(store));
    });
  }

  async deleteContainer(name: string): Promise<void> {
    const current = this.#currentStoreName(name);
    await this.#call(`delete container ${quote(name)}`, async () => {
      const store = await this.#storeNames.resolve(name, current);
      const { jsm } = await this.#loadClients();
      try {
        await jsm.streams.delete(streamOf(store));
      } catch (err) {
        if (!isStreamNotFound(err)) throw err;
      }
      // Made again, the container gets today's store name.
      this.#storeNames.forget(name);
      this.#stores.delete(store);
    });
  }

  async listObjects(container: string): Promise<string[]> {
    const current = this.#currentStoreName(container);
    return this.#call(`list objects of container ${quote(container)}`, async () => {
      const store = await this.#storeNames.resolve(container, current);
      const os = await this.#store(store);
      const infos = await missingContainerAs(container, () => os.list());
      return infos
        .filter((info) => !info.deleted)
        .map(listedName)
        .sort();
    });
  }

  async writeObject(container: string, name: string, data: Uint8Array): Promise<void> {
    const current = this.#currentStoreName(container);
    checkObjectName(name);
    if (data.length > this.maxObjectSize) throw tooLarge(data.length, this.maxObjectSize);
    await this.#call(`write object ${quote(name)} to container ${quote(container)}`, async (alive, signal) => {
      const store = await this.#storeNames.resolve(container, current);
      const os = await this.#store(store);
      await putObject(os, container, name, data, alive, signal);
    });
  }

  async readObject(container: string, name: string, start: number, end: number): Promise<Uint8Array> {
    const current = this.#currentStoreName(container);
    checkObjectName(name);
    return this.#call(`read object ${quote(name)} of container ${quote(container)}`, async (alive, signal) => {
      const store = await this.#storeNames.resolve(container, current);
      const os = await this.#store(store);
      const info = await this.#objectInfo(os, container, name);
      alive();
      // Links are made by other tools only; following one may create the store it names.
      if (info.options?.link) throw new BlobstoreError(`object ${quote(name)} of container ${quote(container)} is a NATS object-store link, which this backend does not follow`);
      const from = Math.min(start, info.size);
      const to = Math.min(end, info.size);
      if (to <= from) return new Uint8Array(0);
      if (from === 0 && to === info.size) return readWhole(os, container, name, alive, signal);
      if (info.chunks === 1) return (await this.#onlyChunk(store, container, name, info)).slice(from, to);
      return this.#readRange(store, container, name, info, from, to, alive, signal);
    });
  }

  async objectInfo(container: string, name: string): Promise<ObjectInfo> {
    const current = this.#currentStoreName(container);
    checkObjectName(name);
    return this.#call(`describe object ${quote(name)} of container ${quote(container)}`, async () => {
      const store = await this.#storeNames.resolve(container, current);
      const info = await this.#objectInfo(await this.#store(store), container, name);
      return { name, container, createdAt: seconds(info.mtime), size: info.size };
    });
  }

  async hasObject(container: string, name: string): Promise<boolean> {
    const current = this.#currentStoreName(container);
    checkObjectName(name);
    return this.#call(`look up object ${quote(name)} in container ${quote(container)}`, async () => {
      const store = await this.#storeNames.resolve(container, current);
      const os = await this.#store(store);
      const info = await missingContainerAs(container, () => os.info(clientName(name)));
      return info !== null && !info.deleted;
    });
  }

  async deleteObject(container: string, name: string): Promise<void> {
    const current = this.#currentStoreName(container);
    checkObjectName(name);
    await this.#call(`delete object ${quote(name)} from container ${quote(container)}`, async () => {
      const store = await this.#storeNames.resolve(container, current);
      const os = await this.#store(store);
      // A missing object answers `success: false`, which is not an error here.
      await missingContainerAs(container, () => os.delete(clientName(name)));
    });
  }

  async clearContainer(container: string): Promise<void> {
    const current = this.#currentStoreName(container);
    await this.#call(`clear container ${quote(container)}`, async () => {
      const store = await this.#storeNames.resolve(container, current);
      const { jsm } = await this.#loadClients();
      // Every object's metadata and chunks in one request; the store stays.
      await missingContainerAs(container, () => jsm.streams.purge(streamOf(store)));
    });
  }

  async copyObject(src: ObjectRef, dest: ObjectRef): Promise<void> {
    await this.#copy(src, dest, 'copy');
  }

  async moveObject(src: ObjectRef, dest: ObjectRef): Promise<void> {
    await this.#copy(src, dest, 'move');
  }

  /** Stops using the connection; the connection itself stays open (the caller owns it). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#state.stop();
    this.#stores.clear();
    this.#storeNames.clear();
  }

  async #copy(src: ObjectRef, dest: ObjectRef, verb: 'copy' | 'move'): Promise<void> {
    const srcCurrent = this.#currentStoreName(src.container);
    const destCurrent = this.#currentStoreName(dest.container);
    checkObjectName(src.object);
    checkObjectName(dest.object);
    const what = `${verb} object ${quote(src.object)} of container ${quote(src.container)} to ${quote(dest.object)} of container ${quote(dest.container)}`;
    await this.#call(what, async (alive, signal) => {
      const srcStore = await this.#storeNames.resolve(src.container, srcCurrent);
      const destStore = await this.#storeNames.resolve(dest.container, destCurrent);
      const from = await this.#store(srcStore);
      const info = await this.#objectInfo(from, src.container, src.object);
      if (srcStore === destStore && src.object === dest.object) return; // onto itself: nothing changes
      if (info.options?.link) throw new BlobstoreError(`object ${quote(src.object)} of container ${quote(src.container)} is a NATS object-store link, which this backend does not follow`);
      if (info.size > this.maxObjectSize) throw tooLarge(info.size, this.maxObjectSize);
      await this.#streamInfo(destStore, dest.container);
      const data = await readWhole(from, src.container, src.object, alive, signal);
      const to = await this.#store(destStore);
      await putObject(to, dest.container, dest.object, data, alive, signal);
      if (verb === 'move') await from.delete(clientName(src.object));
    });
  }

  /** The only chunk of a one-chunk object, fetched in one request. */
  async #onlyChunk(store: string, container: string, name: string, info: NatsObjectInfo): Promise<Uint8Array> {
    const data = await this.#chunk(store, { last_by_subj: chunkSubject(store, info.nuid) });
    if (!data) throw changed(container, name);
    return data;
  }

  /**
   * One chunk's bytes: by direct get (raw bytes, from any replica) where the store allows it,
   * else, or when a replica has not got it yet, from the stream leader (base64 in JSON).
   */
  async #chunk(store: string, query: { seq: number } | { last_by_subj: string }): Promise<Uint8Array | undefined> {
    const { jsm } = await this.#loadClients();
    try {
      const msg = await jsm.direct.getMessage(streamOf(store), query);
      if (msg) return msg.data;
    } catch (err) {
      if (!isNoResponders(err)) throw err;
    }
    return (await jsm.streams.getMessage(streamOf(store), query))?.data;
  }

  /**
   * Bytes `from` to `to` of an object, fetching only the chunks they fall in: the chunks'
   * sequence numbers and sizes come from a headers-only consumer (a few bytes per chunk).
   */
  async #readRange(
    store: string,
    container: string,
    name: string,
    info: NatsObjectInfo,
    from: number,
    to: number,
    alive: () => void,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    const { js } = await this.#loadClients();
    const consumer = await js.consumers.get(streamOf(store), { filter_subjects: chunkSubject(store, info.nuid), headers_only: true });
    const messages = await consumer.fetch({ max_messages: info.chunks, expires: Math.max(1000, this.timeoutMs) });
    const stop = () => void messages.close().catch(() => {});
    signal.addEventListener('abort', stop, { once: true });
    const wanted: { seq: number; offset: number }[] = [];
    let offset = 0;
    try {
      for await (const msg of messages) {
        alive();
        const size = Number(msg.headers?.get('Nats-Msg-Size') ?? Number.NaN);
        if (!Number.isSafeInteger(size)) throw new BlobstoreError(`object ${quote(name)} of container ${quote(container)} has a chunk without its size`);
        if (offset + size > from) wanted.push({ seq: msg.seq, offset });
        offset += size;
        if (offset >= to) break;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
    }
    if (offset < to) throw changed(container, name);
    const parts: Uint8Array[] = [];
    for (const chunk of wanted) {
      const data = await this.#chunk(store, { seq: chunk.seq });
      if (!data) throw changed(container, name);
      alive();
      parts.push(data.subarray(Math.max(0, from - chunk.offset), Math.min(data.length, to - chunk.offset)));
    }
    return new Uint8Array(Buffer.concat(parts));
  }

  /** The live object's info; a missing or deleted object is an error naming it. */
  async #objectInfo(os: ObjectStore, container: string, name: string): Promise<NatsObjectInfo> {
    const info = await missingContainerAs(container, () => os.info(clientName(name)));
    if (!info || info.deleted) throw new BlobstoreError(`object ${quote(name)} does not exist in container ${quote(container)}`);
    return info;
  }

  async #streamInfo(store: string, container: string): Promise<StreamInfo> {
    const { jsm } = await this.#loadClients();
    return missingContainerAs(container, () => jsm.streams.info(streamOf(store)));
  }

  /** The store name of `container` under today's naming (where it lives: `#storeNames`). */
  #currentStoreName(container: string): string {
    checkContainerName(container);
    const result = natsStoreName(this.bucketPrefix, 'shared', '', container);
    if ('problem' in result) throw new BlobstoreError(`invalid container name ${quote(container.slice(0, 64))}: ${result.problem}`);
    return result.name;
  }

  /** A handle on the store; opening asks the server nothing, so a missing store shows at the first call. */
  async #store(store: string): Promise<ObjectStore> {
    let os = this.#stores.get(store);
    if (!os) {
      const { objm } = await this.#loadClients();
      os = await objm.open(store, false);
      this.#stores.set(store, os);
    }
    return os;
  }

  #loadClients(): Promise<Clients> {
    this.#clients ??= (async () => {
      const [{ jetstream }, { Objm }] = await Promise.all([import('@nats-io/jetstream'), import('@nats-io/obj')]);
      // checkAPI off: no account-info round trip before each manager call.
      const js = jetstream(this.#nc, { timeout: this.timeoutMs, checkAPI: false });
      return { objm: new Objm(js), js, jsm: await js.jetstreamManager(false) };
    })();
    // A failed load is tried again by the next call rather than remembered.
    this.#clients.catch(() => (this.#clients = undefined));
    return this.#clients;
  }

  /** Runs one backend call under the time bound, turning NATS failures into `BlobstoreError`s. */
  async #call<T>(operation: string, work: (alive: () => void, signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.#closed) throw new BlobstoreError(`${operation} failed: the NATS blobstore backend is closed`);
    if (this.#nc.isClosed()) throw new BlobstoreError(`${operation} failed: the NATS connection is closed`);
    try {
      return await withWatchdog(this.timeoutMs, work);
    } catch (err) {
      if (err instanceof BlobstoreError) throw err;
      const failure = natsFailure(err, this.timeoutMs, this.#state);
      if (failure !== undefined) throw new BlobstoreError(`${operation} failed: ${failure}`, { cause: err });
      throw err;
    }
  }
}

function exists(name: string): BlobstoreError {
  return new BlobstoreError(`container ${quote(name)} already exists`);
}

function changed(container: string, name: string): BlobstoreError {
  return new BlobstoreError(`object ${quote(name)} of container ${quote(container)} changed while it was read; read it again`);
}

/** Seconds since the epoch of an RFC 3339 time from the server. */
function seconds(time: string): number {
  return Math.floor(Date.parse(time) / 1000);
}

function quote(text: string): string {
  return JSON.stringify(text);
}
