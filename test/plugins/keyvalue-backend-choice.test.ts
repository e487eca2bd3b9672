// A workload picks its key-value backend with the `backend` key of its wasi:keyvalue config: made
// once from the registry with the host's resources, closed at stop, refused at start (naming the
// workload, the interface and what is missing) when the host cannot offer it. Against the real
// NATS server through the host with a real component; the bookkeeping without one.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { Host } from '../../src/host/host.ts';
import { UsageError } from '../../src/errors.ts';
import { configPlugin } from '../../src/plugins/config/index.ts';
import { loggingPlugin } from '../../src/plugins/logging/index.ts';
import { MemoryKeyValueBackend, keyValuePlugin, type KeyValueBackend } from '../../src/plugins/keyvalue/index.ts';
import type { BackendRegistry } from '../../src/plugins/shared/backends.ts';
import { NATS_URL, service } from '../services.ts';
import { component, startedHost } from '../host/helpers.ts';
import { bindKeyValue, hosted, keyValueWorkload } from './plugin-harness.ts';
import { natsTestRun } from './nats-test-helpers.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : new TextDecoder().decode(value));

/** A registry of memory backends that counts what it makes and closes. */
function countingRegistry() {
  const counts = { made: 0, closed: 0 };
  class Counted extends MemoryKeyValueBackend {
    async close(): Promise<void> {
      counts.closed++;
    }
  }
  const registry: BackendRegistry<KeyValueBackend> = [
    { type: 'memory', parseConfig: () => ({}), create: () => (counts.made++, new Counted()) },
    {
      type: 'lacking',
      parseConfig: () => ({}),
      create: () => {
        throw new UsageError('the lacking backend needs a thing this host does not have');
      },
    },
  ];
  return { registry, counts };
}

test('a backend named in the config is made once on first use, used by every workload naming it, and closed at stop', async () => {
  const { registry, counts } = countingRegistry();
  const host = new MemoryKeyValueBackend();
  const plugin = hosted(keyValuePlugin({ backend: host, registry }));
  const one = await bindKeyValue(plugin, keyValueWorkload('w1', { backend: 'memory' }));
  const two = await bindKeyValue(plugin, keyValueWorkload('w2', { backend: 'memory', prefix: 'p-' }));
  const plain = await bindKeyValue(plugin, keyValueWorkload('w3'));
  assert.equal(counts.made, 1);
  await (await one.open('b')).set('k', bytes('one'));
  await (await two.open('b')).set('k', bytes('two'));
  await (await plain.open('b')).set('k', bytes('plain'));
  assert.equal(text(await host.get('default/w3/b', 'k')), 'plain', 'no key: the host\'s backend');
  await assert.rejects(host.get('default/w1/b', 'k'), /not open/, 'the named backend holds the others');
  await plugin.stop();
  assert.equal(counts.closed, 1);
});

test('a backend given by type is the default, and a workload naming that type gets the same one', async () => {
  const { registry, counts } = countingRegistry();
  const plugin = hosted(keyValuePlugin({ backend: 'memory', registry }));
  const named = await bindKeyValue(plugin, keyValueWorkload('w1', { backend: 'memory' }));
  await (await named.open('b')).set('k', bytes('v'));
  const again = await bindKeyValue(plugin, keyValueWorkload('w1-replica', {}, { name: 'w1' }));
  assert.equal(text(await (await again.open('b')).get('k')), 'v');
  assert.equal(counts.made, 1);
  await plugin.stop();
  assert.equal(counts.closed, 1);
  assert.throws(() => keyValuePlugin({ backend: 'redis' }), /wasi-keyvalue: no backend named "redis"/);
});

test('an unknown backend type, or one the host lacks resources for, fails the bind naming the workload, the interface and why', async () => {
  const { registry } = countingRegistry();
  const plugin = hosted(keyValuePlugin({ backend: new MemoryKeyValueBackend(), registry }));
  assert.throws(
    () => plugin.onWorkloadBind(keyValueWorkload('w1', { backend: 'redis' }, { namespace: 'prod', name: 'shop' })),
    (err: unknown) =>
      err instanceof UsageError && err.message === 'workload "prod/shop", wasi:keyvalue config backend: no backend named "redis" (known: memory, lacking)',
  );
  assert.throws(
    () => plugin.onWorkloadBind(keyValueWorkload('w2', { backend: 'lacking' })),
    /^UsageError: workload "default\/w2", wasi:keyvalue config backend: this host cannot offer the wasi-keyvalue backend "lacking": the lacking backend needs a thing this host does not have$/,
  );
  // The real registry, without resources: the default registry's message for PostgreSQL.
  const real = hosted(keyValuePlugin({ backend: new MemoryKeyValueBackend() }));
  assert.throws(() => real.onWorkloadBind(keyValueWorkload('w3', { backend: 'postgres' })), /backend "postgres": the PostgreSQL key-value backend needs a PostgreSQL pool/);
  assert.throws(() => real.onWorkloadBind(keyValueWorkload('w4', { backend: 'filesystem' })), /backend "filesystem": the filesystem key-value backend needs a data folder or a root/);
});

const skip = await service('NATS', NATS_URL);
const { run, sharedConnection, runStreams, cleanup } = natsTestRun('whbc', 'KV_');
after(cleanup);

const kv = (config: Record<string, string>) => ({ namespace: 'wasi', package: 'keyvalue', interfaces: ['store', 'atomics'], version: '0.2.0-draft', config });
const logging = { namespace: 'wasi', package: 'logging', interfaces: ['logging'], version: '0.1.0-draft' };
const config = { namespace: 'wasi', package: 'config', interfaces: ['store'], version: '0.2.0-rc.1', config: { bucket: 'visits' } };

/** The kv-counter component in namespace `run` (so its JetStream buckets are this run's), with `kvConfig`. */
function counter(name: string, kvConfig: Record<string, string>) {
  return { namespace: run, name, witWorld: { components: [component('counter', 'kv-counter')], hostInterfaces: [kv(kvConfig), logging, config] } };
}

async function hit(host: Host, id: string, key: string): Promise<unknown> {
  const invocation = host.workload(id)!.invocation('counter');
  try {
    return await invocation.call('hit', key);
  } finally {
    await invocation.close();
  }
}

describe('a workload choosing its key-value backend, through the host', { skip }, () => {
  test('backend: nats writes to JetStream while the host default is memory; no key stays in memory', async () => {
    const nc = await sharedConnection();
    const { host } = await startedHost(configPlugin(), loggingPlugin(), keyValuePlugin({ backend: 'memory', resources: { nats: nc } }));
    try {
      const started = await host.workloadStart({ workloadId: 'on-nats', workload: counter('counter', { backend: 'nats' }) });
      assert.equal(started.workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', started.workloadStatus.message);
      assert.equal(await hit(host, 'on-nats', 'home'), 1n);
      assert.equal(await hit(host, 'on-nats', 'home'), 2n);
      const inMemory = await host.workloadStart({ workloadId: 'in-memory', workload: counter('other', {}) });
      assert.equal(inMemory.workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', inMemory.workloadStatus.message);
      assert.equal(await hit(host, 'in-memory', 'home'), 1n);

      // Seen from a plain NATS client: the workload's bucket under the plugin's name, and only it.
      assert.deepEqual(await runStreams(), [`KV_${run}-2Fcounter-2Fvisits`]);
      const bucket = await new Kvm(jetstream(nc)).open(`${run}-2Fcounter-2Fvisits`);
      const entry = await bucket.get('home');
      assert.equal(text(entry ? new Uint8Array(entry.value) : undefined), '2');
    } finally {
      await host.stop();
    }
    assert.equal(nc.isClosed(), false, 'the host\'s NATS connection stays open: it is the embedder\'s');
  });

  test('an unknown backend, or one this host has no resources for, fails that start with a clear message; the host keeps running', async () => {
    const { host } = await startedHost(configPlugin(), loggingPlugin(), keyValuePlugin({ backend: 'memory', resources: { nats: await sharedConnection() } }));
    try {
      const unknown = await host.workloadStart({ workloadId: 'unknown', workload: counter('counter', { backend: 'redis' }) });
      assert.equal(unknown.workloadStatus.workloadState, 'WORKLOAD_STATE_ERROR');
      assert.match(unknown.workloadStatus.message, new RegExp(`workload "${run}/counter", wasi:keyvalue config backend: no backend named "redis" \\(known: memory, filesystem, nats, postgres\\)`));
      const missing = await host.workloadStart({ workloadId: 'missing', workload: counter('counter', { backend: 'postgres' }) });
      assert.equal(missing.workloadStatus.workloadState, 'WORKLOAD_STATE_ERROR');
      assert.match(missing.workloadStatus.message, new RegExp(`workload "${run}/counter", wasi:keyvalue config backend: this host cannot offer the wasi-keyvalue backend "postgres": the PostgreSQL key-value backend needs a PostgreSQL pool`));
      const fine = await host.workloadStart({ workloadId: 'fine', workload: counter('counter', {}) });
      assert.equal(fine.workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', fine.workloadStatus.message);
    } finally {
      await host.stop();
    }
  });
});
