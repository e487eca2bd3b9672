import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { UsageError } from '../../src/errors.ts';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemKeyValueBackend, MemoryKeyValueBackend, keyValuePlugin } from '../../src/plugins/keyvalue/index.ts';
import { bindKeyValue, keyValueWorkload, type KeyValueImports, hosted } from './plugin-harness.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: unknown) => new TextDecoder().decode(value as Uint8Array);

/** A logger whose entries land in `lines`. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** Asserts that `promise` fails with exactly the WIT error value `expected` (a plain value, so the guest gets `err`, not a trap). */
async function rejectsWithWitError(promise: Promise<unknown>, expected: unknown): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.deepEqual(err, expected);
    return true;
  });
}

test('the plugin serves wasi:keyvalue/store,atomics,batch@0.2.0-draft under the id wasi-keyvalue', async () => {
  const plugin = hosted(keyValuePlugin({ backend: new MemoryKeyValueBackend() }));
  assert.equal(plugin.id, 'wasi-keyvalue');
  assert.deepEqual(plugin.imports, [{ namespace: 'wasi', package: 'keyvalue', interfaces: ['store', 'atomics', 'batch'], version: '0.2.0-draft' }]);
  assert.equal(hosted(keyValuePlugin({ backend: new MemoryKeyValueBackend(), id: 'kv-2' })).id, 'kv-2');
  const workload = keyValueWorkload('w1');
  await plugin.onWorkloadBind!(workload);
  const impl = (await plugin.onComponentBind!({ workload, name: 'c', config: {}, environment: {}, allowedHosts: [], interfaces: workload.interfaces, imports: [], exports: [], logger: workload.logger }))!;
  assert.deepEqual(Object.keys(impl).sort(), ['wasi:keyvalue/atomics@0.2.0-draft', 'wasi:keyvalue/batch@0.2.0-draft', 'wasi:keyvalue/store@0.2.0-draft']);
  assert.deepEqual(Object.keys(impl['wasi:keyvalue/store@0.2.0-draft']).sort(), ['Bucket', 'open']);
  assert.deepEqual(Object.keys(impl['wasi:keyvalue/atomics@0.2.0-draft']), ['increment']);
  assert.deepEqual(Object.keys(impl['wasi:keyvalue/batch@0.2.0-draft']).sort(), ['deleteMany', 'getMany', 'setMany']);
  assert.ok((await (impl['wasi:keyvalue/store@0.2.0-draft'].open as KeyValueImports['open'])('b')) instanceof (impl['wasi:keyvalue/store@0.2.0-draft'].Bucket as new () => unknown));
});

test('store, atomics and batch through one bucket', async () => {
  const kv = await bindKeyValue(hosted(keyValuePlugin({ backend: new MemoryKeyValueBackend() })), keyValueWorkload('w1'));
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
  const kv = await bindKeyValue(hosted(keyValuePlugin({ backend: new MemoryKeyValueBackend(), listPageSize: 2 })), keyValueWorkload('w1'));
  const bucket = await kv.open('b');
  assert.deepEqual(await bucket.listKeys(undefined), { keys: [], cursor: undefined });
  for (const key of ['k3', 'k1', 'k5', 'k2', 'k4']) await bucket.set(key, bytes(key));
  assert.deepEqual(await bucket.listKeys(undefined), { keys: ['k1', 'k2'], cursor: 2n });
  assert.deepEqual(await bucket.listKeys(2n), { keys: ['k3', 'k4'], cursor: 4n });
  assert.deepEqual(await bucket.listKeys(4n), { keys: ['k5'], cursor: undefined });
  assert.deepEqual(await bucket.listKeys(2n ** 64n - 1n), { keys: [], cursor: undefined }, 'a cursor past the end is an empty last page');
  assert.throws(() => hosted(keyValuePlugin({ backend: new MemoryKeyValueBackend(), listPageSize: 0 })), /listPageSize must be a positive integer/);
});

test('the default list-keys page holds 1000 keys', async () => {
  const kv = await bindKeyValue(hosted(keyValuePlugin({ backend: new MemoryKeyValueBackend() })), keyValueWorkload('w1'));
  const bucket = await kv.open('b');
  await kv.setMany(bucket, Array.from({ length: 1001 }, (_, i): [string, Uint8Array] => [`k${String(i).padStart(4, '0')}`, bytes('')]));
  const first = await bucket.listKeys(undefined);
  assert.equal(first.keys.length, 1000);
  assert.equal(first.cursor, 1000n);
  assert.deepEqual(await bucket.listKeys(first.cursor), { keys: ['k1000'], cursor: undefined });
});

test('workloads are isolated, and unbinding drops a workload (idempotently)', async () => {
  const plugin = hosted(keyValuePlugin({ backend: new MemoryKeyValueBackend() }));
  const one = await bindKeyValue(plugin, keyValueWorkload('w1'));
  const two = await bindKeyValue(plugin, keyValueWorkload('w2'));
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

test('the last replica to unbind frees every bucket of the workload, whichever replica opened it', async () => {
  const backend = new MemoryKeyValueBackend();
  const plugin = hosted(keyValuePlugin({ backend }));
  const first = await bindKeyValue(plugin, keyValueWorkload('r1', {}, { name: 'app' }));
  const second = await bindKeyValue(plugin, keyValueWorkload('r2', {}, { name: 'app' }));
  await (await first.open('x')).set('k', bytes('from r1'));
  await (await second.open('y')).set('k', bytes('from r2'));
  await plugin.onWorkloadUnbind!('r1');
  assert.equal(text(await backend.get('default/app/x', 'k')), 'from r1', 'kept while a replica runs');
  await plugin.onWorkloadUnbind!('r2');
  await assert.rejects(backend.get('default/app/x', 'k'), /not open/);
  await assert.rejects(backend.get('default/app/y', 'k'), /not open/);
});

test("isolation 'workload': identities holding '/' or '%' never meet, and the guest's name is bounded as before", async () => {
  const backend = new MemoryKeyValueBackend();
  const plugin = hosted(keyValuePlugin({ backend }));
  const ab = await bindKeyValue(plugin, keyValueWorkload('w1', {}, { namespace: 'a/b', name: 'c' }));
  const bc = await bindKeyValue(plugin, keyValueWorkload('w2', {}, { namespace: 'a', name: 'b/c' }));
  await (await ab.open('d')).set('k', bytes('a/b + c'));
  assert.equal(await (await bc.open('d')).get('k'), undefined);
  assert.equal(text(await backend.get('a%2Fb/c/d', 'k')), 'a/b + c');
  await rejectsWithWitError(ab.open('x'.repeat(256)), { tag: 'other', val: `invalid bucket name "${'x'.repeat(64)}": it is longer than 255 characters` });
  await ab.open('x'.repeat(255));
});

test("isolation 'shared': workloads that name a bucket alike share it, and unbinding frees nothing", async () => {
  const backend = new MemoryKeyValueBackend();
  const plugin = hosted(keyValuePlugin({ backend, isolation: 'shared' }));
  const one = await bindKeyValue(plugin, keyValueWorkload('w1'));
  const two = await bindKeyValue(plugin, keyValueWorkload('w2', { prefix: 'p-' }));
  await (await one.open('common')).set('k', bytes('one'));
  assert.equal(await (await two.open('common')).get('k'), undefined, 'config prefix still applies');
  await (await two.open('common')).set('k', bytes('two'));
  assert.equal(text(await backend.get('common', 'k')), 'one');
  assert.equal(text(await backend.get('p-common', 'k')), 'two');
  await plugin.onWorkloadUnbind!('w1');
  assert.equal(text(await backend.get('common', 'k')), 'one');
  assert.throws(() => keyValuePlugin({ backend, isolation: 'global' as 'shared' }), /wasi-keyvalue: isolation must be "workload" or "shared", not "global"/);
});

test("the backend's default isolation applies unless the plugin is told one (the filesystem store's is 'shared', where its files have always been)", async () => {
  const root = await mkdtemp(join(tmpdir(), 'wasmhost-kv-isolation-'));
  try {
    const shared = await bindKeyValue(hosted(keyValuePlugin({ backend: new FilesystemKeyValueBackend({ root }) })), keyValueWorkload('w1'));
    await (await shared.open('b')).set('k', bytes('v'));
    const isolated = await bindKeyValue(hosted(keyValuePlugin({ backend: new FilesystemKeyValueBackend({ root }), isolation: 'workload' })), keyValueWorkload('w1'));
    await (await isolated.open('b')).set('k', bytes('v'));
    assert.deepEqual((await readdir(root)).sort(), ['b', 'default%2Fw1%2Fb']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('config "buckets" limits which identifiers open; others are access-denied', async () => {
  const plugin = hosted(keyValuePlugin({ backend: new MemoryKeyValueBackend() }));
  const kv = await bindKeyValue(plugin, keyValueWorkload('w1', { buckets: 'sessions, cache' }));
  await (await kv.open('cache')).set('k', bytes('v'));
  await kv.open('sessions');
  await rejectsWithWitError(kv.open('other'), { tag: 'access-denied' });
  const none = await bindKeyValue(plugin, keyValueWorkload('w2', { buckets: '' }));
  await rejectsWithWitError(none.open('cache'), { tag: 'access-denied' });
});

test('config "prefix" names the backend bucket', async () => {
  const backend = new MemoryKeyValueBackend();
  const kv = await bindKeyValue(hosted(keyValuePlugin({ backend })), keyValueWorkload('w1', { prefix: 'app1-' }));
  await (await kv.open('cache')).set('k', bytes('v'));
  assert.equal(text(await backend.get('default/w1/app1-cache', 'k')), 'v');
  await assert.rejects(backend.get('default/w1/cache', 'k'), /not open/);
  await assert.rejects(backend.get('app1-cache', 'k'), /not open/, 'isolation is "workload" by default');
});

test('an unknown config key fails the bind, naming the plugin and the key', async () => {
  const plugin = hosted(keyValuePlugin({ backend: new MemoryKeyValueBackend() }));
  const workload = keyValueWorkload('w1', { bucket_prefix: 'x' });
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
  const kv = await bindKeyValue(hosted(keyValuePlugin({ backend: new BrokenBackend() })), keyValueWorkload('w1', {}, { logger }));
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
  await rejectsWithWitError(kv.open('a\u0007b'), { tag: 'other', val: 'invalid bucket name "a\\u0007b": it contains a control character' });
});

test('stop closes the backend', async () => {
  let closed = 0;
  class ClosingBackend extends MemoryKeyValueBackend {
    async close(): Promise<void> {
      closed++;
    }
  }
  const plugin = hosted(keyValuePlugin({ backend: new ClosingBackend() }));
  await plugin.stop!();
  assert.equal(closed, 1);
});

test('open("") opens the default bucket, as wasmCloud components expect: prefixed and checked against config buckets as "default"', async () => {
  const backend = new MemoryKeyValueBackend();
  const plugin = hosted(keyValuePlugin({ backend }));
  const kv = await bindKeyValue(plugin, keyValueWorkload('w1', { prefix: 'app-' }));
  await (await kv.open('')).set('k', bytes('from the empty identifier'));
  assert.equal(text(await (await kv.open('default')).get('k')), 'from the empty identifier');
  assert.equal(text(await backend.get('default/w1/app-default', 'k')), 'from the empty identifier');

  const restricted = await bindKeyValue(plugin, keyValueWorkload('w2', { buckets: 'default' }));
  await (await restricted.open('')).set('k', bytes('allowed'));
  const other = await bindKeyValue(plugin, keyValueWorkload('w3', { buckets: 'visits' }));
  await rejectsWithWitError(other.open(''), { tag: 'access-denied' });
});
