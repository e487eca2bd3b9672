import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DEFAULT_MEMORY_MAX_OBJECT_SIZE, FilesystemBlobstoreBackend, MemoryBlobstoreBackend } from '../../src/plugins/blobstore/index.ts';
import { blobstoreBackendSuite, rejectsWith } from './blobstore-backend-suite.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

/** A temporary directory with `root` inside it, so that anything written beside the root shows. */
async function tempRoot(): Promise<{ parent: string; root: string; remove(): Promise<void> }> {
  const parent = await mkdtemp(join(tmpdir(), 'wasmhost-blob-'));
  return { parent, root: join(parent, 'root'), remove: () => rm(parent, { recursive: true, force: true }) };
}

blobstoreBackendSuite('memory', 100_000, async () => ({ backend: new MemoryBlobstoreBackend({ maxObjectSize: 100_000 }), close: async () => {} }));

blobstoreBackendSuite('filesystem', 100_000, async () => {
  const dir = await tempRoot();
  return { backend: new FilesystemBlobstoreBackend({ root: dir.root, maxObjectSize: 100_000 }), close: dir.remove };
});

test('memory: objects are capped at 1 MiB by default', async () => {
  const bs = new MemoryBlobstoreBackend();
  assert.equal(bs.maxObjectSize, 1024 * 1024);
  assert.equal(DEFAULT_MEMORY_MAX_OBJECT_SIZE, 1024 * 1024);
  await bs.createContainer('c');
  await bs.writeObject('c', 'max', new Uint8Array(1024 * 1024));
  await rejectsWith(bs.writeObject('c', 'over', new Uint8Array(1024 * 1024 + 1)), /exceeds the blobstore's limit of 1048576 bytes/);
});

test('memory: dropContainers frees the containers under a prefix and nothing else', async () => {
  const bs = new MemoryBlobstoreBackend();
  await bs.createContainer('default/w1/c');
  await bs.writeObject('default/w1/c', 'o', bytes('w1'));
  await bs.createContainer('default/w2/c');
  await bs.dropContainers('default/w1/');
  assert.equal(await bs.containerExists('default/w1/c'), false);
  await rejectsWith(bs.readObject('default/w1/c', 'o', 0, 10), /container "default\/w1\/c" does not exist/);
  assert.equal(await bs.containerExists('default/w2/c'), true);
});

test('memory: stored objects are copies', async () => {
  const bs = new MemoryBlobstoreBackend();
  await bs.createContainer('c');
  const data = bytes('abc');
  await bs.writeObject('c', 'o', data);
  data[0] = 0;
  const read = await bs.readObject('c', 'o', 0, 3);
  read[1] = 0;
  assert.equal(text(await bs.readObject('c', 'o', 0, 3)), 'abc');
});

test('filesystem: a new backend over the same root sees containers and objects (host restart)', async () => {
  const dir = await tempRoot();
  try {
    const first = new FilesystemBlobstoreBackend({ root: dir.root });
    const created = await first.createContainer('photos');
    await first.writeObject('photos', '2024/cat.jpg', bytes('meow'));
    const second = new FilesystemBlobstoreBackend({ root: dir.root });
    assert.deepEqual(await second.containerInfo('photos'), created);
    assert.deepEqual(await second.listObjects('photos'), ['2024/cat.jpg']);
    assert.equal(text(await second.readObject('photos', '2024/cat.jpg', 0, 100)), 'meow');
    await rejectsWith(second.createContainer('photos'), /already exists/);
  } finally {
    await dir.remove();
  }
});

test('filesystem: no container or object name can leave the root', async () => {
  const dir = await tempRoot();
  try {
    const bs = new FilesystemBlobstoreBackend({ root: dir.root });
    const containers = ['..', '../outside', '/abs', '.'];
    const objects = ['..', '../../escape', '/etc/passwd', 'a/../../b', 'back\\slash', '.container'];
    for (const c of containers) {
      await bs.createContainer(c);
      for (const o of objects) await bs.writeObject(c, o, bytes(`${c}|${o}`));
    }
    for (const c of containers) {
      assert.deepEqual(await bs.listObjects(c), [...objects].sort());
      for (const o of objects) assert.equal(text(await bs.readObject(c, o, 0, 100)), `${c}|${o}`);
    }
    assert.deepEqual(await readdir(dir.parent), ['root']);
    const entries = await readdir(dir.root, { recursive: true, withFileTypes: true });
    for (const e of entries.filter((e) => e.isFile())) {
      assert.equal(relative(dir.root, join(e.parentPath, e.name)).split('/').length, 2, e.name);
    }
    await rejectsWith(bs.writeObject('..', 'É'.repeat(50), bytes('x')), /too long for the filesystem store/);
    await rejectsWith(bs.writeObject('..', 'nul\0', bytes('x')), /control character/);
  } finally {
    await dir.remove();
  }
});

test('filesystem: stray files are not objects; a directory made by hand is a container', async () => {
  const dir = await tempRoot();
  try {
    const bs = new FilesystemBlobstoreBackend({ root: dir.root });
    await bs.createContainer('c');
    await bs.writeObject('c', 'real', bytes('1'));
    await writeFile(join(dir.root, 'c', '.tmp-leftover'), 'half-written');
    await writeFile(join(dir.root, 'c', 'NOT ENCODED'), 'foreign');
    assert.deepEqual(await bs.listObjects('c'), ['real']);
    await mkdir(join(dir.root, 'manual'));
    assert.equal(await bs.containerExists('manual'), true);
    assert.equal((await bs.containerInfo('manual')).name, 'manual');
    // Temporary directories of container creation and deletion are not containers either.
    await bs.deleteContainer('c');
    assert.deepEqual((await readdir(dir.root)).sort(), ['manual']);
  } finally {
    await dir.remove();
  }
});
