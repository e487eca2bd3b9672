/**
 * What the key-value and blobstore plugin tests share: a workload and a component handed to a
 * plugin the way the host hands them, the guest's view of the imports the plugin answers with,
 * and the guest's way of writing and reading an object.
 */
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { Implementations, Logger, Plugin, PluginComponent, PluginWorkload, ResolvedWorkload, WitInterface } from '../../src/plugin/plugin.ts';
import type { InputStream, OutputStream } from '../../src/plugin/streams.ts';

const BLOBSTORE = ['wasi:blobstore/blobstore@0.2.0-draft', 'wasi:blobstore/types@0.2.0-draft'];
const KEY_VALUE = ['wasi:keyvalue/store@0.2.0-draft', 'wasi:keyvalue/atomics@0.2.0-draft', 'wasi:keyvalue/batch@0.2.0-draft'];

export function blobstoreInterface(config: Record<string, string> = {}): WitInterface {
  return { namespace: 'wasi', package: 'blobstore', interfaces: ['blobstore', 'container', 'types'], version: '0.2.0-draft', config };
}

export function keyValueInterface(config: Record<string, string> = {}): WitInterface {
  return { namespace: 'wasi', package: 'keyvalue', interfaces: ['store', 'atomics', 'batch'], version: '0.2.0-draft', config };
}

/** What a test may set of a workload besides its id: by default namespace `default`, named like its id, a silent logger. */
type Hooks = 'onWorkloadBind' | 'onComponentBind' | 'onWorkloadResolved' | 'onWorkloadUnbind' | 'stop';

/** A plugin as a test drives it: its hooks by workload, as the host's binder calls them. */
export type HostedPlugin<P> = Omit<P, Hooks> & {
  onWorkloadBind(workload: PluginWorkload): void | Promise<void>;
  onComponentBind(component: PluginComponent): Implementations | void | Promise<Implementations | void>;
  onWorkloadResolved(workload: ResolvedWorkload): Promise<void>;
  /** Once per bound workload, like the host; an id not bound (or unbound already) is a no-op. */
  onWorkloadUnbind(workloadId: string): Promise<void>;
  /** Unbinds the workloads still bound, then stops the plugin, as `Host.stop` does. */
  stop(): Promise<void>;
};

/**
 * Drives `plugin` the way the host does (`src/host/bind.ts`): keeps the state each workload's
 * `onWorkloadBind` answered and hands it to that workload's later hooks, and tells an unbind
 * whether it is the last replica. A hook called for a workload not bound yet binds it first, as
 * the host always would have. A synchronous bind stays synchronous, so `assert.throws` sees it.
 */
export function hosted<S, P extends Plugin<S>>(plugin: P): HostedPlugin<P> {
  const states = new Map<string, { workload: PluginWorkload; state: S }>();
  const bind = (workload: PluginWorkload): void | Promise<void> => {
    const answer = plugin.onWorkloadBind?.(workload);
    const keep = (state: S | undefined) => void states.set(workload.id, { workload, state: state as S });
    return answer instanceof Promise ? answer.then(keep) : keep(answer);
  };
  const stateOf = async (workload: PluginWorkload): Promise<S> => {
    if (!states.has(workload.id)) await bind(workload);
    return states.get(workload.id)!.state;
  };
  const unbind = async (workloadId: string): Promise<void> => {
    const entry = states.get(workloadId);
    if (!entry) return;
    states.delete(workloadId);
    const { namespace, name } = entry.workload;
    const lastReplica = ![...states.values()].some((e) => e.workload.namespace === namespace && e.workload.name === name);
    await plugin.onWorkloadUnbind?.({ ...entry.workload, lastReplica }, entry.state);
  };
  return {
    ...plugin,
    onWorkloadBind: bind,
    onComponentBind(component: PluginComponent) {
      // A plugin without a bind hook has no state: nothing to look up.
      if (!plugin.onWorkloadBind) return plugin.onComponentBind?.(component, undefined as S);
      if (!states.has(component.workload.id)) {
        const bound = bind(component.workload);
        if (bound instanceof Promise) return bound.then(() => plugin.onComponentBind?.(component, states.get(component.workload.id)!.state));
      }
      return plugin.onComponentBind?.(component, states.get(component.workload.id)!.state);
    },
    async onWorkloadResolved(workload: ResolvedWorkload) {
      await plugin.onWorkloadResolved?.(workload, await stateOf(workload));
    },
    onWorkloadUnbind: unbind,
    async stop() {
      for (const id of [...states.keys()]) await unbind(id);
      await plugin.stop?.();
    },
  };
}

export interface WorkloadFields {
  namespace?: string;
  name?: string;
  logger?: Logger;
}

/** A workload of id `id` that uses `interfaces`. */
export function pluginWorkload(id: string, interfaces: WitInterface[], fields: WorkloadFields = {}): PluginWorkload {
  return { id, namespace: 'default', name: id, annotations: {}, interfaces, logger: pino({ level: 'silent' }), ...fields };
}

/** A workload that uses wasi:blobstore with `config`. */
export function blobstoreWorkload(id: string, config: Record<string, string> = {}, fields: WorkloadFields = {}): PluginWorkload {
  return pluginWorkload(id, [blobstoreInterface(config)], fields);
}

/** A workload that uses wasi:keyvalue with `config`. */
export function keyValueWorkload(id: string, config: Record<string, string> = {}, fields: WorkloadFields = {}): PluginWorkload {
  return pluginWorkload(id, [keyValueInterface(config)], fields);
}

/**
 * Binds `plugin` to `workload` and to one component of it that imports `imports`, the way the
 * host does, and answers those interfaces' implementations merged into one object (the guest's
 * view, typed by the caller).
 */
export async function bindImports<T>(plugin: HostedPlugin<Plugin>, workload: PluginWorkload, imports: string[]): Promise<T> {
  await plugin.onWorkloadBind?.(workload);
  const component: PluginComponent = {
    workload,
    name: 'component',
    config: {},
    environment: {},
    allowedHosts: [],
    interfaces: workload.interfaces,
    imports,
    exports: [],
    logger: workload.logger,
  };
  const impl = (await plugin.onComponentBind?.(component)) as Record<string, Record<string, unknown>>;
  return Object.assign({}, ...imports.map((name) => impl[name])) as T;
}

/** The guest's wasi:blobstore/blobstore and types imports. */
export function bindBlobstore(plugin: HostedPlugin<Plugin>, workload: PluginWorkload): Promise<BlobstoreImports> {
  return bindImports(plugin, workload, BLOBSTORE);
}

/** The guest's wasi:keyvalue/store, atomics and batch imports. */
export function bindKeyValue(plugin: HostedPlugin<Plugin>, workload: PluginWorkload): Promise<KeyValueImports> {
  return bindImports(plugin, workload, KEY_VALUE);
}

/** The guest's view of the blobstore resources, typed for the tests. */
export interface Container {
  name(): string;
  info(): Promise<{ name: string; createdAt: bigint }>;
  getData(name: string, start: bigint, end: bigint): Promise<IncomingValue>;
  writeData(name: string, data: OutgoingValue): Promise<void>;
  listObjects(): Promise<StreamObjectNames>;
  deleteObject(name: string): Promise<void>;
  deleteObjects(names: string[]): Promise<void>;
  hasObject(name: string): Promise<boolean>;
  objectInfo(name: string): Promise<{ name: string; container: string; createdAt: bigint; size: bigint }>;
  clear(): Promise<void>;
}
export interface StreamObjectNames {
  readStreamObjectNames(len: bigint): [string[], boolean];
  skipStreamObjectNames(num: bigint): [bigint, boolean];
}
export interface OutgoingValue {
  outgoingValueWriteBody(): OutputStream;
  [Symbol.dispose](): void;
}
export interface IncomingValue {
  size(): bigint;
}
export interface ObjectId {
  container: string;
  object: string;
}
export interface BlobstoreImports {
  createContainer(name: string): Promise<Container>;
  getContainer(name: string): Promise<Container>;
  deleteContainer(name: string): Promise<void>;
  containerExists(name: string): Promise<boolean>;
  copyObject(src: ObjectId, dest: ObjectId): Promise<void>;
  moveObject(src: ObjectId, dest: ObjectId): Promise<void>;
  OutgoingValue: { newOutgoingValue(): OutgoingValue; finish(value: OutgoingValue): Promise<void> };
  IncomingValue: { incomingValueConsumeSync(value: IncomingValue): Uint8Array; incomingValueConsumeAsync(value: IncomingValue): InputStream };
}

/** The guest's view of a key-value bucket, typed for the tests. */
export interface Bucket {
  get(key: string): Promise<Uint8Array | undefined>;
  set(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  listKeys(cursor: bigint | undefined): Promise<{ keys: string[]; cursor: bigint | undefined }>;
}
export interface KeyValueImports {
  open(identifier: string): Promise<Bucket>;
  increment(bucket: Bucket, key: string, delta: bigint): Promise<bigint>;
  getMany(bucket: Bucket, keys: string[]): Promise<([string, Uint8Array] | undefined)[]>;
  setMany(bucket: Bucket, entries: [string, Uint8Array][]): Promise<void>;
  deleteMany(bucket: Bucket, keys: string[]): Promise<void>;
}

/**
 * Writes `data` as object `name` of `container` the way a guest does: value, body stream (in
 * writes of at most 4096 bytes, WASI's limit for blocking-write-and-flush), write-data, finish.
 */
export async function putObject(bs: BlobstoreImports, container: Container, name: string, data: Uint8Array): Promise<void> {
  const value = bs.OutgoingValue.newOutgoingValue();
  const body = value.outgoingValueWriteBody();
  for (let at = 0; at < data.length; at += 4096) await body.blockingWriteAndFlush(data.subarray(at, at + 4096));
  body[Symbol.dispose]();
  await container.writeData(name, value);
  await bs.OutgoingValue.finish(value);
}

/** Bytes `start` to `end` (inclusive, as get-data counts) of an object, read the way a guest does, as text. */
export async function getObjectText(bs: BlobstoreImports, container: Container, name: string, start: bigint, end: bigint): Promise<string> {
  return new TextDecoder().decode(bs.IncomingValue.incomingValueConsumeSync(await container.getData(name, start, end)));
}

/** Asserts that `promise` fails with the WIT error string matching `message` (a plain string: the guest gets `err`, not a trap). */
export async function rejectsWithString(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal(typeof err, 'string', `expected a string error, got ${String(err)}`);
    assert.match(err as string, message);
    return true;
  });
}
