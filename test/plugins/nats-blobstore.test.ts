// The NATS JetStream object-store blobstore backend against the real server: the shared backend
// suite, byte ranges that fetch only the chunks they cover, a large object, the size and name
// limits, per-workload and shared containers, containers an older version named, containers
// created by two hosts at once, and the
// plugin's `buckets` and `read_only` config enforced over this backend. Outages:
// nats-reconnect.test.ts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { Objm } from '@nats-io/obj';
import {
  BlobstoreError,
  DEFAULT_NATS_MAX_OBJECT_SIZE,
  MAX_NATS_OBJECT_NAME_BYTES,
  NatsBlobstoreBackend,
  blobstorePlugin,
  type BlobstoreBackend,
  type NatsBlobstoreOptions,
} from '../../src/plugins/blobstore/index.ts';
import { NATS_URL, service } from '../services.ts';
import { blobstoreBackendSuite, rejectsWith } from './blobstore-backend-suite.ts';
import { natsTestRun } from './nats-test-helpers.ts';
import { bindBlobstore, blobstoreWorkload, getObjectText, putObject, rejectsWithString, hosted } from './plugin-harness.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

const skip = await service('NATS', NATS_URL);
/** Every object store of this run starts with `OBJ_<run>`: removed at the end. */
const { freshPrefix, connectTo, sharedConnection, jsm, runStreams, cleanup } = natsTestRun('whbs', 'OBJ_');

async function backend(options: Partial<NatsBlobstoreOptions> = {}): Promise<NatsBlobstoreBackend> {
  return new NatsBlobstoreBackend({ connection: await sharedConnection(), bucketPrefix: freshPrefix(), ...options });
}

after(cleanup);

/** Bytes that differ at every offset of a chunk, so a misplaced chunk or offset shows. */
function pattern(size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + (i >> 17)) % 251;
  return data;
}

test('NatsBlobstoreBackend refuses bad options at construction', () => {
  const connection = {} as NatsConnection;
  assert.throws(() => new NatsBlobstoreBackend({ connection, bucketPrefix: 'a b' }), /bucket prefix "a b" may hold only/);
  assert.throws(() => new NatsBlobstoreBackend({ connection, isolation: 'none' as 'shared' }), /isolation must be "workload" or "shared"/);
  assert.throws(() => new NatsBlobstoreBackend({ connection, maxObjectSize: -1 }), /maxObjectSize must be an integer of at least 0/);
  assert.throws(() => new NatsBlobstoreBackend({ connection, timeoutMs: 0 }), /timeoutMs must be an integer of at least 1/);
});

describe('NATS blobstore backend', { skip }, () => {
  blobstoreBackendSuite('nats', 100_000, async () => {
    const bs = await backend({ maxObjectSize: 100_000 });
    return { backend: bs, close: () => bs.close() };
  });

  test('nats: byte ranges fetch only the chunks they cover', async () => {
    const nc = await sharedConnection();
    const bs = await backend();
    await bs.createContainer('c');
    const size = 5 * 1024 * 1024 + 123;
    const data = pattern(size);
    await bs.writeObject('c', 'big', data);
    const chunk = 128 * 1024;
    const ranges: [number, number][] = [
      [0, 10],
      [chunk - 3, chunk + 3], // across a chunk boundary
      [3_000_000, 3_000_010],
      [chunk * 10, chunk * 12], // exactly two whole chunks
      [size - 5, size + 1000], // the tail, cut to the size
      [1, size], // all but the first byte
    ];
    for (const [start, end] of ranges) {
      const before = nc.stats().inBytes;
      const read = await bs.readObject('c', 'big', start, end);
      const received = nc.stats().inBytes - before;
      assert.ok(Buffer.from(read).equals(Buffer.from(data.subarray(start, Math.min(end, size)))), `bytes ${start}-${end}`);
      const chunksCovered = Math.floor((Math.min(end, size) - 1) / chunk) - Math.floor(start / chunk) + 1;
      // The covered chunks, plus a little per chunk for the headers-only listing.
      assert.ok(received < chunksCovered * chunk + 64 * 1024, `bytes ${start}-${end} received ${received} bytes for ${chunksCovered} chunks`);
    }
    assert.deepEqual(await bs.readObject('c', 'big', size, size + 10), new Uint8Array(0));
  });

  test('nats: a 5 MiB object round-trips whole, and is listed and described', async () => {
    const bs = await backend();
    await bs.createContainer('c');
    const data = pattern(5 * 1024 * 1024);
    await bs.writeObject('c', 'dir/large.bin', data);
    const read = await bs.readObject('c', 'dir/large.bin', 0, data.length);
    assert.equal(read.length, data.length);
    assert.ok(Buffer.from(read).equals(Buffer.from(data)));
    assert.equal((await bs.objectInfo('c', 'dir/large.bin')).size, data.length);
    assert.deepEqual(await bs.listObjects('c'), ['dir/large.bin']);
    // Replaced by a small one: the old chunks go, the new one reads back.
    await bs.writeObject('c', 'dir/large.bin', bytes('small now'));
    assert.equal(text(await bs.readObject('c', 'dir/large.bin', 0, 100)), 'small now');
    assert.equal(text(await bs.readObject('c', 'dir/large.bin', 6, 100)), 'now');
  });

  test('nats: objects are capped at 64 MiB by default; copies are capped too', async () => {
    assert.equal(DEFAULT_NATS_MAX_OBJECT_SIZE, 64 * 1024 * 1024);
    assert.equal((await backend()).maxObjectSize, DEFAULT_NATS_MAX_OBJECT_SIZE);
    const bucketPrefix = freshPrefix();
    const roomy = await backend({ bucketPrefix, maxObjectSize: 1000 });
    await roomy.createContainer('c');
    await roomy.writeObject('c', 'kilo', new Uint8Array(1000));
    const tight = await backend({ bucketPrefix, maxObjectSize: 999 });
    await rejectsWith(tight.copyObject({ container: 'c', object: 'kilo' }, { container: 'c', object: 'copy' }), /object of 1000 bytes exceeds the blobstore's limit of 999 bytes/);
    assert.equal(await tight.hasObject('c', 'copy'), false);
  });

  test('nats: object names up to 2 KiB of UTF-8 are stored; longer ones are refused before NATS sees them', async () => {
    const nc = await sharedConnection();
    const bs = await backend();
    await bs.createContainer('c');
    const longest = 'é'.repeat(MAX_NATS_OBJECT_NAME_BYTES / 2); // 1024 characters, 2048 bytes
    await bs.writeObject('c', longest, bytes('fits'));
    assert.equal(text(await bs.readObject('c', longest, 0, 10)), 'fits');
    await rejectsWith(bs.writeObject('c', '中'.repeat(700), bytes('x')), /too long for the NATS object store \(2100 bytes of UTF-8, at most 2048\)/);
    await rejectsWith(bs.readObject('c', 'lone \ud800', 0, 1), /not well-formed Unicode/);
    assert.deepEqual(await bs.listObjects('c'), [longest]);
    assert.equal(nc.isClosed(), false);
  });

  test('nats: non-ASCII object names are listed as written and stored under the subject every NATS client computes', async () => {
    const bucketPrefix = freshPrefix();
    const bs = await backend({ bucketPrefix, isolation: 'shared' });
    await bs.createContainer('c');
    const names = ['é', '中文/ünï ✓', '🎉', 'Ã©', 'plain'];
    for (const name of names) await bs.writeObject('c', name, bytes(`is ${name}`));
    assert.deepEqual(await bs.listObjects('c'), [...names].sort());
    for (const name of names) assert.equal(text(await bs.readObject('c', name, 0, 100)), `is ${name}`);
    // ADR-20: the metadata subject is $O.<bucket>.M.<base64url(UTF-8 name), padded>.
    for (const name of names) {
      const encoded = Buffer.from(name, 'utf8').toString('base64url');
      const padded = `$O.${bucketPrefix}c.M.${encoded}${'='.repeat((4 - (encoded.length % 4)) % 4)}`;
      const meta = await (await jsm()).streams.getMessage(`OBJ_${bucketPrefix}c`, { last_by_subj: padded });
      assert.ok(meta, `metadata of ${name} under ${padded}`);
    }
    await bs.deleteObject('c', '中文/ünï ✓');
    await bs.moveObject({ container: 'c', object: '🎉' }, { container: 'c', object: 'ü' });
    assert.deepEqual(await bs.listObjects('c'), ['plain', 'ü', 'Ã©', 'é'].sort());
  });

  test('nats: a container is created once even when two hosts race; createdAt is the stream\'s and lasts', async () => {
    const bucketPrefix = freshPrefix();
    const hosts = await Promise.all([0, 1].map(async () => new NatsBlobstoreBackend({ connection: await connectTo(), bucketPrefix })));
    const attempts = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => hosts[i % 2].createContainer('photos')));
    const created = attempts.filter((a) => a.status === 'fulfilled');
    assert.equal(created.length, 1, JSON.stringify(attempts.map((a) => a.status)));
    for (const attempt of attempts) {
      if (attempt.status === 'rejected') {
        assert.ok(attempt.reason instanceof BlobstoreError);
        assert.match(attempt.reason.message, /^container "photos" already exists$/);
      }
    }
    const info = (created[0] as PromiseFulfilledResult<{ name: string; createdAt: number }>).value;
    const later = new NatsBlobstoreBackend({ connection: await connectTo(), bucketPrefix });
    assert.deepEqual(await later.containerInfo('photos'), info);
    // Once made, creating it again fails from any host.
    await rejectsWith(later.createContainer('photos'), /already exists/);
  });

  test("nats: a container's object store is its name, encoded; the plugin's isolation (the backend's default, else 'workload') makes that name", async () => {
    const bucketPrefix = freshPrefix();
    const bs = await backend({ bucketPrefix });
    assert.equal(bs.defaultIsolation, 'workload');
    const plugin = hosted(blobstorePlugin({ backend: bs }));
    const a = await bindBlobstore(plugin, blobstoreWorkload('a', {}, { namespace: 'prod', name: 'app-a' }));
    const b = await bindBlobstore(plugin, blobstoreWorkload('b', {}, { namespace: 'prod', name: 'app-b' }));
    await putObject(a, await a.createContainer('c'), 'o', bytes('a'));
    assert.equal(await b.containerExists('c'), false);
    await b.createContainer('c');
    assert.deepEqual(await runStreams(bucketPrefix), [`OBJ_${bucketPrefix}prod-2Fapp-2Da-2Fc`, `OBJ_${bucketPrefix}prod-2Fapp-2Db-2Fc`]);

    const sharedPrefix = freshPrefix();
    const common = hosted(blobstorePlugin({ backend: await backend({ bucketPrefix: sharedPrefix, isolation: 'shared' }) }));
    const one = await bindBlobstore(common, blobstoreWorkload('a', {}, { namespace: 'prod', name: 'app-a' }));
    const two = await bindBlobstore(common, blobstoreWorkload('b', {}, { namespace: 'prod', name: 'app-b' }));
    await putObject(one, await one.createContainer('assets'), 'logo', bytes('png'));
    assert.equal(await getObjectText(two, await two.getContainer('assets'), 'logo', 0n, 10n), 'png');
    await rejectsWithString(two.createContainer('assets'), /^container "assets" already exists$/);
    assert.deepEqual(await runStreams(sharedPrefix), [`OBJ_${sharedPrefix}assets`]);
  });

  test('nats: a container an older version stored under encode(scope)_encode(container) is found, used and deleted there; made again, it gets the new name', async () => {
    const bucketPrefix = freshPrefix();
    // The store as the previous version named it for workload ns/app, made with a plain client.
    const oldName = `${bucketPrefix}ns-2Fapp_photos`;
    const os = await new Objm(await sharedConnection()).create(oldName);
    await os.putBlob({ name: 'cat.jpg' }, bytes('meow'));
    const plugin = hosted(blobstorePlugin({ backend: await backend({ bucketPrefix }) }));
    const app = await bindBlobstore(plugin, blobstoreWorkload('app-1', {}, { namespace: 'ns', name: 'app' }));
    assert.equal(await app.containerExists('photos'), true);
    const photos = await app.getContainer('photos');
    assert.equal(await getObjectText(app, photos, 'cat.jpg', 0n, 10n), 'meow');
    await rejectsWithString(app.createContainer('photos'), /^container "photos" already exists$/);
    await putObject(app, photos, 'dog.jpg', bytes('woof'));
    assert.deepEqual((await photos.listObjects()).readStreamObjectNames(10n), [['cat.jpg', 'dog.jpg'], true]);
    assert.deepEqual(await runStreams(bucketPrefix), [`OBJ_${oldName}`], 'nothing made under the new name');
    // Another workload's name is not an older store of this one.
    const other = await bindBlobstore(plugin, blobstoreWorkload('other-1', {}, { namespace: 'ns', name: 'other' }));
    assert.equal(await other.containerExists('photos'), false);

    await app.deleteContainer('photos');
    assert.deepEqual(await runStreams(bucketPrefix), []);
    await app.createContainer('photos');
    assert.deepEqual(await runStreams(bucketPrefix), [`OBJ_${bucketPrefix}ns-2Fapp-2Fphotos`]);
  });

  test('nats: an object-store link made by another tool is listed but not followed', async () => {
    const bucketPrefix = freshPrefix();
    const bs = await backend({ bucketPrefix, isolation: 'shared' });
    await bs.createContainer('c');
    await bs.writeObject('c', 'real', bytes('data'));
    const os = await new Objm(await sharedConnection()).open(`${bucketPrefix}c`);
    await os.link('alias', (await os.info('real'))!);
    assert.deepEqual(await bs.listObjects('c'), ['alias', 'real']);
    await rejectsWith(bs.readObject('c', 'alias', 0, 10), /object "alias" of container "c" is a NATS object-store link, which this backend does not follow/);
    await rejectsWith(bs.copyObject({ container: 'c', object: 'alias' }, { container: 'c', object: 'x' }), /is a NATS object-store link/);
    assert.equal(text(await bs.readObject('c', 'real', 0, 10)), 'data');
  });

  test('nats: odd container names never collide; too long ones are refused', async () => {
    const bs = await backend();
    const names = ['a_b', 'a-b', 'a-5Fb', 'a.b', 'A', 'a', '🎉', 'a/b'];
    for (const name of names) {
      await bs.createContainer(name);
      await bs.writeObject(name, 'who', bytes(name));
    }
    for (const name of names) assert.equal(text(await bs.readObject(name, 'who', 0, 100)), name);
    await rejectsWith(bs.createContainer('x'.repeat(300)), /invalid container name "x+": too long for NATS once encoded/);
  });

  test('nats: a new connection and backend see containers and objects (host restart); the last replica stopping deletes nothing', async () => {
    const bucketPrefix = freshPrefix();
    const first = new NatsBlobstoreBackend({ connection: await connectTo(), bucketPrefix });
    assert.equal((first as BlobstoreBackend).dropContainers, undefined, 'no call frees data meant to outlive workloads');
    await first.createContainer('c');
    await first.writeObject('c', 'o', bytes('kept'));
    await first.close();
    await rejectsWith(first.listObjects('c'), /list objects of container "c" failed: the NATS blobstore backend is closed/);
    const nc = await connectTo();
    const second = new NatsBlobstoreBackend({ connection: nc, bucketPrefix });
    assert.equal(text(await second.readObject('c', 'o', 0, 10)), 'kept');
    await second.close();
    assert.equal(nc.isClosed(), false, "close leaves the caller's connection open");
  });

  describe('through the plugin', () => {
    /** A workload of its own (a fresh id) in namespace `nats-test`. */
    const workloadOf = (name: string, config: Record<string, string>) => blobstoreWorkload(`${name}-${randomUUID()}`, config, { namespace: 'nats-test', name });

    test('nats plugin: config "buckets" allows only the named containers', async () => {
      const bucketPrefix = freshPrefix();
      const guest = await bindBlobstore(hosted(blobstorePlugin({ backend: await backend({ bucketPrefix }) })), workloadOf('app', { buckets: 'uploads, thumbs' }));
      const uploads = await guest.createContainer('uploads');
      await guest.createContainer('thumbs');
      await putObject(guest, uploads, 'o', bytes('picture'));
      assert.equal(await getObjectText(guest, uploads, 'o', 2n, 4n), 'ctu', 'get-data has an inclusive end');
      const notAllowed = /^container "other" is not in the workload's config "buckets"$/;
      await rejectsWithString(guest.createContainer('other'), notAllowed);
      await rejectsWithString(guest.getContainer('other'), notAllowed);
      await rejectsWithString(guest.containerExists('other'), notAllowed);
      await rejectsWithString(guest.deleteContainer('other'), notAllowed);
      await rejectsWithString(guest.copyObject({ container: 'uploads', object: 'o' }, { container: 'other', object: 'o' }), notAllowed);
      await rejectsWithString(guest.moveObject({ container: 'other', object: 'o' }, { container: 'uploads', object: 'o' }), notAllowed);
      await guest.copyObject({ container: 'uploads', object: 'o' }, { container: 'thumbs', object: 'o' });
      // Only the two allowed containers exist in NATS.
      assert.equal((await runStreams(bucketPrefix)).length, 2);
    });

    test('nats plugin: config "read_only" refuses every change and allows every read', async () => {
      const bucketPrefix = freshPrefix();
      // Shared isolation: the data is seeded without knowing how the plugin names the workload's scope.
      const bs = await backend({ bucketPrefix, isolation: 'shared' });
      await bs.createContainer('c');
      await bs.writeObject('c', 'o', bytes('0123456789'));
      const guest = await bindBlobstore(hosted(blobstorePlugin({ backend: bs })), workloadOf('reader', { read_only: 'true' }));

      const container = await guest.getContainer('c');
      assert.equal(await guest.containerExists('c'), true);
      assert.equal(await getObjectText(guest, container, 'o', 3n, 5n), '345');
      assert.deepEqual((await container.listObjects()).readStreamObjectNames(10n), [['o'], true]);
      assert.equal(await container.hasObject('o'), true);

      const readOnly = (operation: string) => new RegExp(`^${operation} refused: the blobstore is read-only for this workload$`);
      await rejectsWithString(guest.createContainer('new'), readOnly('create-container'));
      await rejectsWithString(guest.deleteContainer('c'), readOnly('delete-container'));
      await rejectsWithString(guest.copyObject({ container: 'c', object: 'o' }, { container: 'c', object: 'p' }), readOnly('copy-object'));
      await rejectsWithString(guest.moveObject({ container: 'c', object: 'o' }, { container: 'c', object: 'p' }), readOnly('move-object'));
      await rejectsWithString(container.writeData('p', guest.OutgoingValue.newOutgoingValue()), readOnly('write-data'));
      await rejectsWithString(container.deleteObject('o'), readOnly('delete-object'));
      await rejectsWithString(container.deleteObjects(['o']), readOnly('delete-objects'));
      await rejectsWithString(container.clear(), readOnly('clear'));
      assert.deepEqual(await bs.listObjects('c'), ['o'], 'nothing changed');
      assert.equal(text(await bs.readObject('c', 'o', 0, 100)), '0123456789');
      assert.deepEqual(await runStreams(bucketPrefix), [`OBJ_${bucketPrefix}c`], 'no container was created');
    });

    test('nats plugin: two workloads on one workload-isolated backend do not see each other', async () => {
      const plugin = hosted(blobstorePlugin({ backend: await backend() }));
      const one = await bindBlobstore(plugin, workloadOf('one', {}));
      const two = await bindBlobstore(plugin, workloadOf('two', {}));
      await putObject(one, await one.createContainer('c'), 'o', bytes('mine'));
      assert.equal(await two.containerExists('c'), false);
      await rejectsWithString(two.getContainer('c'), /^container "c" does not exist$/);
    });
  });
});
