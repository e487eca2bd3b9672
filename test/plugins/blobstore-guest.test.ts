/**
 * wasi:blobstore end to end: the blob-roundtrip component (componentize-js) bound to the plugin
 * the way the host binds it. Its outgoing and incoming values travel through WASI's wasi:io streams.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Engine, WasiContext, createWasiImports } from '../../src/index.ts';
import type { Plugin, PluginWorkload } from '../../src/plugin/plugin.ts';
import { FilesystemBlobstoreBackend, MemoryBlobstoreBackend, blobstorePlugin } from '../../src/plugins/blobstore/index.ts';
import { fixturePath } from '../fixtures/index.ts';
import { hosted, type HostedPlugin } from './plugin-harness.ts';

const engine = new Engine({ cacheDir: false });
const roundtripComponent = await engine.compile(fixturePath('blob-roundtrip'));
const silent = pino({ level: 'silent' });
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: unknown) => new TextDecoder().decode(value as Uint8Array);

/** Binds `plugin` for workload `workloadId` (blobstore config `config`) and starts a blob-roundtrip instance. */
async function startApp(plugin: HostedPlugin<Plugin>, workloadId: string, config: Record<string, string> = {}) {
  const interfaces = [{ namespace: 'wasi', package: 'blobstore', interfaces: ['blobstore', 'container', 'types'], version: '0.2.0-draft', config }];
  const workload: PluginWorkload = { id: workloadId, namespace: 'default', name: workloadId, annotations: {}, interfaces, logger: silent };
  await plugin.onWorkloadBind?.(workload);
  const implementations = await plugin.onComponentBind?.({
    workload,
    name: 'blobs',
    config: {},
    environment: {},
    allowedHosts: [],
    interfaces,
    imports: ['wasi:blobstore/blobstore@0.2.0-draft', 'wasi:blobstore/container@0.2.0-draft', 'wasi:blobstore/types@0.2.0-draft'],
    exports: [],
    logger: silent,
  });
  // jco keys the import object by interface name without version.
  const blobstore = Object.fromEntries(Object.entries(implementations ?? {}).map(([name, impl]) => [name.replace(/@.*$/, ''), impl]));
  const instance = await roundtripComponent.instantiate({ ...createWasiImports(new WasiContext()), ...blobstore });
  return {
    roundtrip: (container: string, name: string, data: Uint8Array) => instance.call('roundtrip', container, name, data) as Promise<Uint8Array>,
    readRange: (container: string, name: string, start: bigint, end: bigint) => instance.call('read-range', container, name, start, end) as Promise<Uint8Array>,
    list: (container: string) => instance.call('list', container) as Promise<string[]>,
  };
}

/** Asserts that a guest export returned `err(...)` matching `message`. */
async function guestError(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: { payload?: unknown }) => {
    assert.equal(typeof err.payload, 'string', String(err));
    assert.match(err.payload as string, message);
    return true;
  });
}

test('blob-roundtrip: bytes written through an outgoing-value come back whole, in ranges and in the listing', async () => {
  const app = await startApp(hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend() })), 'w1');
  assert.equal(text(await app.roundtrip('docs', 'hello.txt', bytes('hello, blobstore'))), 'hello, blobstore');
  assert.equal(text(await app.readRange('docs', 'hello.txt', 0n, 4n)), 'hello', 'the end is inclusive');
  assert.equal(text(await app.readRange('docs', 'hello.txt', 7n, 7n)), 'b');
  assert.equal(text(await app.readRange('docs', 'hello.txt', 7n, 1000n)), 'blobstore');
  // The container exists now: roundtrip gets it instead of creating it.
  await app.roundtrip('docs', 'a', bytes('1'));
  await app.roundtrip('docs', 'c', bytes('3'));
  await app.roundtrip('docs', 'b', bytes('2'));
  assert.deepEqual(await app.list('docs'), ['a', 'b', 'c', 'hello.txt']);
});

test('blob-roundtrip: large and empty objects', async () => {
  const app = await startApp(hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend() })), 'w1');
  const large = new Uint8Array(300_000).map((_, i) => (i * 7) % 256);
  assert.deepEqual(await app.roundtrip('c', 'large', large), large);
  assert.deepEqual(await app.readRange('c', 'large', 4095n, 4097n), large.slice(4095, 4098));
  assert.deepEqual(await app.roundtrip('c', 'empty', new Uint8Array(0)), new Uint8Array(0));
});

test('blob-roundtrip: the memory store refuses an object past 1 MiB while the guest writes it', async () => {
  const app = await startApp(hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend() })), 'w1');
  const max = 1024 * 1024;
  assert.equal((await app.roundtrip('c', 'max', new Uint8Array(max))).length, max);
  await guestError(app.roundtrip('c', 'over', new Uint8Array(max + 1)), /^blocking-write-and-flush: last-operation-failed: object of \d+ bytes exceeds the blobstore's limit of 1048576 bytes$/);
  assert.deepEqual(await app.list('c'), ['max'], 'nothing was stored');
});

test('blob-roundtrip: errors reach the guest as strings naming the failure', async () => {
  const app = await startApp(hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend() })), 'w1');
  await guestError(app.list('missing'), /^get-container "missing": container "missing" does not exist$/);
  await app.roundtrip('c', 'o', bytes('0123'));
  await guestError(app.readRange('c', 'nope', 0n, 1n), /^get-data "nope": object "nope" does not exist in container "c"$/);
  await guestError(app.readRange('c', 'o', 3n, 2n), /^get-data "o": invalid range: start 3 is after end 2$/);
});

test('blob-roundtrip: config "buckets" and "read_only" hold for a real guest', async () => {
  const backend = new MemoryBlobstoreBackend();
  const plugin = hosted(blobstorePlugin({ backend }));
  const limited = await startApp(plugin, 'w1', { buckets: 'allowed' });
  assert.equal(text(await limited.roundtrip('allowed', 'o', bytes('ok'))), 'ok');
  await guestError(limited.roundtrip('other', 'o', bytes('x')), /^container-exists "other": container "other" is not in the workload's config "buckets"$/);

  await backend.createContainer('default/w2/existing');
  await backend.writeObject('default/w2/existing', 'o', bytes('read me'));
  const readOnly = await startApp(plugin, 'w2', { read_only: 'true' });
  assert.equal(text(await readOnly.readRange('existing', 'o', 0n, 3n)), 'read');
  assert.deepEqual(await readOnly.list('existing'), ['o']);
  await guestError(readOnly.roundtrip('new', 'o', bytes('x')), /^create-container "new": create-container refused: the blobstore is read-only/);
  await guestError(readOnly.roundtrip('existing', 'o', bytes('x')), /^write-data "o": write-data refused: the blobstore is read-only/);
  assert.equal(text(await backend.readObject('default/w2/existing', 'o', 0, 100)), 'read me');
});

test('blob-roundtrip: a filesystem store keeps objects across a host restart', async () => {
  const root = await mkdtemp(join(tmpdir(), 'wasmhost-blob-guest-'));
  try {
    const before = await startApp(hosted(blobstorePlugin({ backend: new FilesystemBlobstoreBackend({ root }) })), 'run-1');
    await before.roundtrip('photos', '2024/cat.jpg', bytes('meow'));
    const after = await startApp(hosted(blobstorePlugin({ backend: new FilesystemBlobstoreBackend({ root }) })), 'run-2');
    assert.deepEqual(await after.list('photos'), ['2024/cat.jpg']);
    assert.equal(text(await after.readRange('photos', '2024/cat.jpg', 1n, 2n)), 'eo');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
