/**
 * wasi:keyvalue end to end: the kv-counter component (componentize-js) bound to the plugin the
 * way the host binds it, with minimal inline wasi:config and wasi:logging implementations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Engine, WasiContext, createWasiImports } from '../../src/index.ts';
import type { Plugin, PluginWorkload } from '../../src/plugin/plugin.ts';
import { FilesystemKeyValueBackend, MemoryKeyValueBackend, keyValuePlugin, type KeyValueBackend } from '../../src/plugins/keyvalue/index.ts';
import { fixturePath } from '../fixtures/index.ts';
import { hosted, type HostedPlugin } from './plugin-harness.ts';

const engine = new Engine({ cacheDir: false });
const counter = await engine.compile(fixturePath('kv-counter'));
const silent = pino({ level: 'silent' });

interface LogEntry {
  level: string;
  context: string;
  message: string;
}

/** Binds `plugin` for workload `workloadId` and starts a kv-counter instance with config `config`. */
async function startCounter(plugin: HostedPlugin<Plugin>, workloadId: string, options: { config?: Record<string, string>; kvConfig?: Record<string, string> } = {}) {
  const interfaces = [{ namespace: 'wasi', package: 'keyvalue', interfaces: ['store', 'atomics'], version: '0.2.0-draft', config: options.kvConfig ?? {} }];
  const workload: PluginWorkload = { id: workloadId, namespace: 'default', name: workloadId, annotations: {}, interfaces, logger: silent };
  await plugin.onWorkloadBind?.(workload);
  const implementations = await plugin.onComponentBind?.({
    workload,
    name: 'counter',
    config: options.config ?? {},
    environment: {},
    allowedHosts: [],
    interfaces,
    imports: ['wasi:keyvalue/store@0.2.0-draft', 'wasi:keyvalue/atomics@0.2.0-draft'],
    exports: [],
    logger: silent,
  });
  // jco keys the import object by interface name without version.
  const keyValue = Object.fromEntries(Object.entries(implementations ?? {}).map(([name, impl]) => [name.replace(/@.*$/, ''), impl]));
  const config = options.config ?? {};
  const logs: LogEntry[] = [];
  const instance = await counter.instantiate({
    ...createWasiImports(new WasiContext()),
    ...keyValue,
    'wasi:config/store': { get: (key: string) => config[key], getAll: () => Object.entries(config) },
    'wasi:logging/logging': { log: (level: string, context: string, message: string) => logs.push({ level, context, message }) },
  });
  return {
    logs,
    hit: (key: string) => instance.call('hit', key) as Promise<bigint>,
    read: (key: string) => instance.call('read', key) as Promise<string | undefined>,
  };
}

/** Asserts that a guest export returned `err(message)`. */
async function guestError(promise: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(promise, (err: { payload?: unknown }) => {
    assert.equal(err.payload, message);
    return true;
  });
}

test('kv-counter: hit increments from 0, logs, and read sees the decimal text', async () => {
  const backend = new MemoryKeyValueBackend();
  const app = await startCounter(hosted(keyValuePlugin({ backend })), 'w1', { config: { bucket: 'counters' } });
  assert.equal(await app.hit('visits'), 1n);
  assert.equal(await app.hit('visits'), 2n);
  assert.equal(await app.hit('other'), 1n);
  assert.equal(await app.read('visits'), '2');
  assert.equal(await app.read('never'), undefined);
  assert.deepEqual(app.logs, [
    { level: 'info', context: 'kv-counter', message: 'hit visits = 1' },
    { level: 'info', context: 'kv-counter', message: 'hit visits = 2' },
    { level: 'info', context: 'kv-counter', message: 'hit other = 1' },
  ]);
  // The bucket named by config, in the workload's own scope.
  assert.equal(new TextDecoder().decode(await backend.get('default/w1/counters', 'visits')), '2');
});

test('kv-counter: workloads count separately, and a new instance of one workload sees its data', async () => {
  const plugin = hosted(keyValuePlugin({ backend: new MemoryKeyValueBackend() }));
  const one = await startCounter(plugin, 'w1');
  const two = await startCounter(plugin, 'w2');
  await one.hit('k');
  await one.hit('k');
  assert.equal(await two.hit('k'), 1n);
  const oneAgain = await startCounter(plugin, 'w1');
  assert.equal(await oneAgain.hit('k'), 3n);
});

test('kv-counter: a filesystem store keeps counting across a host restart', async () => {
  const root = await mkdtemp(join(tmpdir(), 'wasmhost-kv-guest-'));
  try {
    const before = await startCounter(hosted(keyValuePlugin({ backend: new FilesystemKeyValueBackend({ root }) })), 'run-1');
    assert.equal(await before.hit('visits'), 1n);
    assert.equal(await before.hit('visits'), 2n);
    const after = await startCounter(hosted(keyValuePlugin({ backend: new FilesystemKeyValueBackend({ root }) })), 'run-2');
    assert.equal(await after.hit('visits'), 3n);
    assert.equal(await after.read('visits'), '3');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('kv-counter: the guest receives WIT errors as values it can report', async () => {
  const backend: KeyValueBackend = new MemoryKeyValueBackend();
  const plugin = hosted(keyValuePlugin({ backend }));
  const denied = await startCounter(plugin, 'w1', { kvConfig: { buckets: 'allowed' } });
  await guestError(denied.hit('k'), 'open "default": access-denied');

  const app = await startCounter(plugin, 'w2');
  await backend.openBucket('default/w2/default');
  await backend.set('default/w2/default', 'word', new TextEncoder().encode('hello'));
  await guestError(app.hit('word'), 'increment "word": other: cannot increment key "word": its value is not a decimal u64');
  assert.equal(await app.read('word'), 'hello');

  await plugin.onWorkloadUnbind?.('w2');
  await guestError(app.hit('k'), 'open "default": no-such-store');
});
