import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { WasiContext, createWasiImports } from '../../src/index.ts';
import { UsageError } from '../../src/errors.ts';
import { InputStream, OutputStream } from '../../src/plugin/streams.ts';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemBlobstoreBackend, MemoryBlobstoreBackend, blobstorePlugin, type BlobstoreBackend } from '../../src/plugins/blobstore/index.ts';
import { bindBlobstore, blobstoreWorkload, getObjectText, putObject, rejectsWithString, hosted } from './plugin-harness.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

test('the plugin serves wasi:blobstore/blobstore,container,types@0.2.0-draft under the id wasi-blobstore', async () => {
  const plugin = hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend() }));
  assert.equal(plugin.id, 'wasi-blobstore');
  assert.equal(hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend(), id: 'blobs-2' })).id, 'blobs-2');
  assert.deepEqual(plugin.imports, [{ namespace: 'wasi', package: 'blobstore', interfaces: ['blobstore', 'container', 'types'], version: '0.2.0-draft' }]);
  const workload = blobstoreWorkload('w1');
  const impl = (await plugin.onComponentBind!({ workload, name: 'c', config: {}, environment: {}, allowedHosts: [], interfaces: workload.interfaces, imports: [], exports: [], logger: workload.logger }))!;
  assert.deepEqual(Object.keys(impl).sort(), ['wasi:blobstore/blobstore@0.2.0-draft', 'wasi:blobstore/container@0.2.0-draft', 'wasi:blobstore/types@0.2.0-draft']);
  assert.deepEqual(Object.keys(impl['wasi:blobstore/blobstore@0.2.0-draft']).sort(), [
    'containerExists',
    'copyObject',
    'createContainer',
    'deleteContainer',
    'getContainer',
    'moveObject',
  ]);
  assert.deepEqual(Object.keys(impl['wasi:blobstore/container@0.2.0-draft']).sort(), ['Container', 'StreamObjectNames']);
  assert.deepEqual(Object.keys(impl['wasi:blobstore/types@0.2.0-draft']).sort(), ['IncomingValue', 'OutgoingValue']);
});

test('outgoing-value: the body is a WASI output stream, stored on finish, in either order of write-data', async () => {
  const bs = await bindBlobstore(hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend() })), blobstoreWorkload('w1'));
  const container = await bs.createContainer('c');
  await putObject(bs, container, 'first', bytes('hello'));
  assert.equal(await getObjectText(bs, container, 'first', 0n, 4n), 'hello');

  // write-data before the body is written; nothing is stored until finish.
  const value = bs.OutgoingValue.newOutgoingValue();
  await container.writeData('second', value);
  const body = value.outgoingValueWriteBody();
  assert.ok(body instanceof OutputStream);
  const wasiStreams = createWasiImports(new WasiContext())['wasi:io/streams'] as { OutputStream: unknown };
  assert.equal(wasiStreams.OutputStream, OutputStream, "the guest's wasi:io import accepts this stream");
  assert.throws(() => value.outgoingValueWriteBody(), (err: unknown) => err === undefined, 'the body is handed out once');
  await body.blockingWriteAndFlush(bytes('part one, '));
  await body.blockingWriteAndFlush(bytes('part two'));
  assert.equal(await container.hasObject('second'), false);
  body[Symbol.dispose]();
  await bs.OutgoingValue.finish(value);
  assert.equal(await getObjectText(bs, container, 'second', 0n, 100n), 'part one, part two');
  // After finish the stream is closed.
  assert.throws(() => body.checkWrite(), (err: unknown) => (err as { tag: string }).tag === 'closed');
});

test('outgoing-value: one value may go to several places; dropped unfinished, it goes nowhere', async () => {
  const bs = await bindBlobstore(hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend() })), blobstoreWorkload('w1'));
  const a = await bs.createContainer('a');
  const b = await bs.createContainer('b');
  const value = bs.OutgoingValue.newOutgoingValue();
  await value.outgoingValueWriteBody().blockingWriteAndFlush(bytes('twice'));
  await a.writeData('x', value);
  await b.writeData('y', value);
  await bs.OutgoingValue.finish(value);
  assert.equal(await getObjectText(bs, a, 'x', 0n, 10n), 'twice');
  assert.equal(await getObjectText(bs, b, 'y', 0n, 10n), 'twice');

  const dropped = bs.OutgoingValue.newOutgoingValue();
  const body = dropped.outgoingValueWriteBody();
  await body.blockingWriteAndFlush(bytes('lost'));
  await a.writeData('never', dropped);
  dropped[Symbol.dispose]();
  assert.equal(await a.hasObject('never'), false);
  assert.throws(() => body.write(bytes('more')), (err: unknown) => (err as { tag: string }).tag === 'closed');

  // A value finished without write-data stores nothing and is not an error (as in wasmCloud).
  await bs.OutgoingValue.finish(bs.OutgoingValue.newOutgoingValue());
  assert.deepEqual((await a.listObjects()).readStreamObjectNames(10n), [['x'], true]);
});

test("outgoing-value: a body past the backend's size limit fails the write with a clear stream error", async () => {
  const bs = await bindBlobstore(hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend({ maxObjectSize: 10 }) })), blobstoreWorkload('w1'));
  const container = await bs.createContainer('c');
  await putObject(bs, container, 'ten', bytes('0123456789'));
  const value = bs.OutgoingValue.newOutgoingValue();
  const body = value.outgoingValueWriteBody();
  await body.blockingWriteAndFlush(bytes('01234'));
  await assert.rejects(async () => body.blockingWriteAndFlush(bytes('567890')), (err: { tag: string; val?: { toDebugString(): string } }) => {
    assert.equal(err.tag, 'last-operation-failed');
    assert.match(err.val!.toDebugString(), /object of 11 bytes exceeds the blobstore's limit of 10 bytes/);
    return true;
  });
});

test('get-data: start and end are inclusive, cut to the object; incoming values are consumed sync or as a stream', async () => {
  const bs = await bindBlobstore(hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend() })), blobstoreWorkload('w1'));
  const container = await bs.createContainer('c');
  await putObject(bs, container, 'digits', bytes('0123456789'));
  assert.equal(await getObjectText(bs, container, 'digits', 0n, 0n), '0');
  assert.equal(await getObjectText(bs, container, 'digits', 2n, 4n), '234');
  assert.equal(await getObjectText(bs, container, 'digits', 0n, 9n), '0123456789');
  assert.equal(await getObjectText(bs, container, 'digits', 5n, 2n ** 64n - 1n), '56789');
  assert.equal(await getObjectText(bs, container, 'digits', 10n, 20n), '');
  await rejectsWithString(container.getData('digits', 5n, 4n), /^invalid range: start 5 is after end 4$/);
  await rejectsWithString(container.getData('nope', 0n, 1n), /^object "nope" does not exist in container "c"$/);

  const incoming = await container.getData('digits', 1n, 3n);
  assert.equal(incoming.size(), 3n);
  const stream = bs.IncomingValue.incomingValueConsumeAsync(incoming);
  assert.ok(stream instanceof InputStream);
  assert.equal(text(await stream.blockingRead(100n)), '123');
  await assert.rejects(async () => stream.read(1n), (err: unknown) => (err as { tag: string }).tag === 'closed');
});

test('container: name, info, list-objects paging and skipping, has, info, delete and clear', async () => {
  const bs = await bindBlobstore(hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend() })), blobstoreWorkload('w1'));
  const before = BigInt(Math.floor(Date.now() / 1000));
  const container = await bs.createContainer('c');
  assert.equal(container.name(), 'c');
  const info = await container.info();
  assert.equal(info.name, 'c');
  assert.ok(info.createdAt >= before, String(info.createdAt));
  for (const name of ['d', 'b', 'a', 'c']) await putObject(bs, container, name, bytes(`object ${name}`));

  const names = await container.listObjects();
  assert.deepEqual(names.readStreamObjectNames(2n), [['a', 'b'], false]);
  assert.deepEqual(names.skipStreamObjectNames(1n), [1n, false]);
  assert.deepEqual(names.readStreamObjectNames(10n), [['d'], true]);
  assert.deepEqual(names.readStreamObjectNames(10n), [[], true]);
  assert.deepEqual(names.skipStreamObjectNames(5n), [0n, true]);
  assert.deepEqual((await container.listObjects()).skipStreamObjectNames(2n ** 64n - 1n), [4n, true]);

  assert.equal(await container.hasObject('a'), true);
  const objectInfo = await container.objectInfo('a');
  assert.deepEqual({ ...objectInfo, createdAt: typeof objectInfo.createdAt }, { name: 'a', container: 'c', size: 8n, createdAt: 'bigint' });
  await container.deleteObject('a');
  await container.deleteObject('a');
  assert.equal(await container.hasObject('a'), false);
  await container.deleteObjects(['b', 'missing']);
  assert.deepEqual((await container.listObjects()).readStreamObjectNames(10n), [['c', 'd'], true]);
  await container.clear();
  assert.deepEqual((await container.listObjects()).readStreamObjectNames(10n), [[], true]);
});

test('blobstore: create fails when the container exists, get when it does not; delete, exists, copy and move', async () => {
  const bs = await bindBlobstore(hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend() })), blobstoreWorkload('w1'));
  await rejectsWithString(bs.getContainer('c'), /^container "c" does not exist$/);
  assert.equal(await bs.containerExists('c'), false);
  const c = await bs.createContainer('c');
  await rejectsWithString(bs.createContainer('c'), /^container "c" already exists$/);
  assert.equal(await bs.containerExists('c'), true);
  assert.equal((await bs.getContainer('c')).name(), 'c');

  await putObject(bs, c, 'o', bytes('payload'));
  const d = await bs.createContainer('d');
  await bs.copyObject({ container: 'c', object: 'o' }, { container: 'd', object: 'copied' });
  await bs.moveObject({ container: 'c', object: 'o' }, { container: 'd', object: 'moved' });
  assert.equal(await c.hasObject('o'), false);
  assert.equal(await getObjectText(bs, d, 'copied', 0n, 100n), 'payload');
  assert.equal(await getObjectText(bs, d, 'moved', 0n, 100n), 'payload');
  await rejectsWithString(bs.copyObject({ container: 'd', object: 'moved' }, { container: 'missing', object: 'x' }), /container "missing" does not exist/);

  await bs.deleteContainer('d');
  assert.equal(await bs.containerExists('d'), false);
  await rejectsWithString(d.hasObject('moved'), /container "d" does not exist/);
});

test('config "buckets" allows only the named containers', async () => {
  const plugin = hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend() }));
  const bs = await bindBlobstore(plugin, blobstoreWorkload('w1', { buckets: 'uploads, thumbs' }));
  const uploads = await bs.createContainer('uploads');
  await bs.createContainer('thumbs');
  await putObject(bs, uploads, 'o', bytes('x'));
  const refused = /^container "other" is not in the workload's config "buckets"$/;
  await rejectsWithString(bs.createContainer('other'), refused);
  await rejectsWithString(bs.getContainer('other'), refused);
  await rejectsWithString(bs.containerExists('other'), refused);
  await rejectsWithString(bs.deleteContainer('other'), refused);
  await rejectsWithString(bs.copyObject({ container: 'uploads', object: 'o' }, { container: 'other', object: 'o' }), refused);
  await rejectsWithString(bs.moveObject({ container: 'other', object: 'o' }, { container: 'uploads', object: 'o' }), refused);
  await bs.copyObject({ container: 'uploads', object: 'o' }, { container: 'thumbs', object: 'o' });
  const none = await bindBlobstore(plugin, blobstoreWorkload('w2', { buckets: '' }));
  await rejectsWithString(none.createContainer('uploads'), /not in the workload's config "buckets"/);
});

test('config "read_only" refuses every change and allows every read', async () => {
  const backend = new MemoryBlobstoreBackend();
  await backend.createContainer('default/w1/c');
  await backend.writeObject('default/w1/c', 'o', bytes('0123456789'));
  const bs = await bindBlobstore(hosted(blobstorePlugin({ backend })), blobstoreWorkload('w1', { read_only: 'true' }));

  const container = await bs.getContainer('c');
  assert.equal(await bs.containerExists('c'), true);
  assert.equal(await getObjectText(bs, container, 'o', 3n, 5n), '345');
  assert.deepEqual((await container.listObjects()).readStreamObjectNames(10n), [['o'], true]);
  assert.equal(await container.hasObject('o'), true);
  assert.equal((await container.objectInfo('o')).size, 10n);
  assert.equal((await container.info()).name, 'c');

  const refused = (operation: string) => new RegExp(`^${operation} refused: the blobstore is read-only for this workload$`);
  await rejectsWithString(bs.createContainer('new'), refused('create-container'));
  await rejectsWithString(bs.deleteContainer('c'), refused('delete-container'));
  await rejectsWithString(bs.copyObject({ container: 'c', object: 'o' }, { container: 'c', object: 'p' }), refused('copy-object'));
  await rejectsWithString(bs.moveObject({ container: 'c', object: 'o' }, { container: 'c', object: 'p' }), refused('move-object'));
  await rejectsWithString(container.writeData('p', bs.OutgoingValue.newOutgoingValue()), refused('write-data'));
  await rejectsWithString(container.deleteObject('o'), refused('delete-object'));
  await rejectsWithString(container.deleteObjects(['o']), refused('delete-objects'));
  await rejectsWithString(container.clear(), refused('clear'));
  assert.deepEqual(await backend.listObjects('default/w1/c'), ['o'], 'nothing changed');
  assert.equal(await backend.containerExists('default/w1/new'), false);
});

test('bad config fails the bind, naming the plugin and the key', async () => {
  const plugin = hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend() }));
  assert.throws(
    () => plugin.onWorkloadBind!(blobstoreWorkload('w1', { readonly: 'true' })),
    (err: unknown) => err instanceof UsageError && /wasi-blobstore: unknown config key "readonly"/.test(err.message) && /buckets, read_only/.test(err.hint ?? ''),
  );
  assert.throws(() => plugin.onWorkloadBind!(blobstoreWorkload('w1', { read_only: 'yes' })), /read_only on wasi:blobstore must be "true" or "false", not "yes"/);
  await plugin.onWorkloadBind!(blobstoreWorkload('w1', { read_only: 'FALSE' }));
});

test('workloads are isolated, and unbinding drops a workload (idempotently)', async () => {
  const plugin = hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend() }));
  const one = await bindBlobstore(plugin, blobstoreWorkload('w1'));
  const two = await bindBlobstore(plugin, blobstoreWorkload('w2'));
  const c = await one.createContainer('c');
  assert.equal(await two.containerExists('c'), false);
  await plugin.onWorkloadUnbind!('w1');
  await plugin.onWorkloadUnbind!('w1');
  await rejectsWithString(one.createContainer('c'), /^the workload is no longer running$/);
  await rejectsWithString(c.hasObject('o'), /container "c" does not exist/);
  await two.createContainer('c');
});

test('the last replica to unbind frees every container of the workload, whichever replica made it', async () => {
  const backend = new MemoryBlobstoreBackend();
  const plugin = hosted(blobstorePlugin({ backend }));
  const first = await bindBlobstore(plugin, blobstoreWorkload('r1', {}, { name: 'app' }));
  const second = await bindBlobstore(plugin, blobstoreWorkload('r2', {}, { name: 'app' }));
  await first.createContainer('x');
  await second.createContainer('y');
  await rejectsWithString(second.createContainer('x'), /^container "x" already exists$/); // replicas share containers
  await plugin.onWorkloadUnbind!('r1');
  assert.equal(await backend.containerExists('default/app/x'), true, 'kept while a replica runs');
  await plugin.onWorkloadUnbind!('r2');
  assert.equal(await backend.containerExists('default/app/x'), false);
  assert.equal(await backend.containerExists('default/app/y'), false);
});

test("isolation 'workload': identities holding '/' or '%' never meet; the guest sees only its own names", async () => {
  const backend = new MemoryBlobstoreBackend();
  const plugin = hosted(blobstorePlugin({ backend }));
  const ab = await bindBlobstore(plugin, blobstoreWorkload('w1', {}, { namespace: 'a/b', name: 'c' }));
  const bc = await bindBlobstore(plugin, blobstoreWorkload('w2', {}, { namespace: 'a', name: 'b/c' }));
  const d = await ab.createContainer('d');
  await putObject(ab, d, 'o', bytes('a/b + c'));
  assert.equal(await bc.containerExists('d'), false);
  assert.deepEqual(await backend.listObjects('a%2Fb/c/d'), ['o']);
  assert.equal(d.name(), 'd');
  assert.equal((await d.info()).name, 'd');
  assert.equal((await d.objectInfo('o')).container, 'd');
  await rejectsWithString(ab.createContainer('d'), /^container "d" already exists$/);
  await rejectsWithString(d.getData('nope', 0n, 1n), /^object "nope" does not exist in container "d"$/);
  await rejectsWithString(ab.copyObject({ container: 'd', object: 'o' }, { container: 'gone', object: 'o' }), /^container "gone" does not exist$/);
  await rejectsWithString(ab.createContainer('x'.repeat(1025)), /^invalid container name "x{64}": it is longer than 1024 characters$/);
  await ab.createContainer('x'.repeat(1024));
});

test("isolation 'shared': workloads that name a container alike share it, and unbinding frees nothing", async () => {
  const backend = new MemoryBlobstoreBackend();
  const plugin = hosted(blobstorePlugin({ backend, isolation: 'shared' }));
  const one = await bindBlobstore(plugin, blobstoreWorkload('w1'));
  const two = await bindBlobstore(plugin, blobstoreWorkload('w2'));
  await putObject(one, await one.createContainer('common'), 'o', bytes('one'));
  assert.equal(await getObjectText(two, await two.getContainer('common'), 'o', 0n, 10n), 'one');
  await plugin.onWorkloadUnbind!('w1');
  await plugin.onWorkloadUnbind!('w2');
  assert.deepEqual(await backend.listObjects('common'), ['o']);
  assert.throws(() => blobstorePlugin({ backend, isolation: 'global' as 'shared' }), /wasi-blobstore: isolation must be "workload" or "shared", not "global"/);
});

test("the backend's default isolation applies unless the plugin is told one (the filesystem store's is 'shared', where its files have always been)", async () => {
  const root = await mkdtemp(join(tmpdir(), 'wasmhost-blob-isolation-'));
  try {
    const shared = await bindBlobstore(hosted(blobstorePlugin({ backend: new FilesystemBlobstoreBackend({ root }) })), blobstoreWorkload('w1'));
    await shared.createContainer('b');
    const isolated = await bindBlobstore(hosted(blobstorePlugin({ backend: new FilesystemBlobstoreBackend({ root }), isolation: 'workload' })), blobstoreWorkload('w1'));
    await isolated.createContainer('b');
    assert.deepEqual((await readdir(root)).sort(), ['b', 'default%2Fw1%2Fb']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('an unexpected backend failure reaches the guest without host details and is logged', async () => {
  class BrokenBackend extends MemoryBlobstoreBackend {
    override async listObjects(): Promise<string[]> {
      throw new Error("EACCES: permission denied, scandir '/srv/secret/blobs'");
    }
  }
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const bs = await bindBlobstore(hosted(blobstorePlugin({ backend: new BrokenBackend() as BlobstoreBackend })), blobstoreWorkload('w1', {}, { logger }));
  const container = await bs.createContainer('c');
  await rejectsWithString(container.listObjects(), /^list-objects failed: internal error in the blobstore$/);
  const warning = lines.find((l) => l.msg === 'blobstore backend failed');
  assert.match(JSON.stringify(warning?.err), /\/srv\/secret\/blobs/);
});
