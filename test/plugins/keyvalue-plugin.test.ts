import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { UsageError } from '../../src/errors.ts';
import type { Plugin, PluginComponent, PluginWorkload, WitInterface } from '../../src/plugin/plugin.ts';
import { MemoryKeyValueBackend, keyValuePlugin } from '../../src/plugins/keyvalue/index.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: unknown) => new TextDecoder().decode(value as Uint8Array);

/** A logger whose entries land in `lines`. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

function keyValueInterface(config: Record<string, string> = {}): WitInterface {
  return { namespace: 'wasi', package: 'keyvalue', interfaces: ['store', 'atomics', 'batch'], version: '0.2.0-draft', config };
}

function workloadOf(id: string, config: Record<string, string> = {}, logger = pino({ level: 'silent' })): PluginWorkload {
  return { id, namespace: 'default', name: id, annotations: {}, interfaces: [keyValueInterface(config)], logger };
}

interface Bucket {
  get(key: string): Promise<Uint8Array | undefined>;
  set(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  listKeys(cursor: bigint | undefined): Promise<{ keys: string[]; cursor: bigint | undefined }>;
}

/** The three interfaces as a guest would call them, typed for the tests. */
interface KeyValueImports {
  open(identifier: string): Promise<Bucket>;
  increment(bucket: Bucket, key: string, delta: bigint): Promise<bigint>;
  getMany(bucket: Bucket, keys: string[]): Promise<([string, Uint8Array] | undefined)[]>;
  setMany(bucket: Bucket, entries: [string, Uint8Array][]): Promise<void>;
  deleteMany(bucket: Bucket, keys: string[]): Promise<void>;
}

/** Binds `plugin` to one component of workload `workload` the way the host does, and answers its imports. */
async function bind(plugin: Plugin, workload: PluginWorkload): Promise<KeyValueImports> {
  await plugin.onWorkloadBind?.(workload);
  const component: PluginComponent = {
    workload,
    name: 'component',
    config: {},
    environment: {},
    allowedHosts: [],
    interfaces: workload.interfaces,
    imports: ['wasi:keyvalue/store@0.2.0-draft', 'wasi:keyvalue/atomics@0.2.0-draft', 'wasi:keyvalue/batch@0.2.0-draft'],
    exports: [],
    logger: workload.logger,
  };
  const impl = (await plugin.onComponentBind?.(component)) as Record<string, Record<string, unknown>>;
  return {
    ...impl['wasi:keyvalue/store@0.2.0-draft'],
    ...impl['wasi:keyvalue/atomics@0.2.0-draft'],
    ...impl['wasi:keyvalue/batch@0.2.0-draft'],
  } as unknown as KeyValueImports;
}

/** Asserts that `promise` fails with exactly the WIT error value `expected` (a plain value, so the guest gets `err`, not a trap). */
async function rejectsWithWitError(promise: Promise<unknown>, expected: unknown): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.deepEqual(err, expected);
    return true;
  });
}

test('the plugin serves wasi:keyvalue/store,atomics,batch@0.2.0-draft under the id wasi-keyvalue', async () => {
  const plugin = keyValuePlugin({ backend: new MemoryKeyValueBackend() });
  assert.equal(plugin.id, 'wasi-keyvalue');
  assert.deepEqual(plugin.imports, [{ namespace: 'wasi', package: 'keyvalue', interfaces: ['store', 'atomics', 'batch'], version: '0.2.0-draft' }]);
  assert.equal(keyValuePlugin({ backend: new MemoryKeyValueBackend(), id: 'kv-2' }).id, 'kv-2');
  const workload = workloadOf('w1');
  await plugin.onWorkloadBind!(workload);
  const impl = (await plugin.onComponentBind!({ workload, name: 'c', config: {}, environment: {}, allowedHosts: [], interfaces: workload.interfaces, imports: [], exports: [], logger: workload.logger }))!;
  assert.deepEqual(Object.keys(impl).sort(), ['wasi:keyvalue/atomics@0.2.0-draft', 'wasi:keyvalue/batch@0.2.0-draft', 'wasi:keyvalue/store@0.2.0-draft']);
  assert.deepEqual(Object.keys(impl['wasi:keyvalue/store@0.2.0-draft']).sort(), ['Bucket', 'open']);
  assert.deepEqual(Object.keys(impl['wasi:keyvalue/atomics@0.2.0-draft']), ['increment']);
  assert.deepEqual(Object.keys(impl['wasi:keyvalue/batch@0.2.0-draft']).sort(), ['deleteMany', 'getMany', 'setMany']);
  assert.ok((await (impl['wasi:keyvalue/store@0.2.0-draft'].open as KeyValueImports['open'])('b')) instanceof (impl['wasi:keyvalue/store@0.2.0-draft'].Bucket as new () => unknown));
});

test('store, atomics and batch through one bucket', async () => {
  const kv = await bind(keyValuePlugin({ backend: new MemoryKeyValueBackend() }), workloadOf('w1'));
  const bucket = await kv.open('cache');
  assert.equal(await bucket.get('k'), undefined);
  await bucket.set('k', bytes('v'));
  assert.equal(text(await bucket.get('k')), 'v');
  assert.equal(await bucket.exists('k'), true);
  await bucket.delete('k');
  assert.equal(await bucket.exists('k'), false);

  assert.equal(await kv.increment(bucket, 'hits', 1n), 1n, 'a missing key starts at 0');
  assert.equal(await kv.increment(bucket, 'hits', 9n), 10n);
  assert.equal(text(await bucket.get('hits')), '10');

  await kv.setMany(bucket, [
    ['a', bytes('1')],
    ['b', bytes('2')],
  ]);
  const many = await kv.getMany(bucket, ['b', 'nope', 'a']);
  assert.deepEqual(
    many.map((entry) => entry && [entry[0], text(entry[1])]),
    [['b', '2'], undefined, ['a', '1']],
  );
  await kv.deleteMany(bucket, ['a', 'nope']);
  assert.equal(await bucket.exists('a'), false);

  const reopened = await kv.open('cache');
  assert.equal(text(await reopened.get('b')), '2', 'open returns the same bucket again');
});

test('list-keys pages with a u64 cursor at the configured page size', async () => {
  const kv = await bind(keyValuePlugin({ backend: new MemoryKeyValueBackend(), listPageSize: 2 }), workloadOf('w1'));
  const bucket = await kv.open('b');
  assert.deepEqual(await bucket.listKeys(undefined), { keys: [], cursor: undefined });
  for (const key of ['k3', 'k1', 'k5', 'k2', 'k4']) await bucket.set(key, bytes(key));
  assert.deepEqual(await bucket.listKeys(undefined), { keys: ['k1', 'k2'], cursor: 2n });
  assert.deepEqual(await bucket.listKeys(2n), { keys: ['k3', 'k4'], cursor: 4n });
  assert.deepEqual(await bucket.listKeys(4n), { keys: ['k5'], cursor: undefined });
  assert.deepEqual(await bucket.listKeys(2n ** 64n - 1n), { keys: [], cursor: undefined }, 'a cursor past the end is an empty last page');
  assert.throws(() => keyValuePlugin({ backend: new MemoryKeyValueBackend(), listPageSize: 0 }), /listPageSize must be a positive integer/);
});

test('the default list-keys page holds 1000 keys', async () => {
  const kv = await bind(keyValuePlugin({ backend: new MemoryKeyValueBackend() }), workloadOf('w1'));
  const bucket = await kv.open('b');
  await kv.setMany(bucket, Array.from({ length: 1001 }, (_, i): [string, Uint8Array] => [`k${String(i).padStart(4, '0')}`, bytes('')]));
  const first = await bucket.listKeys(undefined);
  assert.equal(first.keys.length, 1000);
  assert.equal(first.cursor, 1000n);
  assert.deepEqual(await bucket.listKeys(first.cursor), { keys: ['k1000'], cursor: undefined });
});

test('workloads are isolated, and unbinding drops a workload (idempotently)', async () => {
  const plugin = keyValuePlugin({ backend: new MemoryKeyValueBackend() });
  const one = await bind(plugin, workloadOf('w1'));
  const two = await bind(plugin, workloadOf('w2'));
  const bucketOne = await one.open('shared-name');
  await bucketOne.set('k', bytes('one'));
  assert.equal(await (await two.open('shared-name')).get('k'), undefined);

  await plugin.onWorkloadUnbind!('w1');
  await plugin.onWorkloadUnbind!('w1');
  await rejectsWithWitError(bucketOne.get('k'), { tag: 'no-such-store' });
  await rejectsWithWitError(one.increment(bucketOne, 'k', 1n), { tag: 'no-such-store' });
  await rejectsWithWitError(one.open('shared-name'), { tag: 'no-such-store' });
  assert.equal(await (await two.open('shared-name')).exists('k'), false, 'the other workload still works');
});

test('config "buckets" limits which identifiers open; others are access-denied', async () => {
  const plugin = keyValuePlugin({ backend: new MemoryKeyValueBackend() });
  const kv = await bind(plugin, workloadOf('w1', { buckets: 'sessions, cache' }));
  await (await kv.open('cache')).set('k', bytes('v'));
  await kv.open('sessions');
  await rejectsWithWitError(kv.open('other'), { tag: 'access-denied' });
  const none = await bind(plugin, workloadOf('w2', { buckets: '' }));
  await rejectsWithWitError(none.open('cache'), { tag: 'access-denied' });
});

test('config "prefix" names the backend bucket', async () => {
  const backend = new MemoryKeyValueBackend();
  const kv = await bind(keyValuePlugin({ backend }), workloadOf('w1', { prefix: 'app1-' }));
  await (await kv.open('cache')).set('k', bytes('v'));
  assert.equal(text(await backend.get('default/w1', 'app1-cache', 'k')), 'v');
  await assert.rejects(backend.get('default/w1', 'cache', 'k'), /not open/);
});

test('an unknown config key fails the bind, naming the plugin and the key', async () => {
  const plugin = keyValuePlugin({ backend: new MemoryKeyValueBackend() });
  const workload = workloadOf('w1', { bucket_prefix: 'x' });
  assert.throws(
    () => plugin.onWorkloadBind!(workload),
    (err: unknown) => err instanceof UsageError && /wasi-keyvalue: unknown config key "bucket_prefix"/.test(err.message) && /buckets, prefix/.test(err.hint ?? ''),
  );
});

test('backend errors reach the guest as WIT errors; unexpected ones without host details', async () => {
  class BrokenBackend extends MemoryKeyValueBackend {
    override async get(): Promise<Uint8Array | undefined> {
      throw new Error('connect ECONNREFUSED 10.1.2.3:4222');
    }
  }
  const { logger, lines } = capturingLogger();
  const kv = await bind(keyValuePlugin({ backend: new BrokenBackend() }), workloadOf('w1', {}, logger));
  const bucket = await kv.open('b');
  await assert.rejects(bucket.get('k'), (err: unknown) => {
    assert.deepEqual(err, { tag: 'other', val: 'get on bucket "b" failed: internal error in the key-value store' });
    return true;
  });
  const warning = lines.find((l) => l.msg === 'key-value backend failed');
  assert.ok(warning, 'the host log has the real error');
  assert.match(JSON.stringify(warning.err), /ECONNREFUSED 10\.1\.2\.3/);

  await bucket.set('word', bytes('hello'));
  await rejectsWithWitError(kv.increment(bucket, 'word', 1n), {
    tag: 'other',
    val: 'cannot increment key "word": its value is not a decimal u64',
  });
  await rejectsWithWitError(kv.open(''), { tag: 'other', val: 'invalid bucket name "": it is empty' });
});

test('stop closes the backend', async () => {
  let closed = 0;
  class ClosingBackend extends MemoryKeyValueBackend {
    async close(): Promise<void> {
      closed++;
    }
  }
  const plugin = keyValuePlugin({ backend: new ClosingBackend() });
  await plugin.stop!();
  assert.equal(closed, 1);
});
