// The NATS key-value and blobstore backends when their server goes away and comes back, on a
// private nats-server (test/nats-server.ts) that the test stops and restarts: every call fails
// within the configured time with the interface's error saying why, nothing hangs or crashes, and
// once the server is back the same backend on the same connection works again and finds what was
// written before the outage.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { BlobstoreError, NatsBlobstoreBackend } from '../../src/plugins/blobstore/index.ts';
import { KeyValueError, NatsKeyValueBackend } from '../../src/plugins/keyvalue/index.ts';
import { natsServerAvailable, startNatsServer, type NatsServer } from '../nats-server.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : new TextDecoder().decode(value));

const TIMEOUT_MS = 1500;
/** Scheduling slack on a busy machine: a call must fail by TIMEOUT_MS plus this. */
const SLACK_MS = 1500;
const DOWN = new RegExp(`NATS did not answer within ${TIMEOUT_MS} ms \\(the connection to NATS is down and the client is reconnecting\\)`);

/** Runs `call`, expecting it to fail with `check`'s error; answers how long it took. */
async function failsWithin(label: string, call: () => Promise<unknown>, check: (err: unknown) => void): Promise<number> {
  const started = Date.now();
  await assert.rejects(call(), (err: unknown) => {
    check(err);
    return true;
  }, label);
  const elapsed = Date.now() - started;
  assert.ok(elapsed < TIMEOUT_MS + SLACK_MS, `${label} took ${elapsed} ms`);
  return elapsed;
}

/** Retries `call` until it succeeds (the client reconnecting), failing after `ms`. */
async function eventually<T>(call: () => Promise<T>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('NATS backends when the server goes away and comes back', { skip: natsServerAvailable(), timeout: 120_000 }, () => {
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    server = await startNatsServer();
    // As a host connects: reconnect forever, by itself.
    nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  });

  after(async () => {
    try {
      await nc?.close();
    } finally {
      await server?.cleanup();
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('key-value: calls fail in time with KeyValueError while the server is down; afterwards the data is there', async () => {
    const kv = new NatsKeyValueBackend({ connection: nc!, timeoutMs: TIMEOUT_MS });
    await kv.openBucket('ns/app/b');
    await kv.set('ns/app/b', 'kept', bytes('before the outage'));
    assert.equal(await kv.increment('ns/app/b', 'counter', 7n), 7n);

    await server!.stop();
    const down = (err: unknown) => {
      assert.ok(err instanceof KeyValueError, `expected a KeyValueError, got ${String(err)}`);
      assert.equal(err.kind, 'other');
      assert.match(err.message, DOWN);
    };
    // All at once: none waits for another, and each is bounded on its own.
    const calls: [string, () => Promise<unknown>][] = [
      ['open', () => kv.openBucket('ns/app/b')],
      ['get', () => kv.get('ns/app/b', 'kept')],
      ['set', () => kv.set('ns/app/b', 'outage-set', bytes('x'))],
      ['delete', () => kv.delete('ns/app/b', 'outage-delete')],
      ['exists', () => kv.exists('ns/app/b', 'kept')],
      ['list-keys', () => kv.listKeys('ns/app/b', undefined, 10)],
      ['increment', () => kv.increment('ns/app/b', 'outage-counter', 1n)],
      ['get-many', () => kv.getMany('ns/app/b', ['kept', 'counter'])],
      ['set-many', () => kv.setMany('ns/app/b', [['outage-many', bytes('x')]])],
    ];
    const elapsed = await Promise.all(calls.map(([label, call]) => failsWithin(`kv ${label}`, call, down)));
    for (const ms of elapsed) assert.ok(ms >= TIMEOUT_MS - 100, `failed after ${ms} ms: not before NATS had its time`);

    await server!.restart();
    // The same backend on the same connection: the client reconnects by itself.
    assert.equal(text(await eventually(() => kv.get('ns/app/b', 'kept'))), 'before the outage');
    assert.equal(await kv.increment('ns/app/b', 'counter', 1n), 8n);
    await kv.set('ns/app/b', 'after', bytes('the outage'));
    const keys = (await kv.listKeys('ns/app/b', undefined, 100)).keys;
    for (const key of ['after', 'counter', 'kept']) assert.ok(keys.includes(key), `${key} in ${keys}`);
    await kv.close();
  });

  test('blobstore: calls fail in time with BlobstoreError while the server is down; afterwards the data is there', async () => {
    const bs = new NatsBlobstoreBackend({ connection: nc!, timeoutMs: TIMEOUT_MS });
    const created = await bs.createContainer('ns/app/c');
    const big = new Uint8Array(300_000).map((_, i) => i % 253); // three chunks
    await bs.writeObject('ns/app/c', 'big', big);
    await bs.writeObject('ns/app/c', 'small', bytes('before the outage'));
    await bs.createContainer('ns/app/other');

    await server!.stop();
    const down = (err: unknown) => {
      assert.ok(err instanceof BlobstoreError, `expected a BlobstoreError, got ${String(err)}`);
      assert.match(err.message, DOWN);
    };
    const calls: [string, () => Promise<unknown>][] = [
      ['create-container', () => bs.createContainer('ns/app/new')],
      ['container-info', () => bs.containerInfo('ns/app/c')],
      ['container-exists', () => bs.containerExists('ns/app/c')],
      ['delete-container', () => bs.deleteContainer('ns/app/never')],
      ['list-objects', () => bs.listObjects('ns/app/c')],
      ['write-object', () => bs.writeObject('ns/app/c', 'outage', big)],
      ['read-object whole', () => bs.readObject('ns/app/c', 'big', 0, big.length)],
      ['read-object range', () => bs.readObject('ns/app/c', 'big', 200_000, 200_010)],
      ['object-info', () => bs.objectInfo('ns/app/c', 'small')],
      ['has-object', () => bs.hasObject('ns/app/c', 'small')],
      ['delete-object', () => bs.deleteObject('ns/app/c', 'outage-delete')],
      ['clear-container', () => bs.clearContainer('ns/app/other')],
      ['copy-object', () => bs.copyObject({ container: 'ns/app/c', object: 'small' }, { container: 'ns/app/other', object: 'copy' })],
    ];
    await Promise.all(calls.map(([label, call]) => failsWithin(`blobstore ${label}`, call, down)));

    await server!.restart();
    assert.deepEqual(await eventually(() => bs.containerInfo('ns/app/c')), created, 'createdAt survives the restart');
    assert.equal(text(await bs.readObject('ns/app/c', 'small', 0, 100)), 'before the outage');
    assert.ok(Buffer.from(await bs.readObject('ns/app/c', 'big', 0, big.length)).equals(Buffer.from(big)));
    assert.deepEqual(await bs.readObject('ns/app/c', 'big', 200_000, 200_010), big.slice(200_000, 200_010));
    await bs.writeObject('ns/app/c', 'after', bytes('the outage'));
    const names = await bs.listObjects('ns/app/c');
    for (const name of ['after', 'big', 'small']) assert.ok(names.includes(name), `${name} in ${names}`);
    await bs.close();
  });

  test('nothing was left unhandled, and the connection is the one opened at the start', () => {
    assert.deepEqual(unhandled, []);
    assert.equal(nc!.isClosed(), false);
  });
});
