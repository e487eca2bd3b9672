// The one composition of the built-in plugins, and backends chosen by name from their registries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { UsageError } from '../../src/errors.ts';
import { defaultPlugins } from '../../src/plugins/defaults.ts';
import { keyValueBackends, MemoryKeyValueBackend, FilesystemKeyValueBackend } from '../../src/plugins/keyvalue/index.ts';
import { createBackend } from '../../src/plugins/shared/backends.ts';

test('development: config, logging, key-value, blobstore and messaging; no PostgreSQL without a URL', async () => {
  const plugins = await defaultPlugins({ mode: 'development' });
  assert.deepEqual(plugins.map((p) => p.id), ['wasi-config', 'wasi-logging', 'wasi-keyvalue', 'wasi-blobstore', 'wasmcloud-messaging']);
  for (const p of plugins) await p.stop?.();
});

test('a backend is chosen by name; an unknown name, a missing resource or an unknown key fails before anything starts', async () => {
  assert.ok(createBackend('kv', keyValueBackends, 'memory', {}) instanceof MemoryKeyValueBackend);
  assert.ok(createBackend('kv', keyValueBackends, 'filesystem', { dataDir: '/tmp/wasmhost-defaults' }) instanceof FilesystemKeyValueBackend);
  assert.throws(() => createBackend('kv', keyValueBackends, 'redis', {}), (err: Error) => err instanceof UsageError && /no backend named "redis"/.test(err.message));
  assert.throws(() => createBackend('kv', keyValueBackends, 'nats', {}), /needs a NATS connection/);
  assert.throws(() => createBackend('kv', keyValueBackends, 'memory', {}, { size: '1' }), /unknown config key "size"/);
  await assert.rejects(defaultPlugins({ mode: 'production' }), /needs a NATS connection/);
});

test("the key-value plugin offers a workload the registry's other backends, made with the host's resources", async () => {
  const plugins = await defaultPlugins({ mode: 'development' });
  const kv = plugins.find((p) => p.id === 'wasi-keyvalue')!;
  const workload = (config: Record<string, string>) => ({
    id: 'w',
    namespace: 'default',
    name: 'w',
    annotations: {},
    interfaces: [{ namespace: 'wasi', package: 'keyvalue', interfaces: ['store'], version: '0.2.0-draft', config }],
    logger: pino({ level: 'silent' }),
  });
  assert.ok(await kv.onWorkloadBind!(workload({ backend: 'memory' })));
  assert.throws(() => kv.onWorkloadBind!(workload({ backend: 'nats' })), /backend "nats": the NATS key-value backend needs a NATS connection/);
  for (const p of plugins) await p.stop?.();
});

test("the blobstore and messaging plugins offer a workload the registry's other backends, made with the host's resources", async () => {
  const plugins = await defaultPlugins({ mode: 'development' });
  const workload = (namespace: string, pkg: string, config: Record<string, string>) => ({
    id: 'w',
    namespace: 'default',
    name: 'w',
    annotations: {},
    interfaces: [{ namespace, package: pkg, interfaces: ['x'], version: '0.2.0', config }],
    logger: pino({ level: 'silent' }),
  });
  const blobstore = plugins.find((p) => p.id === 'wasi-blobstore')!;
  assert.ok(await blobstore.onWorkloadBind!(workload('wasi', 'blobstore', { backend: 'memory' })));
  assert.throws(() => blobstore.onWorkloadBind!(workload('wasi', 'blobstore', { backend: 'nats' })), /backend "nats": the NATS blobstore backend needs a NATS connection/);
  const messaging = plugins.find((p) => p.id === 'wasmcloud-messaging')!;
  assert.ok(await messaging.onWorkloadBind!(workload('wasmcloud', 'messaging', { backend: 'memory' })));
  assert.throws(() => messaging.onWorkloadBind!(workload('wasmcloud', 'messaging', { backend: 'nats' })), /backend "nats": the NATS messaging backend needs a NATS connection/);
  for (const p of plugins) await p.stop?.();
});
