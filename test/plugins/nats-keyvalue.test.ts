// The NATS JetStream key-value backend against the real server: the shared backend suite, the
// naming (JetStream names of the plugin's bucket names, odd names that must never collide, and
// buckets that an older wasmhost named per workload scope, still found), keys of any
// spelling, compare-and-swap increments from several hosts, persistence across connections, and
// the failures (a bucket deleted behind the backend's back, oversized values, closed things).
// The encoders are checked without a server too. Server outages: nats-reconnect.test.ts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { jetstream } from '@nats-io/jetstream';
import { KeyValueError, NatsKeyValueBackend, keyValuePlugin, type NatsKeyValueOptions } from '../../src/plugins/keyvalue/index.ts';
import { MAX_ENCODED_KEY_LENGTH, decodeKey, encodeKey } from '../../src/plugins/keyvalue/backends/nats-keys.ts';
import { decodeNatsName, encodeNatsName, natsStoreName } from '../../src/plugins/shared/nats-names.ts';
import { NATS_URL, service } from '../services.ts';
import { keyValueBackendSuite, rejectsWith } from './keyvalue-backend-suite.ts';
import { natsTestRun } from './nats-test-helpers.ts';
import { bindKeyValue, hosted, keyValueWorkload } from './plugin-harness.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : new TextDecoder().decode(value));

const skip = await service('NATS', NATS_URL);
/** Every bucket of this run starts with `KV_<run>`: removed at the end, and apart from other suites on the shared server. */
const { freshPrefix, connectTo, sharedConnection, jsm, runStreams, cleanup } = natsTestRun('whkv', 'KV_');

async function backend(options: Partial<NatsKeyValueOptions> = {}): Promise<NatsKeyValueBackend> {
  return new NatsKeyValueBackend({ connection: await sharedConnection(), bucketPrefix: freshPrefix(), timeoutMs: 5000, ...options });
}

after(cleanup);

test('encodeKey: any well-formed non-empty string becomes a valid NATS key and decodes back', () => {
  const valid = /^[-/_=.a-zA-Z0-9]+$/;
  fc.assert(
    fc.property(fc.string({ unit: 'binary', minLength: 1 }), (key) => {
      const encoded = encodeKey(key)!;
      assert.ok(valid.test(encoded), encoded);
      assert.ok(!encoded.startsWith('.') && !encoded.endsWith('.') && !encoded.includes('..'), encoded);
      assert.equal(decodeKey(encoded), key);
    }),
    { numRuns: 2000 },
  );
  // Readable where NATS allows it; escaped where it does not.
  assert.equal(encodeKey('user.42/profile_name-x'), 'user.42/profile_name-x');
  assert.equal(encodeKey('.a..b.'), '=2Ea.=2Eb=2E');
  assert.equal(encodeKey('a=b c*>'), 'a=3Db=20c=2A=3E');
  assert.equal(encodeKey('é'), '=C3=A9');
  assert.equal(encodeKey(''), undefined);
  assert.equal(encodeKey('lone \ud800'), undefined);
  // A leading U+FEFF is part of the key (a UTF-8 decoder drops it unless told not to).
  assert.equal(decodeKey(encodeKey('\ufeffkey')!), '\ufeffkey');
  // Foreign spellings are not ours: they would collide with canonical ones.
  assert.equal(decodeKey('=41'), undefined, '"A" is stored as "A"');
  assert.equal(decodeKey('a=3db'), undefined, 'lower-case hex');
  assert.equal(decodeKey('a=b'), undefined);
  assert.equal(decodeKey('=FF'), undefined, 'not UTF-8');
  assert.equal(decodeKey('plain.key'), 'plain.key', 'a key written by other NATS tools is listed as itself');
});

test('encodeNatsName / natsStoreName: injective, within JetStream\'s alphabet, "_" only between scope and name', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (name) => {
      const encoded = encodeNatsName(name)!;
      assert.match(encoded, /^[A-Za-z0-9-]*$/);
      assert.equal(decodeNatsName(encoded), name);
    }),
    { numRuns: 2000 },
  );
  const pairs = fc.tuple(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary', minLength: 1 }));
  fc.assert(
    fc.property(pairs, pairs, fc.constantFrom<'workload' | 'shared'>('workload', 'shared'), ([s1, n1], [s2, n2], isolation) => {
      const a = natsStoreName('p_', isolation, s1, n1);
      const b = natsStoreName('p_', isolation, s2, n2);
      if ('name' in a && 'name' in b && a.name === b.name) assert.ok(n1 === n2 && (isolation === 'shared' || s1 === s2), `${a.name}`);
    }),
    { numRuns: 2000 },
  );
  assert.equal(decodeNatsName(encodeNatsName('\ufeff')!), '\ufeff', 'a leading U+FEFF is kept (fast-check found it)');
  assert.deepEqual(natsStoreName('', 'workload', 'default/my-app', 'counters'), { name: 'default-2Fmy-2Dapp_counters' });
  assert.deepEqual(natsStoreName('wh-', 'shared', 'default/my-app', 'a_b'), { name: 'wh-a-5Fb' });
  // The collisions a naive `scope + "_" + bucket` would have.
  assert.notDeepEqual(natsStoreName('', 'workload', 'x_y', 'z'), natsStoreName('', 'workload', 'x', 'y_z'));
  assert.notDeepEqual(natsStoreName('', 'shared', 'w', 'x_y'), natsStoreName('', 'workload', 'x', 'y'));
  assert.match((natsStoreName('', 'shared', 'w', '\ud800') as { problem: string }).problem, /not well-formed/);
  assert.match((natsStoreName('', 'shared', 'w', 'é'.repeat(50)) as { problem: string }).problem, /too long for NATS once encoded \(300 of at most 251/);
  assert.equal(decodeNatsName('a-2d'), undefined, 'lower-case hex is not ours');
  assert.equal(decodeNatsName('a_b'), undefined);
});

test('NatsKeyValueBackend refuses bad options at construction', async () => {
  const connection = {} as NatsConnection;
  assert.throws(() => new NatsKeyValueBackend({ connection, bucketPrefix: 'a.b' }), /bucket prefix "a.b" may hold only/);
  assert.throws(() => new NatsKeyValueBackend({ connection, isolation: 'global' as 'shared' }), /isolation must be "workload" or "shared"/);
  assert.throws(() => new NatsKeyValueBackend({ connection, timeoutMs: 0 }), /timeoutMs must be an integer of at least 1/);
  assert.throws(() => new NatsKeyValueBackend({ connection, replicas: 1.5 }), /replicas must be an integer of at least 1/);
});

describe('NATS key-value backend', { skip }, () => {
  keyValueBackendSuite('nats', async () => {
    const kv = await backend();
    return { backend: kv, close: () => kv.close() };
  });

  test('nats: 50 concurrent increments from 5 hosts on 5 connections count exactly 50', async () => {
    const bucketPrefix = freshPrefix();
    const hosts = await Promise.all(Array.from({ length: 5 }, async () => new NatsKeyValueBackend({ connection: await connectTo(), bucketPrefix })));
    // Every host opens the (new) bucket at once: creating it concurrently is fine too.
    await Promise.all(hosts.map((kv) => kv.openBucket('ns/app/counters')));
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => hosts[i % 5].increment('ns/app/counters', 'hits', 1n)));
    assert.deepEqual(
      results.map(Number).sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i + 1),
      'every increment saw a value of its own',
    );
    assert.equal(text(await hosts[0].get('ns/app/counters', 'hits')), '50');
    await Promise.all(Array.from({ length: 20 }, (_, i) => hosts[i % 5].increment('ns/app/counters', 'hits', 5n)));
    assert.equal(await hosts[3].increment('ns/app/counters', 'hits', 0n), 150n);
    await Promise.all(hosts.map((kv) => kv.close()));
  });

  test('nats: each bucket name is its own JetStream bucket, the plugin\'s workload names included', async () => {
    const bucketPrefix = freshPrefix();
    const kv = await backend({ bucketPrefix });
    await kv.openBucket('prod/app-a/b');
    await kv.set('prod/app-a/b', 'k', bytes('a'));
    await rejectsWith(kv.get('prod/app-b/b', 'k'), 'no-such-store', /bucket "prod\/app-b\/b" does not exist/);
    await kv.openBucket('prod/app-b/b');
    assert.equal(await kv.get('prod/app-b/b', 'k'), undefined);
    await kv.set('prod/app-b/b', 'k', bytes('b'));
    assert.equal(text(await kv.get('prod/app-a/b', 'k')), 'a');
    // The same workload on another host (replica or restart) shares its buckets.
    const replica = new NatsKeyValueBackend({ connection: await connectTo(), bucketPrefix });
    assert.equal(text(await replica.get('prod/app-a/b', 'k')), 'a');
    assert.deepEqual(await runStreams(bucketPrefix), [`KV_${bucketPrefix}prod-2Fapp-2Da-2Fb`, `KV_${bucketPrefix}prod-2Fapp-2Db-2Fb`]);
  });

  test("nats: the backend's isolation option is the plugin's default: 'shared' lets workloads that name a bucket alike share it", async () => {
    const bucketPrefix = freshPrefix();
    const kv = await backend({ bucketPrefix, isolation: 'shared' });
    assert.equal(kv.defaultIsolation, 'shared');
    assert.equal((await backend()).defaultIsolation, 'workload');
    const plugin = hosted(keyValuePlugin({ backend: kv }));
    const a = await bindKeyValue(plugin, keyValueWorkload('a', {}, { namespace: 'prod', name: 'app-a' }));
    const b = await bindKeyValue(plugin, keyValueWorkload('b', {}, { namespace: 'prod', name: 'app-b' }));
    await (await a.open('common')).set('k', bytes('from a'));
    assert.equal(text(await (await b.open('common')).get('k')), 'from a');
    assert.equal(await b.increment(await b.open('common'), 'n', 2n), 2n);
    assert.equal(await a.increment(await a.open('common'), 'n', 1n), 3n);
    assert.deepEqual(await runStreams(bucketPrefix), [`KV_${bucketPrefix}common`]);
  });

  test('nats: buckets an older wasmhost named per workload scope are found, and new ones get the current name', async () => {
    const bucketPrefix = freshPrefix();
    // Written the old way (the JetStream bucket of scope `default/app`, bucket `cache`) by another client.
    const oldName = `${bucketPrefix}default-2Fapp_cache`;
    assert.deepEqual(natsStoreName(bucketPrefix, 'workload', 'default/app', 'cache'), { name: oldName });
    const old = await new Kvm(jetstream(await sharedConnection())).create(oldName, { history: 1 });
    await old.put('k', bytes('written before'));
    await old.put('n', bytes('41'));

    const plugin = hosted(keyValuePlugin({ backend: await backend({ bucketPrefix }) }));
    const app = await bindKeyValue(plugin, keyValueWorkload('id-1', {}, { namespace: 'default', name: 'app' }));
    const cache = await app.open('cache');
    assert.equal(text(await cache.get('k')), 'written before');
    assert.equal(await app.increment(cache, 'n', 1n), 42n);
    await cache.set('new', bytes('after'));
    const written = await old.get('new');
    assert.equal(text(written ? new Uint8Array(written.value) : undefined), 'after', 'written into the old bucket');
    // A bucket no older wasmhost made has the current name; another workload never reaches the old one.
    await (await app.open('fresh')).set('k', bytes('v'));
    const other = await bindKeyValue(plugin, keyValueWorkload('id-2', {}, { namespace: 'default', name: 'other' }));
    assert.equal(await (await other.open('cache')).get('k'), undefined);
    assert.deepEqual(await runStreams(bucketPrefix), [`KV_${bucketPrefix}default-2Fapp-2Ffresh`, `KV_${bucketPrefix}default-2Fapp_cache`, `KV_${bucketPrefix}default-2Fother-2Fcache`]);

    // A new backend (host restart) finds the old bucket again; an escaped identity maps back to its old scope.
    const restarted = await backend({ bucketPrefix });
    await restarted.openBucket('default/app/cache');
    assert.equal(text(await restarted.get('default/app/cache', 'new')), 'after');
    const oddOld = await new Kvm(jetstream(await sharedConnection())).create(`${bucketPrefix}n-2Fs_b`, { history: 1 });
    await oddOld.put('k', bytes('odd'));
    const odd = await bindKeyValue(plugin, keyValueWorkload('id-3', {}, { namespace: 'n', name: 's' }));
    assert.equal(text(await (await odd.open('b')).get('k')), 'odd');
  });

  test('nats: odd bucket names never collide', async () => {
    const kv = await backend();
    // '_' was the scope separator, '-' is the escape: spellings of one another must stay apart.
    const buckets = ['a_b', 'a-b', 'a-5Fb', 'a-2Db', 'a.b', 'a b', 'A', 'a', '_', '-', 'ünï', '🎉', 'a/b', 'KV_x', 'x_y/n/z', 'x/n/y_z', 'x-5Fy/n/z', 'x/y/z', 'x%2Fy/z'];
    for (const bucket of buckets) {
      await kv.openBucket(bucket);
      await kv.set(bucket, 'who', bytes(bucket));
    }
    for (const bucket of buckets) assert.equal(text(await kv.get(bucket, 'who')), bucket);
    await rejectsWith(kv.openBucket('é'.repeat(100)), 'other', /invalid bucket name "é+": too long for NATS once encoded/);
    await rejectsWith(kv.openBucket('lone \ud800'), 'other', /not well-formed Unicode/);
  });

  test('nats: keys of any spelling round-trip, list as written, and never collide', async () => {
    const kv = await backend();
    await kv.openBucket('b');
    const keys = ['.', '..', '.a', 'a.', 'a..b', 'a.b', 'a/b', '=', '=41', 'A', '*', '>', 'a.*', 'a b', '\0', 'ü', '🎉', '$KV', '-', '_', 'x'.repeat(MAX_ENCODED_KEY_LENGTH)];
    for (const [i, key] of keys.entries()) await kv.set('b', key, bytes(String(i)));
    for (const [i, key] of keys.entries()) assert.equal(text(await kv.get('b', key)), String(i), key);
    assert.deepEqual((await kv.listKeys('b', undefined, 100)).keys, [...keys].sort());
    assert.deepEqual((await kv.getMany('b', ['a.*', 'a.b', 'nope'])).map(text), [String(keys.indexOf('a.*')), String(keys.indexOf('a.b')), undefined]);
    // Too long for a subject: refused before it reaches the connection (NATS would close it).
    await rejectsWith(kv.set('b', 'x'.repeat(MAX_ENCODED_KEY_LENGTH + 1), bytes('v')), 'other', /too long for the NATS store \(2049 characters once encoded, at most 2048\)/);
    await rejectsWith(kv.get('b', 'é'.repeat(400)), 'other', /2400 characters once encoded/);
    await rejectsWith(kv.set('b', 'lone \udc00', bytes('v')), 'other', /not well-formed Unicode/);
    await rejectsWith(kv.setMany('b', [['fine', bytes('v')], ['', bytes('v')]]), 'other', /it is empty/);
    assert.equal(await kv.exists('b', 'fine'), false, 'a refused batch writes nothing');
    assert.equal(text(await kv.get('b', 'a.b')), String(keys.indexOf('a.b')), 'the connection still works');
  });

  test('nats: deleted keys are gone from get, exists, list-keys and counters', async () => {
    const kv = await backend();
    await kv.openBucket('b');
    await kv.setMany('b', [
      ['a', bytes('1')],
      ['b', bytes('2')],
      ['c', bytes('3')],
      ['n', bytes('41')],
    ]);
    await kv.delete('b', 'b');
    await kv.deleteMany('b', ['n', 'never-there']);
    assert.equal(await kv.get('b', 'b'), undefined);
    assert.equal(await kv.exists('b', 'b'), false);
    assert.deepEqual(await kv.listKeys('b', undefined, 10), { keys: ['a', 'c'] });
    assert.deepEqual(await kv.listKeys('b', undefined, 1), { keys: ['a'], cursor: 1 });
    assert.deepEqual(await kv.listKeys('b', 1, 1), { keys: ['c'] });
    assert.equal(await kv.increment('b', 'n', 1n), 1n, 'a deleted counter starts again at 0');
    await kv.set('b', 'b', bytes('back'));
    assert.deepEqual((await kv.listKeys('b', undefined, 10)).keys, ['a', 'b', 'c', 'n']);
  });

  test('nats: a new connection and backend see the data (host restart)', async () => {
    const bucketPrefix = freshPrefix();
    const first = new NatsKeyValueBackend({ connection: await connectTo(), bucketPrefix });
    await first.openBucket('ns/app/b');
    await first.set('ns/app/b', 'greeting', bytes('hello'));
    assert.equal(await first.increment('ns/app/b', 'visits', 3n), 3n);
    await first.close();

    const nc = await connectTo();
    const second = new NatsKeyValueBackend({ connection: nc, bucketPrefix });
    await second.openBucket('ns/app/b');
    assert.equal(text(await second.get('ns/app/b', 'greeting')), 'hello');
    assert.equal(await second.increment('ns/app/b', 'visits', 1n), 4n);
    assert.deepEqual((await second.listKeys('ns/app/b', undefined, 10)).keys, ['greeting', 'visits']);
    await second.close();
    assert.equal(nc.isClosed(), false, 'close leaves the caller\'s connection open');
  });

  test('nats: a bucket deleted behind the backend\'s back is no-such-store until opened again', async () => {
    const bucketPrefix = freshPrefix();
    const kv = await backend({ bucketPrefix });
    await kv.openBucket('b');
    await kv.set('b', 'k', bytes('v'));
    await (await jsm()).streams.delete(`KV_${bucketPrefix}b`);
    const gone = /bucket "b" does not exist/;
    await rejectsWith(kv.get('b', 'k'), 'no-such-store', gone);
    await rejectsWith(kv.set('b', 'k', bytes('v')), 'no-such-store', gone);
    await rejectsWith(kv.delete('b', 'k'), 'no-such-store', gone);
    await rejectsWith(kv.exists('b', 'k'), 'no-such-store', gone);
    await rejectsWith(kv.listKeys('b', undefined, 10), 'no-such-store', gone);
    await rejectsWith(kv.increment('b', 'k', 1n), 'no-such-store', gone);
    await rejectsWith(kv.setMany('b', [['k', bytes('v')]]), 'no-such-store', gone);
    await rejectsWith(kv.deleteMany('b', ['k']), 'no-such-store', gone);
    await kv.openBucket('b');
    assert.equal(await kv.get('b', 'k'), undefined, 'opened again: a new, empty bucket');
    await kv.set('b', 'k', bytes('again'));
    assert.equal(text(await kv.get('b', 'k')), 'again');
  });

  test('nats: a value past the server\'s max_payload is refused by name, and the connection stays usable', async () => {
    const nc = await sharedConnection();
    const limit = nc.info!.max_payload;
    const kv = await backend();
    await kv.openBucket('b');
    await rejectsWith(kv.set('b', 'big', new Uint8Array(limit + 1)), 'other', new RegExp(`value of ${limit + 1} bytes exceeds the NATS server's limit of ${limit} bytes`));
    await kv.set('b', 'fits', new Uint8Array(limit - 1024));
    assert.equal((await kv.get('b', 'fits'))?.length, limit - 1024);
    assert.equal(nc.isClosed(), false);
  });

  test('nats: calls after close, or on a closed connection, fail at once saying so', async () => {
    const kv = await backend();
    await kv.openBucket('b');
    await kv.close();
    await rejectsWith(kv.get('b', 'k'), 'other', /get from bucket "b" failed: the NATS key-value backend is closed/);
    const nc = await connect({ servers: NATS_URL });
    const other = new NatsKeyValueBackend({ connection: nc, bucketPrefix: freshPrefix() });
    await nc.close();
    const started = Date.now();
    await rejectsWith(other.openBucket('b'), 'other', /open bucket "b" failed: the NATS connection is closed/);
    assert.ok(Date.now() - started < 1000);
  });

  test('nats: a failure never shows the server address to the guest', async () => {
    const kv = await backend();
    await assert.rejects(kv.get('never', 'k'), (err: unknown) => {
      assert.ok(err instanceof KeyValueError);
      assert.ok(!err.message.includes('127.0.0.1') && !err.message.includes('4222'), err.message);
      return true;
    });
  });
});
