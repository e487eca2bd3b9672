import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FilesystemKeyValueBackend, MemoryKeyValueBackend, type KeyValueBackend } from '../../src/plugins/keyvalue/index.ts';
import { keyValueBackendSuite, rejectsWith } from './keyvalue-backend-suite.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : new TextDecoder().decode(value));

/** A temporary directory with `root` inside it, so that anything written beside the root shows. */
async function tempRoot(): Promise<{ parent: string; root: string; remove(): Promise<void> }> {
  const parent = await mkdtemp(join(tmpdir(), 'wasmhost-kv-'));
  return { parent, root: join(parent, 'root'), remove: () => rm(parent, { recursive: true, force: true }) };
}

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

keyValueBackendSuite('memory', async () => ({ backend: new MemoryKeyValueBackend(), close: async () => {} }));

keyValueBackendSuite('filesystem', async () => {
  const dir = await tempRoot();
  return { backend: new FilesystemKeyValueBackend({ root: dir.root }), close: dir.remove };
});

test('memory: buckets of different names (workloads, under the plugin\'s names) are apart', async () => {
  const kv = new MemoryKeyValueBackend();
  await kv.openBucket('default/w1/b');
  await kv.set('default/w1/b', 'k', bytes('w1 value'));
  await rejectsWith(kv.get('default/w2/b', 'k'), 'no-such-store');
  await kv.openBucket('default/w2/b');
  assert.equal(await kv.get('default/w2/b', 'k'), undefined);
  assert.equal(text(await kv.get('default/w1/b', 'k')), 'w1 value');
});

test('memory: dropBuckets frees the workload and does not touch others', async () => {
  const kv = new MemoryKeyValueBackend();
  await kv.openBucket('default/w1/b');
  await kv.openBucket('default/w2/b');
  await kv.set('default/w1/b', 'k', bytes('1'));
  await kv.set('default/w2/b', 'k', bytes('2'));
  await kv.dropBuckets('default/w1/');
  await rejectsWith(kv.get('default/w1/b', 'k'), 'no-such-store', /not open/);
  assert.equal(text(await kv.get('default/w2/b', 'k')), '2');
  await kv.openBucket('default/w1/b');
  assert.equal(await kv.get('default/w1/b', 'k'), undefined, 'a reopened bucket starts empty');
});

test('filesystem: a new backend over the same root sees the data (host restart)', async () => {
  const dir = await tempRoot();
  try {
    const first = new FilesystemKeyValueBackend({ root: dir.root });
    await first.openBucket('b');
    await first.set('b', 'greeting', bytes('hello'));
    await first.set('b', '../odd/key', bytes('odd'));
    assert.equal(await first.increment('b', 'visits', 3n), 3n);

    // The same bucket name after the restart (the plugin's default isolation here is 'shared').
    const second = new FilesystemKeyValueBackend({ root: dir.root });
    await second.openBucket('b');
    assert.equal(text(await second.get('b', 'greeting')), 'hello');
    assert.equal(text(await second.get('b', '../odd/key')), 'odd');
    assert.equal(await second.increment('b', 'visits', 1n), 4n);
    assert.deepEqual((await second.listKeys('b', undefined, 10)).keys, ['../odd/key', 'greeting', 'visits']);
    assert.equal((second as KeyValueBackend).dropBuckets, undefined, 'nothing of a persistent store is dropped');
    assert.equal(second.defaultIsolation, 'shared', 'buckets shared by name, where the data has always been');
  } finally {
    await dir.remove();
  }
});

test('filesystem: increments from backends sharing a root (processes of up --workers) are never lost', async () => {
  const dir = await tempRoot();
  try {
    // Two backends: two in-process locks that know nothing of each other, as two processes.
    const a = new FilesystemKeyValueBackend({ root: dir.root });
    const b = new FilesystemKeyValueBackend({ root: dir.root });
    await a.openBucket('b');
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).increment('b', 'n', 1n)));
    assert.equal(text(await a.get('b', 'n')), '200');
    assert.deepEqual(results.toSorted((x, y) => Number(x - y)), Array.from({ length: 200 }, (_, i) => BigInt(i + 1)), 'every increment saw its own value');
    assert.deepEqual((await a.listKeys('b', undefined, 10)).keys, ['n'], 'the lock files are gone and never listed');

    // A lock file its holder left behind (the process died) is taken over once it is stale.
    await a.increment('b', 'm', 1n);
    const lockName = createHash('sha256').update(join(dir.root, 'b', 'm')).digest('hex').slice(0, 32);
    const stale = join(dir.root, 'b', `.lock-${lockName}`);
    await writeFile(stale, '');
    await utimes(stale, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    assert.equal(await b.increment('b', 'm', 1n), 2n);
    assert.deepEqual((await readdir(join(dir.root, 'b'))).filter((f) => f.startsWith('.')), [], 'the stale lock was taken over and removed');
  } finally {
    await dir.remove();
  }
});

test('filesystem: no key or bucket name can leave the root', async () => {
  const dir = await tempRoot();
  try {
    const kv = new FilesystemKeyValueBackend({ root: dir.root });
    const buckets = ['..', '../outside', '/tmp/abs', 'a/b', '.'];
    const keys = ['..', '../../escape', '/etc/passwd', 'a/../../b', 'nul\0', 'back\\slash', '.hidden'];
    for (const bucket of buckets) {
      await kv.openBucket(bucket);
      for (const key of keys) await kv.set(bucket, key, bytes(`${bucket}|${key}`));
    }
    for (const bucket of buckets) {
      for (const key of keys) assert.equal(text(await kv.get(bucket, key)), `${bucket}|${key}`);
      assert.deepEqual((await kv.listKeys(bucket, undefined, 100)).keys, [...keys].sort());
    }
    // Nothing beside the root, and inside it exactly one directory level of buckets holding files.
    assert.deepEqual(await readdir(dir.parent), ['root']);
    const files = await filesUnder(dir.root);
    assert.equal(files.length, buckets.length * keys.length);
    for (const file of files) assert.equal(file.split('/').length, 2, file);
  } finally {
    await dir.remove();
  }
});

test('filesystem: keys differing only by case stay apart; names that are too long are refused', async () => {
  const dir = await tempRoot();
  try {
    const kv = new FilesystemKeyValueBackend({ root: dir.root });
    await kv.openBucket('b');
    await kv.set('b', 'Key', bytes('upper'));
    await kv.set('b', 'key', bytes('lower'));
    assert.equal(text(await kv.get('b', 'Key')), 'upper');
    assert.equal(text(await kv.get('b', 'key')), 'lower');
    await kv.set('b', 'k'.repeat(255), bytes('fits'));
    await rejectsWith(kv.set('b', 'k'.repeat(256), bytes('v')), 'other', /too long for the filesystem store/);
    await rejectsWith(kv.set('b', 'É'.repeat(50), bytes('v')), 'other', /too long/); // 4 bytes per char once encoded
    await rejectsWith(kv.openBucket('/'.repeat(100)), 'other', /too long once encoded/);
  } finally {
    await dir.remove();
  }
});

test('filesystem: stray files are not keys, and a bucket removed behind its back is no-such-store', async () => {
  const dir = await tempRoot();
  try {
    const kv = new FilesystemKeyValueBackend({ root: dir.root });
    await kv.openBucket('b');
    await kv.set('b', 'real', bytes('1'));
    await writeFile(join(dir.root, 'b', '.tmp-leftover'), 'half-written');
    await writeFile(join(dir.root, 'b', 'NOT ENCODED'), 'foreign');
    assert.deepEqual((await kv.listKeys('b', undefined, 10)).keys, ['real']);
    await rm(join(dir.root, 'b'), { recursive: true });
    await rejectsWith(kv.get('b', 'real'), 'no-such-store');
    await rejectsWith(kv.set('b', 'real', bytes('2')), 'no-such-store');
    await rejectsWith(kv.exists('b', 'real'), 'no-such-store');
    await rejectsWith(kv.delete('b', 'real'), 'no-such-store');
  } finally {
    await dir.remove();
  }
});

test('filesystem: I/O failures name the error code, never a host path', async () => {
  const dir = await tempRoot();
  try {
    // The root is a file: creating a bucket under it fails.
    await writeFile(dir.root, 'not a directory');
    const kv = new FilesystemKeyValueBackend({ root: dir.root });
    await assert.rejects(kv.openBucket('b'), (err: Error) => {
      assert.match(err.message, /storage I\/O failed \((EEXIST|ENOTDIR)\)/);
      assert.ok(!err.message.includes(dir.parent), err.message);
      return true;
    });
  } finally {
    await dir.remove();
  }
});
