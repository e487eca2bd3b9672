// Components written for wasmCloud open the empty identifier as their default bucket. Through the
// host with a real component (kv-counter, told by wasi:config to open ""), on every backend: the
// counter counts, and the data lands in the workload's bucket "default".
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configPlugin } from '../../src/plugins/config/index.ts';
import { loggingPlugin } from '../../src/plugins/logging/index.ts';
import {
  FilesystemKeyValueBackend,
  MemoryKeyValueBackend,
  NatsKeyValueBackend,
  PostgresKeyValueBackend,
  keyValuePlugin,
  type KeyValueBackend,
} from '../../src/plugins/keyvalue/index.ts';
import { NATS_URL, POSTGRES_URL, service } from '../services.ts';
import { component, startedHost } from '../host/helpers.ts';
import { natsTestRun } from './nats-test-helpers.ts';
import { dropSchema, testPool, uniqueSchema } from './postgres-test-helpers.ts';

const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : new TextDecoder().decode(value));

const natsSkip = await service('NATS', NATS_URL);
const postgresSkip = await service('PostgreSQL', POSTGRES_URL);
const nats = natsTestRun('whkvempty', 'KV_');
const pool = postgresSkip ? undefined : testPool();
const schema = uniqueSchema('wasmhost_test_kv_empty');
const dir = await mkdtemp(join(tmpdir(), 'wasmhost-kv-empty-'));
after(async () => {
  await nats.cleanup();
  if (pool) {
    await dropSchema(pool, schema);
    await pool.end();
  }
  await rm(dir, { recursive: true, force: true });
});

/** Hits kv-counter twice in a workload that opens "" and answers what the backend holds under the bucket name `named`. */
async function countInEmptyBucket(backend: KeyValueBackend, namespace: string, named: string): Promise<string | undefined> {
  const { host } = await startedHost(configPlugin(), loggingPlugin(), keyValuePlugin({ backend }));
  try {
    const workload = {
      namespace,
      name: 'counter',
      witWorld: {
        components: [component('counter', 'kv-counter')],
        hostInterfaces: [
          { namespace: 'wasi', package: 'keyvalue', interfaces: ['store', 'atomics'], version: '0.2.0-draft' },
          { namespace: 'wasi', package: 'logging', interfaces: ['logging'], version: '0.1.0-draft' },
          { namespace: 'wasi', package: 'config', interfaces: ['store'], version: '0.2.0-rc.1', config: { bucket: '' } },
        ],
      },
    };
    const started = await host.workloadStart({ workloadId: 'w', workload });
    assert.equal(started.workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', started.workloadStatus.message);
    for (const expected of [1n, 2n]) {
      const invocation = host.workload('w')!.invocation('counter');
      try {
        assert.equal(await invocation.call('hit', 'home'), expected);
      } finally {
        await invocation.close();
      }
    }
    return text(await backend.get(named, 'home'));
  } finally {
    await host.stop();
  }
}

test('memory: open("") counts in the workload\'s bucket "default"', async () => {
  assert.equal(await countInEmptyBucket(new MemoryKeyValueBackend(), 'test', 'test/counter/default'), '2');
});

test('filesystem: open("") counts in the bucket "default" (shared by name, as the filesystem store always was)', async () => {
  assert.equal(await countInEmptyBucket(new FilesystemKeyValueBackend({ root: dir }), 'test', 'default'), '2');
});

describe('NATS', { skip: natsSkip }, () => {
  test('nats: open("") counts in the workload\'s JetStream bucket "default"', async () => {
    const backend = new NatsKeyValueBackend({ connection: await nats.sharedConnection() });
    assert.equal(await countInEmptyBucket(backend, nats.run, `${nats.run}/counter/default`), '2');
    assert.deepEqual(await nats.runStreams(), [`KV_${nats.run}-2Fcounter-2Fdefault`]);
  });
});

describe('PostgreSQL', { skip: postgresSkip }, () => {
  test('postgres: open("") counts in the workload\'s bucket "default"', async () => {
    const backend = new PostgresKeyValueBackend({ pool: pool!, schema });
    assert.equal(await countInEmptyBucket(backend, 'test', 'test/counter/default'), '2');
  });
});
