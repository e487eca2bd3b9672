// A workload picks its blobstore backend with the `backend` key of its wasi:blobstore config: made
// once from the registry with the host's resources, closed at stop, refused at start (naming the
// workload, the interface and what is missing) when the host cannot offer it. Against the real
// NATS server through the host with a real component; the bookkeeping without one.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { jetstream } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import type { Host } from '../../src/host/host.ts';
import { UsageError } from '../../src/errors.ts';
import { MemoryBlobstoreBackend, blobstorePlugin, type BlobstoreBackend } from '../../src/plugins/blobstore/index.ts';
import type { BackendRegistry } from '../../src/plugins/shared/backends.ts';
import { NATS_URL, service } from '../services.ts';
import { component, startedHost } from '../host/helpers.ts';
import { bindBlobstore, blobstoreWorkload, hosted, putObject } from './plugin-harness.ts';
import { natsTestRun } from './nats-test-helpers.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

test('a backend named in the config is made once, used by every workload naming it, with its own size limit, and closed at stop', async () => {
  const counts = { made: 0, closed: 0 };
  class Counted extends MemoryBlobstoreBackend {
    async close(): Promise<void> {
      counts.closed++;
    }
  }
  const registry: BackendRegistry<BlobstoreBackend> = [{ type: 'small', parseConfig: () => ({}), create: () => (counts.made++, new Counted({ maxObjectSize: 4 })) }];
  const host = new MemoryBlobstoreBackend();
  const plugin = hosted(blobstorePlugin({ backend: host, registry }));
  const one = await bindBlobstore(plugin, blobstoreWorkload('w1', { backend: 'small' }));
  const two = await bindBlobstore(plugin, blobstoreWorkload('w2', { backend: 'small' }));
  const plain = await bindBlobstore(plugin, blobstoreWorkload('w3'));
  assert.equal(counts.made, 1);
  await one.createContainer('c');
  await two.createContainer('c');
  await putObject(plain, await plain.createContainer('c'), 'o', bytes('bigger than four'));
  assert.deepEqual(await host.listObjects('default/w3/c'), ['o'], "no key: the host's backend");
  assert.equal(await host.containerExists('default/w1/c'), false, 'the named backend holds the others');
  // new-outgoing-value carries the limit of the workload's backend.
  const value = one.OutgoingValue.newOutgoingValue();
  await assert.rejects(async () => value.outgoingValueWriteBody().blockingWriteAndFlush(bytes('12345')), (err: { tag: string }) => err.tag === 'last-operation-failed');
  await plugin.stop();
  assert.equal(counts.closed, 1);
});

test('an unknown backend type, or one the host lacks resources for, fails the bind naming the workload, the interface and why', () => {
  const plugin = hosted(blobstorePlugin({ backend: new MemoryBlobstoreBackend() }));
  assert.throws(
    () => plugin.onWorkloadBind(blobstoreWorkload('w1', { backend: 'redis' }, { namespace: 'prod', name: 'shop' })),
    (err: unknown) =>
      err instanceof UsageError &&
      err.message === 'workload "prod/shop", wasi:blobstore config backend: no backend named "redis" (known: memory, filesystem, nats, postgres)',
  );
  assert.throws(
    () => plugin.onWorkloadBind(blobstoreWorkload('w2', { backend: 'nats' })),
    /^UsageError: workload "default\/w2", wasi:blobstore config backend: this host cannot offer the wasi-blobstore backend "nats": the NATS blobstore backend needs a NATS connection$/,
  );
  assert.throws(() => plugin.onWorkloadBind(blobstoreWorkload('w3', { backend: 'postgres' })), /backend "postgres": the PostgreSQL blobstore backend needs a PostgreSQL pool/);
  assert.throws(() => blobstorePlugin({ backend: 'redis' }), /wasi-blobstore: no backend named "redis"/);
});

const skip = await service('NATS', NATS_URL);
const { run, sharedConnection, runStreams, cleanup } = natsTestRun('whbb', 'OBJ_');
after(cleanup);

const blobstore = (config: Record<string, string>) => ({ namespace: 'wasi', package: 'blobstore', interfaces: ['blobstore', 'container', 'types'], version: '0.2.0-draft', config });

/** The blob-roundtrip component in namespace `run` (so its object stores are this run's), with `config`. */
function blobs(name: string, config: Record<string, string>) {
  return { namespace: run, name, witWorld: { components: [component('blob', 'blob-roundtrip')], hostInterfaces: [blobstore(config)] } };
}

async function roundtrip(host: Host, id: string, container: string, object: string, data: Uint8Array): Promise<unknown> {
  const invocation = host.workload(id)!.invocation('blob');
  try {
    return await invocation.call('roundtrip', container, object, data);
  } finally {
    await invocation.close();
  }
}

describe('a workload choosing its blobstore backend, through the host', { skip }, () => {
  test('backend: nats stores in a JetStream object store while the host default is memory', async () => {
    const nc = await sharedConnection();
    const { host } = await startedHost(blobstorePlugin({ backend: 'memory', resources: { nats: nc } }));
    try {
      const started = await host.workloadStart({ workloadId: 'on-nats', workload: blobs('photos', { backend: 'nats' }) });
      assert.equal(started.workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', started.workloadStatus.message);
      assert.deepEqual(await roundtrip(host, 'on-nats', 'album', 'cat.jpg', bytes('meow')), bytes('meow'));
      const inMemory = await host.workloadStart({ workloadId: 'in-memory', workload: blobs('other', {}) });
      assert.equal(inMemory.workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', inMemory.workloadStatus.message);
      assert.deepEqual(await roundtrip(host, 'in-memory', 'album', 'dog.jpg', bytes('woof')), bytes('woof'));

      // Seen from a plain NATS client: the workload's container under the plugin's name, and only it.
      assert.deepEqual(await runStreams(), [`OBJ_${run}-2Fphotos-2Falbum`]);
      const store = await new Objm(jetstream(nc)).open(`${run}-2Fphotos-2Falbum`);
      assert.equal(new TextDecoder().decode((await store.getBlob('cat.jpg'))!), 'meow');
    } finally {
      await host.stop();
    }
    assert.equal(nc.isClosed(), false, "the host's NATS connection stays open: it is the embedder's");
  });

  test('an unknown backend, or one this host has no resources for, fails that start with a clear message; the host keeps running', async () => {
    const { host } = await startedHost(blobstorePlugin({ backend: 'memory', resources: { nats: await sharedConnection() } }));
    try {
      const unknown = await host.workloadStart({ workloadId: 'unknown', workload: blobs('photos', { backend: 'redis' }) });
      assert.equal(unknown.workloadStatus.workloadState, 'WORKLOAD_STATE_ERROR');
      assert.match(unknown.workloadStatus.message, new RegExp(`workload "${run}/photos", wasi:blobstore config backend: no backend named "redis" \\(known: memory, filesystem, nats, postgres\\)`));
      const missing = await host.workloadStart({ workloadId: 'missing', workload: blobs('photos', { backend: 'postgres' }) });
      assert.equal(missing.workloadStatus.workloadState, 'WORKLOAD_STATE_ERROR');
      assert.match(missing.workloadStatus.message, /wasi:blobstore config backend: this host cannot offer the wasi-blobstore backend "postgres": the PostgreSQL blobstore backend needs a PostgreSQL pool/);
      const fine = await host.workloadStart({ workloadId: 'fine', workload: blobs('photos', {}) });
      assert.equal(fine.workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', fine.workloadStatus.message);
      assert.deepEqual(await roundtrip(host, 'fine', 'album', 'x', bytes('x')), bytes('x'));
    } finally {
      await host.stop();
    }
  });
});
