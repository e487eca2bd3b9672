/**
 * wasmcloud:postgres end to end: the pg-client component (componentize-js; it imports
 * `wasmcloud:postgres/query` and `prepared` and exports each function unchanged) in a workload on
 * a Host with the plugin, against the real PostgreSQL server. Values go test -> guest -> host ->
 * server and back, crossing the canonical ABI four times.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Host } from '../../src/host/host.ts';
import { postgresPlugin, type PgValue, type PostgresPlugin } from '../../src/plugins/postgres/index.ts';
import { component, startedHost } from '../host/helpers.ts';
import { POSTGRES_URL, service } from '../services.ts';
import { selectAs, valueCases } from './postgres-values.ts';

const skip = await service('PostgreSQL', POSTGRES_URL);
const unique = (prefix: string) => `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
const int4 = (val: number): PgValue => ({ tag: 'int4', val });
const text = (val: string): PgValue => ({ tag: 'text', val });

function pgWorkload(config: Record<string, string> = {}) {
  return {
    namespace: 'test',
    name: 'pg-app',
    witWorld: {
      components: [component('client', 'pg-client')],
      hostInterfaces: [{ namespace: 'wasmcloud', package: 'postgres', interfaces: ['types', 'query', 'prepared'], version: '0.1.1-draft', config }],
    },
  };
}

/** Calls exports of one instance of the workload's `client`, then closes it. */
async function withClient<T>(host: Host, workloadId: string, body: (call: (fn: string, ...args: unknown[]) => Promise<unknown>) => Promise<T>): Promise<T> {
  const invocation = host.workload(workloadId)!.invocation('client');
  try {
    return await body((fn, ...args) => invocation.call(fn, ...args));
  } finally {
    await invocation.close();
  }
}

/** Asserts that a guest export returned `err(expected)`: jco throws it as an Error carrying `payload`. */
async function guestError(promise: Promise<unknown>, check: (payload: { tag: string; val?: unknown }) => void): Promise<void> {
  await assert.rejects(promise, (err: { payload?: { tag: string; val?: unknown } }) => {
    assert.ok(err.payload, `an err result, not a trap: ${String(err)}`);
    check(err.payload);
    return true;
  });
}

describe('a guest component using wasmcloud:postgres through a Host', { skip }, () => {
  let admin: pg.Pool;
  let plugin: PostgresPlugin;
  let host: Host;
  const table = unique('wasmhost_pg_guest');

  before(async () => {
    admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    admin.on('error', () => {});
    await admin.query(`CREATE TABLE ${table} (id int4 PRIMARY KEY, label text)`);
    plugin = postgresPlugin({ url: POSTGRES_URL, poolGraceMs: 0 });
    ({ host } = await startedHost(plugin));
    const status = (await host.workloadStart({ workloadId: 'pg', workload: pgWorkload() })).workloadStatus;
    assert.equal(status.workloadState, 'WORKLOAD_STATE_RUNNING', status.message);
  });

  after(async () => {
    await host?.stop();
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });

  test('every value type round-trips through the guest', async () => {
    await withClient(host, 'pg', async (call) => {
      for (const c of valueCases) {
        const rows = (await call('query', selectAs(c.type), [c.param])) as { columnName: string; value: PgValue }[][];
        assert.deepEqual(rows, [[{ columnName: 'v', value: c.expected ?? c.param }]], c.name);
      }
    });
  });

  test('parameters stay data; query-batch and prepared statements work from the guest', async () => {
    await withClient(host, 'pg', async (call) => {
      const evil = `'); DROP TABLE ${table}; --`;
      await call('query', `INSERT INTO ${table} (id, label) VALUES ($1, $2)`, [int4(1), text(evil)]);
      await call('query-batch', `INSERT INTO ${table} VALUES (2, 'two'); UPDATE ${table} SET label = label || '!' WHERE id = 2`);
      const counts = await call('prepare-and-exec', `INSERT INTO ${table} (id, label) VALUES ($1, $2)`, [
        [int4(3), text('three')],
        [int4(4), text(evil)],
      ]);
      assert.deepEqual(counts, BigUint64Array.of(1n, 1n));
      const token = await call('prepare', `UPDATE ${table} SET label = $1 WHERE id > $2`);
      assert.equal(await call('exec', token, [text('big'), int4(2)]), 2n);
      const rows = (await call('query', `SELECT id, label FROM ${table} WHERE label = $1 OR id = 2 ORDER BY id`, [text(evil)])) as { value: PgValue }[][];
      assert.deepEqual(
        rows.map((r) => r.map((e) => e.value.val)),
        [
          [1, evil],
          [2, 'two!'],
        ],
      );
    });
    assert.equal((await admin.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, 4);
  });

  test('failures reach the guest as the WIT error variants, and the guest can go on', async () => {
    await withClient(host, 'pg', async (call) => {
      await guestError(call('query', 'SELEC 1', []), (e) => {
        assert.equal(e.tag, 'invalid-query');
        assert.match(String(e.val), /syntax error at or near "SELEC" \(SQLSTATE 42601/);
      });
      await guestError(call('query', 'SELECT $1::int4', [int4(1), int4(2)]), (e) => assert.equal(e.tag, 'invalid-params'));
      await guestError(call('query', 'SELECT 1', [{ tag: 'point', val: [[1n, 0, 1], [2n, 0, 1]] }]), (e) => {
        assert.deepEqual(e.tag, 'invalid-params');
        assert.match(String(e.val), /pg-value point is not supported/);
      });
      await guestError(call('query-batch', 'BEGIN'), (e) => assert.equal(e.tag, 'invalid-query'));
      await guestError(call('prepare', 'SELECT * FROM wasmhost_no_such_table'), (e) => {
        assert.equal(e.tag, 'unexpected');
        assert.match(String(e.val), /42P01/);
      });
      await guestError(call('exec', 'not-a-token', []), (e) => assert.deepEqual(e, { tag: 'unknown-prepared-query' }));
      const token = await call('prepare', `INSERT INTO ${table} (id) VALUES ($1)`);
      await guestError(call('exec', token, [int4(1)]), (e) => {
        assert.equal(e.tag, 'query-error');
        const inner = e.val as { tag: string; val: string };
        assert.equal(inner.tag, 'invalid-query');
        assert.match(inner.val, /duplicate key value .*23505/);
      });
      await guestError(call('prepare-and-exec', `DELETE FROM ${table} WHERE id = $1`, [[int4(99)], [text('x')]]), (e) =>
        assert.match(String(e), /^exec #1: query-error: invalid-query: invalid input syntax for type integer: "x" \(SQLSTATE 22P02/),
      );
      assert.deepEqual(await call('query', 'SELECT 7::int4 AS n', []), [[{ columnName: 'n', value: int4(7) }]]);
    });
  });

  test("the workload's database config is the database its guest queries; stopping the workload ends an unshared pool", async () => {
    const second = unique('wasmhost_pg_test');
    await admin.query(`CREATE DATABASE ${second}`);
    try {
      const status = (await host.workloadStart({ workloadId: 'pg-2', workload: pgWorkload({ database: second }) })).workloadStatus;
      assert.equal(status.workloadState, 'WORKLOAD_STATE_RUNNING', status.message);
      const db = await withClient(host, 'pg-2', (call) => call('query', 'SELECT current_database()::text AS db', []));
      assert.deepEqual(db, [[{ columnName: 'db', value: text(second) }]]);
      assert.ok(plugin.pools().some((p) => p.database === second));
      await host.workloadStop({ workloadId: 'pg-2' });
      for (let i = 0; plugin.pools().some((p) => p.database === second); i++) {
        assert.ok(i < 200, 'the pool of the stopped workload ended');
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(plugin.pools().some((p) => p.database === 'test'), 'the other workload keeps its pool');
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${second} WITH (FORCE)`);
    }
  });

  test('a workload that names no database, on a plugin whose URL names none, fails to start saying so', async () => {
    const { host: bare } = await startedHost(postgresPlugin({ url: POSTGRES_URL.replace(/\/[^/?]*(\?|$)/, '/$1') }));
    try {
      const status = (await bare.workloadStart({ workloadId: 'no-db', workload: pgWorkload() })).workloadStatus;
      assert.equal(status.workloadState, 'WORKLOAD_STATE_ERROR');
      assert.match(status.message, /wasmcloud-postgres.*needs a "database" config key/);
    } finally {
      await bare.stop();
    }
  });
});
