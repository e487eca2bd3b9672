/**
 * The behaviour every `BlobstoreBackend` must have: run by blobstore-backends.test.ts against the
 * memory and filesystem backends, and meant for the NATS and PostgreSQL ones too. Each test gets
 * a fresh backend from `open` whose object size limit is `maxObjectSize`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlobstoreError, type BlobstoreBackend } from '../../src/plugins/blobstore/index.ts';

export interface BackendUnderTest {
  backend: BlobstoreBackend;
  close(): Promise<void>;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

/** Asserts that `promise` fails with a BlobstoreError whose message matches `message`. */
export async function rejectsWith(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof BlobstoreError, `expected a BlobstoreError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

export function blobstoreBackendSuite(name: string, maxObjectSize: number, open: () => Promise<BackendUnderTest>): void {
  async function withBackend(body: (backend: BlobstoreBackend) => Promise<void>): Promise<void> {
    const { backend, close } = await open();
    try {
      await body(backend);
    } finally {
      await close();
    }
  }

  test(`${name}: containers are created once, found, described and deleted`, () =>
    withBackend(async (bs) => {
      assert.equal(await bs.containerExists('c'), false);
      await rejectsWith(bs.containerInfo('c'), /container "c" does not exist/);
      const before = Math.floor(Date.now() / 1000);
      const created = await bs.createContainer('c');
      assert.equal(created.name, 'c');
      assert.ok(created.createdAt >= before && created.createdAt <= Math.ceil(Date.now() / 1000), String(created.createdAt));
      assert.deepEqual(await bs.containerInfo('c'), created);
      assert.equal(await bs.containerExists('c'), true);
      await rejectsWith(bs.createContainer('c'), /container "c" already exists/);

      await bs.writeObject('c', 'o', bytes('data'));
      await bs.deleteContainer('c');
      assert.equal(await bs.containerExists('c'), false);
      await bs.deleteContainer('c'); // a missing container is not an error
      await bs.createContainer('c');
      assert.deepEqual(await bs.listObjects('c'), [], 'a container created again starts empty');
    }));

  test(`${name}: objects are written, replaced, read, described and deleted`, () =>
    withBackend(async (bs) => {
      await bs.createContainer('c');
      await bs.writeObject('c', 'o', bytes('first version'));
      await bs.writeObject('c', 'o', bytes('hello world'));
      assert.equal(text(await bs.readObject('c', 'o', 0, 11)), 'hello world');
      const info = await bs.objectInfo('c', 'o');
      assert.equal(info.name, 'o');
      assert.equal(info.container, 'c');
      assert.equal(info.size, 11);
      assert.ok(Math.abs(info.createdAt - Date.now() / 1000) < 5, String(info.createdAt));
      assert.equal(await bs.hasObject('c', 'o'), true);
      await bs.deleteObject('c', 'o');
      assert.equal(await bs.hasObject('c', 'o'), false);
      await bs.deleteObject('c', 'o'); // a missing object is not an error
      await rejectsWith(bs.objectInfo('c', 'o'), /object "o" does not exist in container "c"/);
      await rejectsWith(bs.readObject('c', 'o', 0, 1), /object "o" does not exist/);

      await bs.writeObject('c', 'empty', new Uint8Array(0));
      assert.equal((await bs.objectInfo('c', 'empty')).size, 0);
      assert.deepEqual(await bs.readObject('c', 'empty', 0, 10), new Uint8Array(0));
    }));

  test(`${name}: reads take [start, end) cut to the object's size`, () =>
    withBackend(async (bs) => {
      await bs.createContainer('c');
      await bs.writeObject('c', 'digits', bytes('0123456789'));
      assert.equal(text(await bs.readObject('c', 'digits', 2, 5)), '234');
      assert.equal(text(await bs.readObject('c', 'digits', 7, 1000)), '789');
      assert.equal(text(await bs.readObject('c', 'digits', 9, 10)), '9');
      assert.equal(text(await bs.readObject('c', 'digits', 10, 20)), '');
      assert.equal(text(await bs.readObject('c', 'digits', 4, 4)), '');
      const data = new Uint8Array(70_000).map((_, i) => i % 251);
      await bs.writeObject('c', 'big', data);
      assert.deepEqual(await bs.readObject('c', 'big', 65_530, 65_545), data.slice(65_530, 65_545));
    }));

  test(`${name}: objects larger than the limit are refused with a clear error`, () =>
    withBackend(async (bs) => {
      assert.equal(bs.maxObjectSize, maxObjectSize);
      await bs.createContainer('c');
      await bs.writeObject('c', 'at-limit', new Uint8Array(maxObjectSize));
      assert.equal((await bs.objectInfo('c', 'at-limit')).size, maxObjectSize);
      await rejectsWith(
        bs.writeObject('c', 'too-big', new Uint8Array(maxObjectSize + 1)),
        new RegExp(`object of ${maxObjectSize + 1} bytes exceeds the blobstore's limit of ${maxObjectSize} bytes`),
      );
      assert.equal(await bs.hasObject('c', 'too-big'), false);
    }));

  test(`${name}: list, clear and names that look like paths`, () =>
    withBackend(async (bs) => {
      await bs.createContainer('c');
      const names = ['b', 'a', 'dir/file.txt', '../up', '.hidden', 'Upper', 'upper', 'ünï ✓'];
      for (const n of names) await bs.writeObject('c', n, bytes(n));
      assert.deepEqual(await bs.listObjects('c'), [...names].sort());
      for (const n of names) assert.equal(text(await bs.readObject('c', n, 0, 100)), n);
      await bs.clearContainer('c');
      assert.deepEqual(await bs.listObjects('c'), []);
      assert.equal(await bs.containerExists('c'), true, 'clear keeps the container');
    }));

  test(`${name}: copy and move, within and across containers`, () =>
    withBackend(async (bs) => {
      await bs.createContainer('src');
      await bs.createContainer('dst');
      await bs.writeObject('src', 'o', bytes('payload'));
      await bs.writeObject('dst', 'existing', bytes('old'));

      await bs.copyObject({ container: 'src', object: 'o' }, { container: 'src', object: 'copy' });
      await bs.copyObject({ container: 'src', object: 'o' }, { container: 'dst', object: 'existing' });
      assert.equal(text(await bs.readObject('src', 'copy', 0, 100)), 'payload');
      assert.equal(text(await bs.readObject('dst', 'existing', 0, 100)), 'payload', 'copy replaces the destination');
      assert.equal(await bs.hasObject('src', 'o'), true);

      await bs.moveObject({ container: 'src', object: 'o' }, { container: 'dst', object: 'moved' });
      assert.equal(await bs.hasObject('src', 'o'), false);
      assert.equal(text(await bs.readObject('dst', 'moved', 0, 100)), 'payload');
      await bs.moveObject({ container: 'dst', object: 'moved' }, { container: 'dst', object: 'moved' });
      assert.equal(await bs.hasObject('dst', 'moved'), true, 'moving onto itself keeps the object');

      await rejectsWith(bs.copyObject({ container: 'src', object: 'nope' }, { container: 'dst', object: 'x' }), /object "nope" does not exist/);
      await rejectsWith(bs.copyObject({ container: 'src', object: 'copy' }, { container: 'missing', object: 'x' }), /container "missing" does not exist/);
      await rejectsWith(bs.moveObject({ container: 'src', object: 'copy' }, { container: 'missing', object: 'x' }), /container "missing" does not exist/);
      assert.equal(await bs.hasObject('src', 'copy'), true, 'a failed move keeps the source');
      await rejectsWith(bs.moveObject({ container: 'gone', object: 'o' }, { container: 'dst', object: 'x' }), /container "gone" does not exist/);
    }));

  test(`${name}: object operations on a missing container fail naming it`, () =>
    withBackend(async (bs) => {
      const missing = /container "nope" does not exist/;
      await rejectsWith(bs.writeObject('nope', 'o', bytes('x')), missing);
      await rejectsWith(bs.readObject('nope', 'o', 0, 1), missing);
      await rejectsWith(bs.listObjects('nope'), missing);
      await rejectsWith(bs.hasObject('nope', 'o'), missing);
      await rejectsWith(bs.objectInfo('nope', 'o'), missing);
      await rejectsWith(bs.deleteObject('nope', 'o'), missing);
      await rejectsWith(bs.clearContainer('nope'), missing);
    }));

  test(`${name}: bad names are refused with a reason`, () =>
    withBackend(async (bs) => {
      await rejectsWith(bs.createContainer(''), /invalid container name "": it is empty/);
      await rejectsWith(bs.createContainer('tab\there'), /control character/);
      await bs.createContainer('c');
      await rejectsWith(bs.writeObject('c', '', bytes('x')), /invalid object name "": it is empty/);
      await rejectsWith(bs.writeObject('c', 'x'.repeat(1025), bytes('x')), /longer than 1024/);
    }));

  test(`${name}: dropContainers, where the backend has it, forgets exactly the containers under the prefix, idempotently`, () =>
    withBackend(async (bs) => {
      await bs.createContainer('ns/a/c');
      await bs.createContainer('ns/ab/c');
      if (!bs.dropContainers) return; // a store meant to outlive workloads keeps everything
      await bs.dropContainers('ns/a/');
      await bs.dropContainers('ns/a/');
      assert.equal(await bs.containerExists('ns/a/c'), false);
      assert.equal(await bs.containerExists('ns/ab/c'), true);
    }));
}
