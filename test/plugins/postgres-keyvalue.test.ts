import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyValueError, MAX_POSTGRES_KEY_BYTES, PostgresKeyValueBackend, keyValuePlugin } from '../../src/plugins/keyvalue/index.ts';
import { POSTGRES_URL, service } from '../services.ts';
import { keyValueBackendSuite, rejectsWith } from './keyvalue-backend-suite.ts';
import { bindKeyValue, keyValueWorkload, hosted } from './plugin-harness.ts';
import { closedPort, dropSchema, poolAt, silentServer, tablesOf, testPool, uniqueSchema } from './postgres-test-helpers.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : new TextDecoder().decode(value));

const skip = await service('PostgreSQL', POSTGRES_URL);
const pool = skip ? undefined : testPool();
const schemas: string[] = [];

/** A backend on its own new schema (tables created on first use); every schema is dropped at the end. */
function freshBackend(options: { timeoutMs?: number } = {}): { backend: PostgresKeyValueBackend; schema: string } {
  const schema = uniqueSchema('wasmhost_test_kv');
  schemas.push(schema);
  return { backend: new PostgresKeyValueBackend({ pool: pool!, schema, ...options }), schema };
}

after(async () => {
  if (!pool) return;
  for (const schema of schemas) await dropSchema(pool, schema);
  await pool.end();
});

describe('postgres key-value', { skip }, () => {
  keyValueBackendSuite('postgres', async () => {
    const { backend } = freshBackend();
    return { backend, close: () => backend.close() };
  });

  test('postgres: tables appear on first use, in the configured schema only', async () => {
    const { backend, schema } = freshBackend();
    assert.deepEqual(await tablesOf(pool!, schema), []);
    await backend.openBucket('w/b');
    assert.deepEqual(await tablesOf(pool!, schema), ['kv_buckets', 'kv_entries']);
  });

  test('postgres: two hosts creating the tables at once both succeed', async () => {
    const schema = uniqueSchema('wasmhost_test_kv');
    schemas.push(schema);
    const pools = [testPool(), testPool(), testPool()];
    try {
      const backends = pools.map((p) => new PostgresKeyValueBackend({ pool: p, schema }));
      await Promise.all(backends.map((kv, i) => kv.openBucket(`b${i}`)));
      await Promise.all(backends.map((kv) => kv.openBucket('shared')));
      const { rows } = await pool!.query(`SELECT count(*)::int AS n FROM "${schema}".kv_buckets WHERE name = 'shared'`);
      assert.equal(rows[0].n, 1, 'one bucket row however many hosts open it');
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  test('postgres: 100 concurrent increments from 4 pools count exactly 100', async () => {
    const { schema, backend: setup } = freshBackend();
    await setup.openBucket('w/b');
    const pools = Array.from({ length: 4 }, () => testPool({ max: 5 }));
    try {
      const backends = pools.map((p) => new PostgresKeyValueBackend({ pool: p, schema }));
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => backends[i % 4].increment('w/b', 'hits', 1n)));
      assert.deepEqual(
        results.map(Number).sort((a, b) => a - b),
        Array.from({ length: 100 }, (_, i) => i + 1),
        'every increment saw a value of its own',
      );
      assert.equal(text(await setup.get('w/b', 'hits')), '100');
      // Mixed deltas, some negative, still add up.
      await Promise.all(Array.from({ length: 40 }, (_, i) => backends[i % 4].increment('w/b', 'hits', i % 2 === 0 ? 3n : -1n)));
      assert.equal(await setup.increment('w/b', 'hits', 0n), 140n);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  test('postgres: counters read like counter.ts reads them (blanks, leading zeros), and bad ones change nothing', async () => {
    const { backend: kv } = freshBackend();
    await kv.openBucket('w/b');
    await kv.set('w/b', 'padded', bytes(' \t007\n'));
    assert.equal(await kv.increment('w/b', 'padded', 1n), 8n);
    assert.equal(text(await kv.get('w/b', 'padded')), '8');
    await kv.set('w/b', 'nbsp', new Uint8Array([0xa0, 0x35]));
    assert.equal(await kv.increment('w/b', 'nbsp', 1n), 6n);
    const max = 2n ** 64n - 1n;
    for (const bad of ['-1', '1 2', '', ' ', '18446744073709551616', '000000000000000000001', '1e3', '0x10', '+5']) {
      await kv.set('w/b', 'bad', bytes(bad));
      await rejectsWith(kv.increment('w/b', 'bad', 1n), 'other', /"bad".*not a decimal u64/);
      assert.equal(text(await kv.get('w/b', 'bad')), bad);
    }
    await kv.set('w/b', 'edge', bytes(String(max - 1n)));
    assert.equal(await kv.increment('w/b', 'edge', 1n), max);
    await rejectsWith(kv.increment('w/b', 'new', max + 1n), 'other', /exceeds u64/);
    assert.equal(await kv.exists('w/b', 'new'), false, 'a refused first increment creates nothing');
    assert.equal(await kv.increment('w/b', 'down', 5n), 5n);
    assert.equal(await kv.increment('w/b', 'down', -2n), 3n);
  });

  test('postgres: buckets of different names (workloads, under the plugin\'s names) are apart', async () => {
    const { backend: kv } = freshBackend();
    await kv.openBucket('default/one/b');
    await kv.set('default/one/b', 'k', bytes('one'));
    await kv.increment('default/one/b', 'n', 5n);
    await rejectsWith(kv.get('default/two/b', 'k'), 'no-such-store', /"default\/two\/b"/);
    await rejectsWith(kv.set('default/two/b', 'k', bytes('x')), 'no-such-store');
    await rejectsWith(kv.getMany('default/two/b', ['k']), 'no-such-store');
    await rejectsWith(kv.deleteMany('default/two/b', ['k']), 'no-such-store');
    await kv.openBucket('default/two/b');
    assert.equal(await kv.get('default/two/b', 'k'), undefined);
    assert.deepEqual(await kv.listKeys('default/two/b', undefined, 10), { keys: [] });
    assert.equal(await kv.increment('default/two/b', 'n', 1n), 1n);
    await kv.deleteMany('default/two/b', ['k', 'n']);
    assert.equal(text(await kv.get('default/one/b', 'k')), 'one');
    assert.equal(text(await kv.get('default/one/b', 'n')), '5');
  });

  test('postgres: quotes, SQL and unicode in bucket names and keys are only data', async () => {
    const { backend: kv, schema } = freshBackend();
    const nasty = ["it's", '"quoted"', "'; DROP TABLE kv_entries; --", "x'); DELETE FROM kv_buckets; --", '\\x00ff', '$1', 'ünïcode ✓ 🎉', '日本語のキー', '%_*'];
    for (const scope of ["o'brien/app/", 'default/w/']) {
      for (const bucket of nasty.map((b) => scope + b)) {
        await kv.openBucket(bucket);
        for (const key of nasty) await kv.set(bucket, key, bytes(`${bucket}|${key}`));
        await kv.setMany(bucket, [["many'", bytes('m')]]);
        assert.equal(await kv.increment(bucket, "n'; --", 2n), 2n);
      }
    }
    for (const scope of ["o'brien/app/", 'default/w/']) {
      for (const bucket of nasty.map((b) => scope + b)) {
        for (const key of nasty) assert.equal(text(await kv.get(bucket, key)), `${bucket}|${key}`);
        const keys = (await kv.listKeys(bucket, undefined, 100)).keys;
        assert.deepEqual(new Set(keys), new Set([...nasty, "many'", "n'; --"]));
      }
    }
    assert.deepEqual(await tablesOf(pool!, schema), ['kv_buckets', 'kv_entries']);
    const { rows } = await pool!.query(`SELECT count(*)::int AS n FROM "${schema}".kv_buckets`);
    assert.equal(rows[0].n, 2 * nasty.length);
  });

  test('postgres: keys list in UTF-8 byte order, page by page, and long keys are refused with the limit', async () => {
    const { backend: kv } = freshBackend();
    await kv.openBucket('w/b');
    const keys = Array.from({ length: 250 }, (_, i) => `key-${String(i).padStart(3, '0')}`);
    await kv.setMany('w/b', keys.map((k) => [k, bytes(k)] as const));
    const seen: string[] = [];
    let cursor: number | undefined;
    do {
      const page = await kv.listKeys('w/b', cursor, 100);
      seen.push(...page.keys);
      cursor = page.cursor;
    } while (cursor !== undefined);
    assert.deepEqual(seen, keys);
    // Past the end: an empty last page.
    assert.deepEqual(await kv.listKeys('w/b', 1000, 100), { keys: [] });

    await kv.openBucket('w/order');
    const odd = ['b', 'a', '\u{1F600}', '\uFFFD', 'é', 'A', 'nul\0', 'nul'];
    for (const key of odd) await kv.set('w/order', key, bytes(key));
    const byBytes = [...odd].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual((await kv.listKeys('w/order', undefined, 100)).keys, byBytes);

    await kv.set('w/b', 'k'.repeat(MAX_POSTGRES_KEY_BYTES), bytes('fits'));
    assert.equal(text(await kv.get('w/b', 'k'.repeat(MAX_POSTGRES_KEY_BYTES))), 'fits');
    await rejectsWith(kv.set('w/b', 'k'.repeat(MAX_POSTGRES_KEY_BYTES + 1), bytes('v')), 'other', /longer than 2048 bytes in UTF-8/);
    await rejectsWith(kv.get('w/b', 'é'.repeat(1025)), 'other', /longer than 2048 bytes/);
  });

  test('postgres: a batch with one bad key writes nothing, and the last value of a repeated key wins', async () => {
    const { backend: kv } = freshBackend();
    await kv.openBucket('w/b');
    await kv.setMany('w/b', [
      ['dup', bytes('first')],
      ['other', bytes('o')],
      ['dup', bytes('last')],
    ]);
    assert.deepEqual((await kv.getMany('w/b', ['dup', 'other', 'dup'])).map(text), ['last', 'o', 'last']);
    // One key too long fails the whole batch before anything is written.
    await rejectsWith(kv.setMany('w/b', [['fresh', bytes('x')], ['k'.repeat(MAX_POSTGRES_KEY_BYTES + 1), bytes('y')]]), 'other', /longer than/);
    assert.equal(await kv.exists('w/b', 'fresh'), false);
    await kv.setMany('w/b', []);
    await kv.deleteMany('w/b', []);
    await rejectsWith(kv.setMany('w/nope', []), 'no-such-store');
    await rejectsWith(kv.deleteMany('w/nope', []), 'no-such-store');
    await rejectsWith(kv.getMany('w/nope', []), 'no-such-store');
    await rejectsWith(kv.exists('w/nope', 'k'), 'no-such-store');
    await rejectsWith(kv.delete('w/nope', 'k'), 'no-such-store');
  });

  test('postgres: data outlives the backend (a host restart finds it)', async () => {
    const { backend: first, schema } = freshBackend();
    await first.openBucket('default/app/b');
    await first.set('default/app/b', 'greeting', bytes('hello'));
    assert.equal(await first.increment('default/app/b', 'visits', 3n), 3n);
    await first.close();
    assert.equal((await pool!.query('SELECT 1 AS one')).rows[0].one, 1, "close() leaves the caller's pool open");

    const otherPool = testPool();
    try {
      const second = new PostgresKeyValueBackend({ pool: otherPool, schema, ownsPool: true });
      // Without openBucket: the bucket is already recorded.
      assert.equal(text(await second.get('default/app/b', 'greeting')), 'hello');
      assert.equal(await second.increment('default/app/b', 'visits', 1n), 4n);
      await second.close();
      await second.close();
      await rejectsWith(second.get('default/app/b', 'greeting'), 'other', /unavailable: the store is closed/);
      assert.equal(otherPool.ended, true, 'ownsPool: close() ends the pool');
    } finally {
      if (!otherPool.ended) await otherPool.end();
    }
  });

  test('postgres: through the plugin, a workload restarted under a new id finds its data; another workload does not', async () => {
    const { backend } = freshBackend();
    const plugin = hosted(keyValuePlugin({ backend }));
    const first = await bindKeyValue(plugin, keyValueWorkload('id-1', {}, { name: 'app' }));
    const bucket = await first.open('cache');
    await bucket.set('k', bytes('kept'));
    assert.equal(await first.increment(bucket, 'n', 2n), 2n);
    await plugin.onWorkloadUnbind!('id-1');

    const again = await bindKeyValue(plugin, keyValueWorkload('id-2', {}, { name: 'app' }));
    const reopened = await again.open('cache');
    assert.equal(text(await reopened.get('k')), 'kept');
    assert.equal(await again.increment(reopened, 'n', 1n), 3n);

    const stranger = await bindKeyValue(plugin, keyValueWorkload('id-3', {}, { name: 'other-app' }));
    assert.equal(await (await stranger.open('cache')).get('k'), undefined);
  });

  test('postgres: buckets of the older (scope, name) layout are renamed once to the plugin\'s names and found by the workloads that wrote them', async () => {
    const schema = uniqueSchema('wasmhost_test_kv');
    schemas.push(schema);
    const s = `"${schema}"`;
    // The tables and rows as the previous version wrote them.
    await pool!.query(`CREATE SCHEMA ${s}`);
    await pool!.query(`CREATE TABLE ${s}.kv_buckets (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, scope text NOT NULL, name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(), UNIQUE (scope, name))`);
    await pool!.query(`CREATE TABLE ${s}.kv_entries (bucket_id bigint NOT NULL REFERENCES ${s}.kv_buckets (id) ON DELETE CASCADE,
      key bytea NOT NULL, value bytea NOT NULL, PRIMARY KEY (bucket_id, key))`);
    const old: [string, string, string, string][] = [
      ['default/app', 'cache', 'k', 'kept'],
      ['default/app', 'cache', 'n', '41'],
      ['default/other', 'cache', 'k', 'other'],
      ['ns%x/a/b', 'c', 'k', 'odd identity'],
      ['w', 'b', 'k', 'not from the plugin'],
    ];
    for (const [scope, name, key, value] of old) {
      const { rows } = await pool!.query(
        `INSERT INTO ${s}.kv_buckets (scope, name) VALUES ($1, $2) ON CONFLICT (scope, name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
        [scope, name],
      );
      await pool!.query(`INSERT INTO ${s}.kv_entries (bucket_id, key, value) VALUES ($1, $2, $3)`, [rows[0].id, Buffer.from(key), Buffer.from(value)]);
    }

    // Two hosts start at once on the old schema: the rows are renamed once.
    const pools = [testPool(), testPool()];
    try {
      const [backend, second] = pools.map((p) => new PostgresKeyValueBackend({ pool: p, schema }));
      await Promise.all([backend.openBucket('probe-1'), second.openBucket('probe-2')]);
      const { rows } = await pool!.query(`SELECT name FROM ${s}.kv_buckets ORDER BY name`);
      assert.deepEqual(rows.map((r) => r.name), ['default/app/cache', 'default/other/cache', 'ns%25x/a%2Fb/c', 'probe-1', 'probe-2', 'w\u001fb']);
      const columns = await pool!.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'kv_buckets' ORDER BY column_name`, [schema]);
      assert.deepEqual(columns.rows.map((r) => r.column_name), ['created_at', 'id', 'name']);

      const plugin = hosted(keyValuePlugin({ backend }));
      const app = await bindKeyValue(plugin, keyValueWorkload('id-1', {}, { name: 'app' }));
      const cache = await app.open('cache');
      assert.equal(text(await cache.get('k')), 'kept');
      assert.equal(await app.increment(cache, 'n', 1n), 42n);
      const other = await bindKeyValue(plugin, keyValueWorkload('id-2', {}, { name: 'other' }));
      assert.equal(text(await (await other.open('cache')).get('k')), 'other');
      const odd = await bindKeyValue(plugin, keyValueWorkload('id-3', {}, { namespace: 'ns%x', name: 'a/b' }));
      assert.equal(text(await (await odd.open('c')).get('k')), 'odd identity');

      // A later start finds the new layout and changes nothing.
      const later = new PostgresKeyValueBackend({ pool: pool!, schema });
      assert.equal(text(await later.get('default/app/cache', 'n')), '42');
      assert.equal((await pool!.query(`SELECT count(*)::int AS n FROM ${s}.kv_buckets`)).rows[0].n, 6);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  test('postgres: invalid options are refused at construction', () => {
    assert.throws(() => new PostgresKeyValueBackend({ pool: pool!, schema: '' }), /invalid PostgreSQL schema name "": it is empty/);
    assert.throws(() => new PostgresKeyValueBackend({ pool: pool!, schema: 's'.repeat(64) }), /longer than 63 bytes/);
    assert.throws(() => new PostgresKeyValueBackend({ pool: pool!, timeoutMs: 0 }), /timeoutMs must be a positive integer/);
  });

  test('postgres: a schema name with quotes is an identifier, not SQL', async () => {
    const schema = `wasmhost_test_"q'_${process.pid}`;
    schemas.push(schema);
    const kv = new PostgresKeyValueBackend({ pool: pool!, schema });
    await kv.openBucket('w/b');
    await kv.set('w/b', 'k', bytes('v'));
    assert.deepEqual(await tablesOf(pool!, schema), ['kv_buckets', 'kv_entries']);
  });
});

describe('postgres key-value: a database that is down or hangs', { skip }, () => {
  test('a pool pointed at a closed port fails fast with the interface error, naming the problem but no address', async () => {
    const port = await closedPort();
    const down = poolAt(port);
    try {
      const kv = new PostgresKeyValueBackend({ pool: down, timeoutMs: 5000 });
      const started = Date.now();
      await assert.rejects(kv.openBucket('w/b'), (err: unknown) => {
        assert.ok(err instanceof KeyValueError, String(err));
        assert.equal(err.kind, 'other');
        assert.match(err.message, /^the PostgreSQL key-value store is unavailable: connection refused \(ECONNREFUSED\)$/);
        assert.ok(!err.message.includes(String(port)), err.message);
        assert.ok(err.cause, 'the original error is kept for the host log');
        return true;
      });
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
      await rejectsWith(kv.get('w/b', 'k'), 'other', /connection refused/);
    } finally {
      await down.end();
    }
  });

  test('a server that never answers fails the call after timeoutMs instead of hanging', async () => {
    const silent = await silentServer();
    const hanging = poolAt(silent.port);
    try {
      const kv = new PostgresKeyValueBackend({ pool: hanging, timeoutMs: 300 });
      const started = Date.now();
      await rejectsWith(kv.increment('w/b', 'k', 1n), 'other', /^the PostgreSQL key-value store is unavailable: no connection within 300 ms$/);
      const took = Date.now() - started;
      assert.ok(took >= 290 && took < 2000, `took ${took} ms`);
    } finally {
      await silent.close();
      await hanging.end().catch(() => {});
    }
  });

  test('a statement stuck behind a lock fails after timeoutMs, and the backend works again afterwards', async () => {
    const { backend: kv, schema } = freshBackend({ timeoutMs: 300 });
    await kv.openBucket('w/b');
    await kv.set('w/b', 'k', bytes('v'));
    const blocker = await pool!.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`LOCK TABLE "${schema}".kv_entries IN ACCESS EXCLUSIVE MODE`);
      const started = Date.now();
      await rejectsWith(kv.get('w/b', 'k'), 'other', /unavailable: no answer within 300 ms/);
      assert.ok(Date.now() - started < 2000);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    assert.equal(text(await kv.get('w/b', 'k')), 'v');
  });

  test('a connection the server ends during a call fails that call with the interface error; the next call works', async () => {
    const schema = uniqueSchema('wasmhost_test_kv');
    schemas.push(schema);
    const application = `wasmhost-test-terminate-${process.pid}`;
    const own = testPool({ application_name: application });
    const blocker = await pool!.connect();
    try {
      const kv = new PostgresKeyValueBackend({ pool: own, schema });
      await kv.openBucket('w/b');
      await kv.set('w/b', 'k', bytes('v'));
      await blocker.query('BEGIN');
      await blocker.query(`LOCK TABLE "${schema}".kv_entries IN ACCESS EXCLUSIVE MODE`);
      // Checked from the start, so that its rejection is handled whenever it comes.
      const stuck = rejectsWith(kv.get('w/b', 'k'), 'other', /^the PostgreSQL key-value store is unavailable: the server ended the connection \(SQLSTATE 57P01\)$/);
      let terminated = false;
      for (let i = 0; i < 100 && !terminated; i++) {
        const { rows } = await pool!.query(
          `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [application],
        );
        terminated = rows.some((row) => row.done === true);
        if (!terminated) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(terminated, 'the stuck statement was found and its connection ended');
      await stuck;
      await blocker.query('ROLLBACK');
      assert.equal(text(await kv.get('w/b', 'k')), 'v');
    } finally {
      await blocker.query('ROLLBACK').catch(() => {});
      blocker.release();
      await own.end();
    }
  });
});
