// Key-value, config, logging and blobstore plugins through the host with real components: a
// counter (atomics + config + logging), isolation between workloads, persistence of the
// filesystem backend across a host restart, and a blob round trip with its config enforced.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plugin } from '../../src/plugin/plugin.ts';
import { configPlugin } from '../../src/plugins/config/index.ts';
import { loggingPlugin } from '../../src/plugins/logging/index.ts';
import { FilesystemKeyValueBackend, keyValuePlugin, MemoryKeyValueBackend } from '../../src/plugins/keyvalue/index.ts';
import { blobstorePlugin, MemoryBlobstoreBackend } from '../../src/plugins/blobstore/index.ts';
import { component, startedHost } from './helpers.ts';

const kv = { namespace: 'wasi', package: 'keyvalue', interfaces: ['store', 'atomics'], version: '0.2.0-draft', config: {} };
const logging = { namespace: 'wasi', package: 'logging', interfaces: ['logging'], version: '0.1.0-draft' };
const config = (values: Record<string, string>) => ({ namespace: 'wasi', package: 'config', interfaces: ['store'], version: '0.2.0-rc.1', config: values });

function counterWorkload(bucket: string, name = 'counter') {
  return {
    namespace: 'test',
    name,
    witWorld: { components: [component('counter', 'kv-counter')], hostInterfaces: [kv, logging, config({ bucket })] },
  };
}

let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), 'wasmhost-storage-test-'))));
after(() => rm(dir, { recursive: true, force: true }));

async function hit(host: Awaited<ReturnType<typeof startedHost>>['host'], id: string, key: string): Promise<unknown> {
  const invocation = host.workload(id)!.invocation('counter');
  try {
    return await invocation.call('hit', key);
  } finally {
    await invocation.close();
  }
}

const storagePlugins = (kvPlugin: Plugin) => [configPlugin(), loggingPlugin(), kvPlugin];

test('a counter uses key-value atomics in the bucket its config names, and logs each hit', async () => {
  const { host, entries } = await startedHost(...storagePlugins(keyValuePlugin({ backend: new MemoryKeyValueBackend() })));
  try {
    const status = (await host.workloadStart({ workloadId: 'c1', workload: counterWorkload('visits') })).workloadStatus;
    assert.equal(status.workloadState, 'WORKLOAD_STATE_RUNNING', status.message);
    assert.equal(await hit(host, 'c1', 'home'), 1n);
    assert.equal(await hit(host, 'c1', 'home'), 2n);
    assert.equal(await hit(host, 'c1', 'about'), 1n);
    const lines = entries.filter((e) => e.context === 'kv-counter');
    assert.deepEqual(lines.map((e) => e.msg), ['hit home = 1', 'hit home = 2', 'hit about = 1']);
    assert.ok(lines.every((e) => e.component === 'counter' && e.workload === 'test/counter' && e.workloadId === 'c1'));
  } finally {
    await host.stop();
  }
});

test('in-memory key-value data is isolated per workload; replicas and restarts of one workload share it', async () => {
  const { host } = await startedHost(...storagePlugins(keyValuePlugin({ backend: new MemoryKeyValueBackend() })));
  try {
    await host.workloadStart({ workloadId: 'a', workload: counterWorkload('b', 'app') });
    await host.workloadStart({ workloadId: 'b', workload: counterWorkload('b', 'app') });
    await host.workloadStart({ workloadId: 'c', workload: counterWorkload('b', 'other-app') });
    assert.equal(await hit(host, 'a', 'k'), 1n);
    assert.equal(await hit(host, 'a', 'k'), 2n);
    assert.equal(await hit(host, 'b', 'k'), 3n, 'a replica (same namespace and name) shares the data');
    assert.equal(await hit(host, 'c', 'k'), 1n, 'another workload does not see it');
    await host.workloadStop({ workloadId: 'a' });
    assert.equal(await hit(host, 'b', 'k'), 4n, 'the data stays while a replica runs');
    await host.workloadStop({ workloadId: 'b' });
    await host.workloadStart({ workloadId: 'a2', workload: counterWorkload('b', 'app') });
    assert.equal(await hit(host, 'a2', 'k'), 1n, 'in memory, the data goes with the last replica');
  } finally {
    await host.stop();
  }
});

test('the filesystem key-value backend keeps counts across a host restart', async () => {
  const root = join(dir, 'kv');
  for (const expected of [1n, 2n]) {
    const { host } = await startedHost(...storagePlugins(keyValuePlugin({ backend: new FilesystemKeyValueBackend({ root }) })));
    try {
      await host.workloadStart({ workloadId: `run-${expected}`, workload: counterWorkload('durable') });
      assert.equal(await hit(host, `run-${expected}`, 'k'), expected);
    } finally {
      await host.stop();
    }
  }
});

const blobstore = (values: Record<string, string> = {}) => ({
  namespace: 'wasi',
  package: 'blobstore',
  interfaces: ['blobstore', 'container', 'types'],
  version: '0.2.0-draft',
  config: values,
});

async function blobCall(values: Record<string, string>, target: string, ...args: unknown[]) {
  const { host } = await startedHost(blobstorePlugin({ backend: new MemoryBlobstoreBackend({ maxObjectSize: 1024 }) }));
  try {
    const spec = { namespace: 'test', name: 'blobs', witWorld: { components: [component('blob', 'blob-roundtrip')], hostInterfaces: [blobstore(values)] } };
    const status = (await host.workloadStart({ workloadId: 'blob', workload: spec })).workloadStatus;
    assert.equal(status.workloadState, 'WORKLOAD_STATE_RUNNING', status.message);
    const invocation = host.workload('blob')!.invocation('blob');
    try {
      return await invocation.call(target, ...args);
    } finally {
      await invocation.close();
    }
  } finally {
    await host.stop();
  }
}

test('a blob round trip through the host gives back the same bytes', async () => {
  const data = new Uint8Array(300).map((_, i) => i % 256);
  assert.deepEqual(await blobCall({}, 'roundtrip', 'photos', 'a.bin', data), data);
});

test('blobstore config is enforced: buckets restricts containers, read_only refuses writes, the size cap holds', async () => {
  await assert.rejects(blobCall({ buckets: 'allowed' }, 'roundtrip', 'other', 'x', new Uint8Array([1])), (err: Error & { payload?: unknown }) => {
    assert.match(String(err.payload), /other/);
    return true;
  });
  await assert.rejects(blobCall({ read_only: 'true' }, 'roundtrip', 'photos', 'x', new Uint8Array([1])), (err: Error & { payload?: unknown }) => {
    assert.match(String(err.payload), /read.only/i);
    return true;
  });
  await assert.rejects(blobCall({}, 'roundtrip', 'photos', 'big', new Uint8Array(2048)), (err: Error & { payload?: unknown }) => {
    assert.match(String(err.payload), /1024/);
    return true;
  });
});
