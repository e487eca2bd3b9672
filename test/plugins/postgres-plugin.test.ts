/**
 * The wasmcloud:postgres plugin against the real PostgreSQL server, driven the way the host
 * drives it: bind a workload and a component, then call the functions `onComponentBind` returned.
 * Every test makes its own tables (and one makes its own database) and drops them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import pg from 'pg';
import { pino } from 'pino';
import { UsageError } from '../../src/errors.ts';
import type { Logger, PluginComponent, PluginWorkload, WitInterface } from '../../src/plugin/plugin.ts';
import { encodeF64, postgresPlugin, type PgValue, type PostgresPlugin, type PostgresPluginOptions, type ResultRow } from '../../src/plugins/postgres/index.ts';
import { POSTGRES_URL, service } from '../services.ts';
import { bytes, selectAs, valueCases } from './postgres-values.ts';
import { hosted, type HostedPlugin } from './plugin-harness.ts';

const skip = await service('PostgreSQL', POSTGRES_URL);
const silent = pino({ level: 'silent' });
const VERSION = '0.1.1-draft';

/** A pino logger whose entries land in `lines`. */
function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { logger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) }), lines };
}

function postgresInterface(config: Record<string, string> = {}): WitInterface {
  return { namespace: 'wasmcloud', package: 'postgres', interfaces: ['types', 'query', 'prepared'], version: VERSION, config };
}

/** The plugin's functions as a guest calls them. */
interface Calls {
  query(sql: string, params: PgValue[]): Promise<ResultRow[]>;
  queryBatch(sql: string): Promise<void>;
  prepare(sql: string): Promise<string>;
  exec(token: string, params: PgValue[]): Promise<bigint>;
}

/** Binds `plugin` to one component of workload `workloadId` the way the host does. */
async function bind(plugin: HostedPlugin<PostgresPlugin>, workloadId: string, config: Record<string, string> = {}, component = 'component', logger = silent): Promise<Calls> {
  const interfaces = [postgresInterface(config)];
  const workload: PluginWorkload = { id: workloadId, namespace: 'default', name: workloadId, annotations: {}, interfaces, logger };
  await plugin.onWorkloadBind!(workload);
  const info: PluginComponent = { workload, name: component, config: {}, environment: {}, allowedHosts: [], interfaces, imports: [], exports: [], logger };
  const impl = (await plugin.onComponentBind!(info)) as Record<string, Record<string, unknown>>;
  return { ...impl[`wasmcloud:postgres/query@${VERSION}`], ...impl[`wasmcloud:postgres/prepared@${VERSION}`] } as unknown as Calls;
}

/** A started plugin on the test server; stopped by the caller. */
async function startedPlugin(options: Partial<PostgresPluginOptions> = {}, logger: Logger = silent): Promise<HostedPlugin<PostgresPlugin>> {
  const plugin = hosted(postgresPlugin({ url: POSTGRES_URL, ...options }));
  await plugin.start!({ hostId: 'test-host', logger });
  return plugin;
}

/** Asserts that `promise` fails with the WIT error `tag` (a plain value: the guest gets `err`, not a trap) whose message matches. */
async function rejectsWith(promise: Promise<unknown>, tag: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(!(err instanceof Error), `a WIT error value, not an Error: ${String(err)}`);
    const e = err as { tag: string; val?: unknown };
    assert.equal(e.tag, tag, `error ${JSON.stringify(e)}`);
    if (message) assert.match(String(e.val), message);
    return true;
  });
}

/** The single value of a one-row, one-column result. */
function single(rows: ResultRow[]): PgValue {
  assert.equal(rows.length, 1);
  assert.equal(rows[0].length, 1);
  return rows[0][0].value;
}

/** `[{column: value}]` for rows of simple values (int4, text, null), for readable assertions. */
function plain(rows: ResultRow[]): Record<string, unknown>[] {
  return rows.map((row) => Object.fromEntries(row.map((e) => [e.columnName, e.value.tag === 'null' ? null : e.value.val])));
}

const unique = (prefix: string) => `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
const int4 = (val: number): PgValue => ({ tag: 'int4', val });
const text = (val: string): PgValue => ({ tag: 'text', val });

describe('wasmcloud:postgres plugin', { skip }, () => {
  let admin: pg.Pool;
  let plugin: HostedPlugin<PostgresPlugin>;
  let calls: Calls;
  const table = unique('wasmhost_pg_t');

  before(async () => {
    admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    admin.on('error', () => {});
    plugin = await startedPlugin();
    calls = await bind(plugin, 'w-main');
    await admin.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, name text NOT NULL UNIQUE, n int4)`);
  });

  after(async () => {
    await plugin.stop!();
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });

  test('serves wasmcloud:postgres/types,query,prepared@0.1.1-draft under the id wasmcloud-postgres', async () => {
    assert.equal(plugin.id, 'wasmcloud-postgres');
    assert.deepEqual(plugin.imports, [{ namespace: 'wasmcloud', package: 'postgres', interfaces: ['types', 'query', 'prepared'], version: VERSION }]);
    assert.equal(hosted(postgresPlugin({ url: POSTGRES_URL, id: 'pg-2' })).id, 'pg-2');
    const workload: PluginWorkload = { id: 'w-shape', namespace: 'd', name: 'w', annotations: {}, interfaces: [postgresInterface()], logger: silent };
    const impl = (await plugin.onComponentBind!({ workload, name: 'c', config: {}, environment: {}, allowedHosts: [], interfaces: workload.interfaces, imports: [], exports: [], logger: silent }))!;
    assert.deepEqual(Object.keys(impl).sort(), [`wasmcloud:postgres/prepared@${VERSION}`, `wasmcloud:postgres/query@${VERSION}`, `wasmcloud:postgres/types@${VERSION}`]);
    assert.deepEqual(Object.keys(impl[`wasmcloud:postgres/query@${VERSION}`]).sort(), ['query', 'queryBatch']);
    assert.deepEqual(Object.keys(impl[`wasmcloud:postgres/prepared@${VERSION}`]).sort(), ['exec', 'prepare']);
    await plugin.onWorkloadUnbind!('w-shape');
  });

  describe('every value type round-trips as a bound parameter and as a result', () => {
    for (const c of valueCases) {
      test(c.name, async () => {
        assert.deepEqual(single(await calls.query(selectAs(c.type), [c.param])), c.expected ?? c.param);
      });
    }
  });

  test('values come back by column, in order, names repeated as the server gives them', async () => {
    const rows = await calls.query("SELECT 1 AS a, 'x'::text AS a, NULL::int8 AS \"Mixed Case\", $1::int4 + 1 AS next", [int4(41)]);
    assert.deepEqual(rows, [
      [
        { columnName: 'a', value: int4(1) },
        { columnName: 'a', value: text('x') },
        { columnName: 'Mixed Case', value: { tag: 'null' } },
        { columnName: 'next', value: int4(42) },
      ],
    ]);
    assert.deepEqual(await calls.query(`SELECT * FROM ${table} WHERE false`, []), []);
  });

  test('timestamptz results are the same instant whatever the session time zone, offsets with seconds included', async () => {
    // Amsterdam's 1850 local mean time is UTC+00:19:32: printed by the server with seconds.
    const zoned = await startedPlugin({ url: `${POSTGRES_URL}?options=${encodeURIComponent('-c TimeZone=Europe/Amsterdam')}` });
    try {
      const amsterdam = await bind(zoned, 'w-zone');
      const rows = await amsterdam.query(
        "SELECT current_setting('TimeZone') AS tz, '1850-01-01 00:00:00+00'::timestamptz AS lmt, '2024-07-01 12:00:00.25+00'::timestamptz AS summer, '1850-01-01 00:19:32'::timestamptz::text AS local",
        [],
      );
      const utc = { tag: 'western-hemisphere-secs', val: 0 };
      assert.deepEqual(rows[0].map((e) => e.value), [
        text('Europe/Amsterdam'),
        { tag: 'timestamp-tz', val: { timestamp: { date: { tag: 'ymd', val: [1850, 1, 1] }, time: { hour: 0, min: 0, sec: 0, micro: 0 } }, offset: utc } },
        { tag: 'timestamp-tz', val: { timestamp: { date: { tag: 'ymd', val: [2024, 7, 1] }, time: { hour: 12, min: 0, sec: 0, micro: 250000 } }, offset: utc } },
        text('1850-01-01 00:19:32+00:19:32'),
      ]);
    } finally {
      await zoned.stop!();
    }
  });

  test("parameters are data: SQL in a parameter is stored and compared as text, never run", async () => {
    const evil = `x'); DROP TABLE ${table}; --`;
    await calls.query(`INSERT INTO ${table} (name, n) VALUES ($1, $2)`, [text(evil), int4(1)]);
    await calls.query(`INSERT INTO ${table} (name, n) VALUES ($1, $2)`, [text("' OR '1'='1"), int4(2)]);
    // The table survived, holding exactly what was sent.
    const { rows } = await admin.query(`SELECT name FROM ${table} ORDER BY n`);
    assert.deepEqual(rows.map((r) => r.name), [evil, "' OR '1'='1"]);
    // A tautology in a parameter matches nothing.
    assert.deepEqual(await calls.query(`SELECT name FROM ${table} WHERE name = $1`, [text("nobody' OR '1'='1")]), []);
    assert.deepEqual(plain(await calls.query(`SELECT n FROM ${table} WHERE name = $1`, [text(evil)])), [{ n: 1 }]);
    // A number that carries SQL is refused before it is sent; as text for an int column, the server refuses it.
    await rejectsWith(calls.query(`SELECT n FROM ${table} WHERE n = $1`, [{ tag: 'numeric', val: `1; DROP TABLE ${table}` }]), 'invalid-params', /\$1 \(numeric\): .* is not a decimal number/);
    await rejectsWith(calls.query(`SELECT n FROM ${table} WHERE n = $1::int4`, [text('1 OR 1=1')]), 'invalid-query', /invalid input syntax for type integer.*22P02/);
    // A query is one statement: a second one is refused, not run.
    await rejectsWith(calls.query(`SELECT 1; DROP TABLE ${table}`, []), 'invalid-query', /cannot insert multiple commands into a prepared statement \(SQLSTATE 42601\)/);
    assert.equal((await admin.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, 2);
    await admin.query(`DELETE FROM ${table}`);
  });

  test('a NUL in the statement or in a text parameter is refused (the protocol would cut the text there)', async () => {
    await rejectsWith(calls.query(`SELECT 1\0; DROP TABLE ${table}`, []), 'invalid-query', /NUL/);
    await rejectsWith(calls.queryBatch(`SELECT 1\0`), 'invalid-query', /NUL/);
    await rejectsWith(calls.query('SELECT $1::text', [text('a\0b')]), 'invalid-params', /\$1 \(text\): text cannot contain NUL/);
  });

  test('bad parameters are invalid-params naming the parameter', async () => {
    const cases: [PgValue[], RegExp][] = [
      [[int4(1.5)], /\$1 \(int4\): 1\.5 does not fit s32/],
      [[int4(1), { tag: 'int2', val: 40000 }], /\$2 \(int2\): 40000 does not fit s16/],
      [[{ tag: 'int8', val: 5 as unknown as bigint }], /\$1 \(int8\): 5 does not fit s64/],
      [[{ tag: 'point', val: [encodeF64(1), encodeF64(2)] }], /\$1 \(point\): pg-value point is not supported as a parameter/],
      [[{ tag: 'date', val: { tag: 'ymd', val: [2023, 2, 29] } }], /\$1 \(date\): day must be an integer from 1 to 28/],
      [[{ tag: 'time', val: { hour: 24, min: 0, sec: 1, micro: 0 } }], /hour 24 is allowed only as 24:00:00/],
      [[{ tag: 'float8', val: [1n << 60n, 0, 1] }], /\$1 \(float8\): float mantissa .* is out of range/],
      [[{ tag: 'float8', val: [1n, 0, 0] }], /float sign must be 1 or -1/],
      [[{ tag: 'char', val: [2, bytes('abc')] }], /length 2 does not match the 3 bytes given/],
      [[{ tag: 'varchar', val: [2, bytes('abc')] }], /3 bytes exceed the limit of 2/],
      [[{ tag: 'varchar', val: [undefined, Uint8Array.of(0xff, 0xfe)] }], /the bytes are not UTF-8 text/],
      [[{ tag: 'timestamp-tz', val: { timestamp: { date: { tag: 'ymd', val: [2024, 1, 1] }, time: { hour: 0, min: 0, sec: 0, micro: 0 } }, offset: { tag: 'eastern-hemisphere-secs', val: 16 * 3600 } } }], /offset seconds must be an integer/],
      [[{ tag: 'macaddr', val: { bytes: [1, 2, 3, 4, 5, 256] as never } }], /256 is not a u8/],
      [[{ tag: 'no-such-case', val: 1 } as unknown as PgValue], /\$1 \(no-such-case\): pg-value no-such-case is not supported/],
      [[null as unknown as PgValue], /\$1: not a pg-value/],
    ];
    for (const [params, message] of cases) await rejectsWith(calls.query('SELECT 1', params), 'invalid-params', message);
    // The count is checked by the server.
    await rejectsWith(calls.query('SELECT $1::int4', [int4(1), int4(2)]), 'invalid-params', /bind message supplies 2 parameters, but prepared statement "" requires 1 \(SQLSTATE 08P01\)/);
    await rejectsWith(calls.query('SELECT $1::int4 + $2::int4', [int4(1)]), 'invalid-params', /08P01/);
  });

  test('a statement the server refuses is invalid-query with its message and SQLSTATE', async () => {
    await rejectsWith(calls.query('SELEC 1', []), 'invalid-query', /^syntax error at or near "SELEC" \(SQLSTATE 42601, at character 1\)$/);
    await rejectsWith(calls.query('SELECT * FROM wasmhost_no_such_table', []), 'invalid-query', /relation "wasmhost_no_such_table" does not exist \(SQLSTATE 42P01/);
    await calls.query(`INSERT INTO ${table} (name) VALUES ($1)`, [text('dup')]);
    await rejectsWith(calls.query(`INSERT INTO ${table} (name) VALUES ($1)`, [text('dup')]), 'invalid-query', /duplicate key value violates unique constraint .*\(SQLSTATE 23505\): Key \(name\)=\(dup\) already exists\./);
    await admin.query(`DELETE FROM ${table}`);
    // Still usable afterwards.
    assert.deepEqual(single(await calls.query('SELECT 2::int4', [])), int4(2));
  });

  test('a column type without a pg-value case is refused up front with the cast to use; the cast works', async () => {
    await rejectsWith(calls.query('SELECT 1::oid AS o', []), 'invalid-query', /column "o": its type \(oid 26\) has no pg-value case on this host: cast it in SQL, e.g. ::text/);
    await rejectsWith(calls.query("SELECT '1.5'::money AS m WHERE false", []), 'invalid-query', /column "m": .*::numeric/);
    await rejectsWith(calls.query("SELECT '1 day'::interval AS i", []), 'invalid-query', /column "i"/);
    assert.deepEqual(single(await calls.query("SELECT '1 day'::interval::text AS i", [])), text('1 day'));
    assert.deepEqual(single(await calls.query("SELECT '1.5'::money::numeric AS m", [])), { tag: 'numeric', val: '1.50' });
    // A NULL element has no place in a WIT list.
    await rejectsWith(calls.query('SELECT ARRAY[1, NULL]::int4[] AS a', []), 'unexpected', /column "a": the array has NULL elements/);
    await rejectsWith(calls.query("SELECT '{{1,2},{3,4}}'::int4[] AS a", []), 'unexpected', /more than one dimension/);
    // An array with bounds other than 1 is read by its elements.
    assert.deepEqual(single(await calls.query("SELECT '[3:4]={7,8}'::int4[] AS a", [])), { tag: 'int4-array', val: Int32Array.of(7, 8) });
  });

  test('query-batch runs several statements; a failing one undoes the batch', async () => {
    const t = unique('wasmhost_pg_batch');
    try {
      await calls.queryBatch(`CREATE TABLE ${t} (v int4); INSERT INTO ${t} VALUES (1); INSERT INTO ${t} VALUES (2);`);
      assert.deepEqual(plain(await calls.query(`SELECT v FROM ${t} ORDER BY v`, [])), [{ v: 1 }, { v: 2 }]);
      await rejectsWith(calls.queryBatch(`INSERT INTO ${t} VALUES (3); SELEC 4;`), 'invalid-query', /syntax error at or near "SELEC"/);
      await rejectsWith(calls.queryBatch(`INSERT INTO ${t} VALUES (3); INSERT INTO ${t} VALUES ('x');`), 'invalid-query', /22P02/);
      assert.deepEqual(plain(await calls.query(`SELECT v FROM ${t} ORDER BY v`, [])), [{ v: 1 }, { v: 2 }]);
      // An explicit transaction inside one batch is fine.
      await calls.queryBatch(`BEGIN; INSERT INTO ${t} VALUES (5); COMMIT;`);
      assert.deepEqual(plain(await calls.query(`SELECT max(v) AS m FROM ${t}`, [])), [{ m: 5 }]);
      await calls.queryBatch('');
    } finally {
      await admin.query(`DROP TABLE IF EXISTS ${t}`);
    }
  });

  test('a transaction left open is rolled back and reported; the connection goes back clean', async () => {
    const { logger, lines } = capturingLogger();
    const app = unique('wasmhost_app');
    const one = await startedPlugin({ poolSize: 1, applicationName: app }, logger);
    const t = unique('wasmhost_pg_tx');
    try {
      const c = await bind(one, 'w-tx', {}, 'component', logger);
      await c.queryBatch(`CREATE TABLE ${t} (v int4)`);
      await rejectsWith(c.queryBatch(`BEGIN; INSERT INTO ${t} VALUES (1)`), 'invalid-query', /left a transaction open, so it was rolled back/);
      await rejectsWith(c.query('BEGIN', []), 'invalid-query', /left a transaction open/);
      // Same (only) connection: idle, not in a transaction (VACUUM cannot run in one), and the insert is gone.
      const states = await admin.query('SELECT state FROM pg_stat_activity WHERE application_name = $1', [app]);
      assert.deepEqual(states.rows, [{ state: 'idle' }]);
      await c.queryBatch(`VACUUM ${t}`);
      assert.deepEqual(plain(await c.query(`SELECT count(*)::int4 AS n FROM ${t}`, [])), [{ n: 0 }]);
      // A failed statement inside an open transaction ('E') is rolled back too.
      await rejectsWith(c.queryBatch(`BEGIN; INSERT INTO ${t} VALUES (1); COMMIT; BEGIN; INSERT INTO ${t} VALUES (2)`), 'invalid-query', /rolled back/);
      assert.deepEqual(plain(await c.query(`SELECT v FROM ${t}`, [])), [{ v: 1 }]);
      assert.ok(lines.some((l) => l.msg === 'a guest statement left a transaction open; rolled back' && l.database === 'test'));
    } finally {
      await one.stop!();
      await admin.query(`DROP TABLE IF EXISTS ${t}`);
    }
  });

  test("a session setting a guest changed is read through (bytea_output) or refused and its connection replaced (DateStyle)", async () => {
    const one = await startedPlugin({ poolSize: 1 });
    try {
      const c = await bind(one, 'w-session');
      const every = Uint8Array.from({ length: 256 }, (_, i) => i);
      await c.queryBatch("SET bytea_output = 'escape'");
      assert.deepEqual(single(await c.query("SELECT current_setting('bytea_output') AS s", [])), text('escape'));
      assert.deepEqual(single(await c.query('SELECT $1::bytea AS b', [{ tag: 'bytea', val: every }])), { tag: 'bytea', val: every });
      await c.queryBatch("SET datestyle = 'SQL, DMY'");
      await rejectsWith(c.query("SELECT '2024-02-29'::date AS d", []), 'unexpected', /^column "d": cannot read date "29\/02\/2024": the connection's DateStyle is not ISO$/);
      // That connection was closed: the next one starts as the plugin sets it up.
      assert.deepEqual(single(await c.query("SELECT '2024-02-29'::date AS d", [])), { tag: 'date', val: { tag: 'ymd', val: [2024, 2, 29] } });
      assert.deepEqual(single(await c.query("SELECT current_setting('bytea_output') AS s", [])), text('hex'));
    } finally {
      await one.stop!();
    }
  });

  describe('prepared statements', () => {
    const t = unique('wasmhost_pg_prep');
    before(() => admin.query(`CREATE TABLE ${t} (id int4 PRIMARY KEY, label text)`));
    after(() => admin.query(`DROP TABLE IF EXISTS ${t}`));

    test('prepare does not run the statement; exec binds parameters and answers the rows affected', async () => {
      const insert = await calls.prepare(`INSERT INTO ${t} (id, label) VALUES ($1, $2)`);
      assert.match(insert, /^[0-9a-f-]{36}$/);
      assert.equal((await admin.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n, 0);
      for (let id = 1; id <= 3; id++) assert.equal(await calls.exec(insert, [int4(id), text(`'); DROP TABLE ${t}; --`)]), 1n);
      const update = await calls.prepare(`UPDATE ${t} SET label = $1 WHERE id >= $2`);
      assert.equal(await calls.exec(update, [text('two+'), int4(2)]), 2n);
      assert.equal(await calls.exec(await calls.prepare(`SELECT * FROM ${t}`), []), 3n);
      assert.equal(await calls.exec(await calls.prepare(`CREATE TEMP TABLE IF NOT EXISTS ${t}_tmp (x int)`), []), 0n);
      const { rows } = await admin.query(`SELECT id, label FROM ${t} ORDER BY id`);
      assert.deepEqual(rows, [
        { id: 1, label: `'); DROP TABLE ${t}; --` },
        { id: 2, label: 'two+' },
        { id: 3, label: 'two+' },
      ]);
    });

    test('the same statement gets the same token; another component knows neither', async () => {
      const sql = `SELECT count(*) FROM ${t} WHERE id = $1`;
      const token = await calls.prepare(sql);
      assert.equal(await calls.prepare(sql), token);
      const other = await bind(plugin, 'w-main', {}, 'other-component');
      await rejectsWith(other.exec(token, [int4(1)]), 'unknown-prepared-query');
      const otherToken = await other.prepare(sql);
      assert.notEqual(otherToken, token);
      assert.equal(await other.exec(otherToken, [int4(1)]), 1n);
      await rejectsWith(calls.exec('no-such-token', []), 'unknown-prepared-query');
      await rejectsWith(calls.exec('', []), 'unknown-prepared-query');
    });

    test('errors: prepare fails on what the server refuses; exec reports parameters and statement failures as query-error', async () => {
      await rejectsWith(calls.prepare('SELEC 1'), 'unexpected', /syntax error at or near "SELEC" \(SQLSTATE 42601/);
      await rejectsWith(calls.prepare('SELECT * FROM wasmhost_no_such_table'), 'unexpected', /42P01/);
      await rejectsWith(calls.prepare('SELECT 1; SELECT 2'), 'unexpected', /cannot insert multiple commands/);
      await rejectsWith(calls.prepare('SELECT \0'), 'unexpected', /NUL/);
      const insert = await calls.prepare(`INSERT INTO ${t} (id, label) VALUES ($1, $2)`);
      const execError = async (params: PgValue[], tag: string, message: RegExp) =>
        assert.rejects(calls.exec(insert, params), (err: { tag: string; val: { tag: string; val: string } }) => {
          assert.equal(err.tag, 'query-error');
          assert.equal(err.val.tag, tag);
          assert.match(err.val.val, message);
          return true;
        });
      await execError([int4(1.5), text('x')], 'invalid-params', /\$1 \(int4\)/);
      await execError([int4(10)], 'invalid-params', /08P01/);
      await execError([int4(1), text('again')], 'invalid-query', /duplicate key value .*23505/);
      await execError([text('ten'), text('x')], 'invalid-query', /22P02/);
    });

    test('a statement the connection lost (DEALLOCATE ALL) is parsed again on a fresh connection', async () => {
      const one = await startedPlugin({ poolSize: 1 });
      try {
        const c = await bind(one, 'w-dealloc');
        const token = await c.prepare(`SELECT * FROM ${t} WHERE id = $1`);
        assert.equal(await c.exec(token, [int4(1)]), 1n);
        await c.queryBatch('DEALLOCATE ALL');
        assert.equal(await c.exec(token, [int4(2)]), 1n);
        assert.equal(await c.exec(token, [int4(99)]), 0n);
      } finally {
        await one.stop!();
      }
    });

    test('distinct statements per component are capped; preparing a known one still works', async () => {
      const capped = await startedPlugin({ maxPreparedStatements: 2 });
      try {
        const c = await bind(capped, 'w-cap');
        const a = await c.prepare('SELECT 1');
        await c.prepare('SELECT 2');
        await rejectsWith(c.prepare('SELECT 3'), 'unexpected', /already has 2 prepared statements/);
        assert.equal(await c.prepare('SELECT 1'), a);
        assert.equal(await c.exec(a, []), 1n);
      } finally {
        await capped.stop!();
      }
    });
  });

  describe('the database config key', () => {
    const second = unique('wasmhost_pg_test');
    before(() => admin.query(`CREATE DATABASE ${second}`));
    after(() => admin.query(`DROP DATABASE IF EXISTS ${second} WITH (FORCE)`));

    test("picks the workload's database; the URL's database is the default; each database has one pool, shared", async () => {
      const p = await startedPlugin({ applicationName: unique('wasmhost_app') });
      try {
        const inDefault = await bind(p, 'w-default');
        const inSecond = await bind(p, 'w-second', { database: second });
        const alsoSecond = await bind(p, 'w-second-too', { database: second });
        assert.deepEqual(plain(await inDefault.query('SELECT current_database()::text AS db', [])), [{ db: 'test' }]);
        assert.deepEqual(plain(await inSecond.query('SELECT current_database()::text AS db', [])), [{ db: second }]);
        // Same table name, different databases.
        await inSecond.queryBatch('CREATE TABLE only_here (v text); INSERT INTO only_here VALUES (\'second\')');
        assert.deepEqual(plain(await alsoSecond.query('SELECT v FROM only_here', [])), [{ v: 'second' }]);
        await rejectsWith(inDefault.query('SELECT v FROM only_here', []), 'invalid-query', /relation "only_here" does not exist/);
        assert.deepEqual(p.pools().map((i) => i.database).sort(), [second, 'test'].sort());
      } finally {
        await p.stop!();
      }
      assert.deepEqual(p.pools(), [], 'stop ends every pool');
    });

    test('the pool of a database holds at most poolSize connections, reused by all its workloads, and ends after its last workload', async () => {
      const app = unique('wasmhost_app');
      const p = await startedPlugin({ applicationName: app, poolSize: 2, poolGraceMs: 0 });
      const connections = async () =>
        (await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = $2', [app, second])).rows[0].n as number;
      try {
        const a = await bind(p, 'w-a', { database: second });
        const b = await bind(p, 'w-b', { database: second });
        assert.deepEqual(p.pools(), [], 'no pool before the first call');
        const pids = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).query('SELECT pg_backend_pid() AS pid, pg_sleep(0.05)::text AS s', [])));
        assert.equal(new Set(pids.map((rows) => plain(rows)[0].pid)).size, 2, 'eight calls of two workloads shared two connections');
        assert.equal(await connections(), 2);
        assert.equal(p.pools().length, 1);
        await p.onWorkloadUnbind!('w-a');
        assert.equal(p.pools().length, 1, 'w-b still uses it');
        await rejectsWith(a.query('SELECT 1', []), 'unexpected', /the workload is no longer running/);
        await p.onWorkloadUnbind!('w-b');
        for (let i = 0; p.pools().length > 0 || (await connections()) > 0; i++) {
          assert.ok(i < 200, 'the pool ended and closed its connections');
          await new Promise((r) => setTimeout(r, 25));
        }
        // A workload binding later gets a new pool.
        const c = await bind(p, 'w-c', { database: second });
        assert.deepEqual(plain(await c.query('SELECT 1 AS one', [])), [{ one: 1 }]);
        assert.equal(p.pools().length, 1);
      } finally {
        await p.stop!();
      }
    });

    test('a bad config fails the bind; a database that does not exist fails the call', async () => {
      const noDefault = hosted(postgresPlugin({ url: POSTGRES_URL.replace(/\/[^/?]*(\?|$)/, '/$1') }));
      await assert.rejects(bind(noDefault, 'w-none'), (err: UsageError) => err instanceof UsageError && /needs a "database" config key/.test(err.message));
      await assert.rejects(bind(plugin, 'w-typo', { databse: 'x' }), (err: UsageError) => err instanceof UsageError && /unknown config key "databse"/.test(err.message));
      for (const name of ['', 'a?b', 'x#y', 'x'.repeat(64)]) {
        await assert.rejects(bind(plugin, 'w-badname', { database: name }), UsageError, `database ${JSON.stringify(name)}`);
      }
      const missing = await bind(plugin, 'w-missing', { database: 'wasmhost_no_such_db' });
      await rejectsWith(missing.query('SELECT 1', []), 'unexpected', /^cannot connect to database "wasmhost_no_such_db": database "wasmhost_no_such_db" does not exist$/);
      await rejectsWith(missing.prepare('SELECT 1'), 'unexpected', /does not exist/);
      await plugin.onWorkloadUnbind!('w-missing');
    });
  });

  test('connection failures name no host, port, user or password; the host log has the details', async () => {
    const { logger, lines } = capturingLogger();
    // A loopback port nothing listens on.
    const closed = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const secret = `s3cret-${randomBytes(4).toString('hex')}`;
    const p = await startedPlugin({ url: `postgres://wasmhost_user:${secret}@127.0.0.1:${closed}/test`, connectTimeoutMs: 2000 }, logger);
    try {
      const c = await bind(p, 'w-down', {}, 'component', logger);
      for (const call of [c.query('SELECT 1', []), c.queryBatch('SELECT 1'), c.prepare('SELECT 1')]) {
        await assert.rejects(call, (err: { tag: string; val: string }) => {
          assert.equal(err.tag, 'unexpected');
          assert.equal(err.val, 'cannot connect to database "test": connection refused (ECONNREFUSED)');
          return true;
        });
      }
      assert.ok(lines.some((l) => l.msg === 'cannot connect to PostgreSQL' && String(l.err).includes(String(closed))));
      assert.ok(!JSON.stringify(lines).includes(secret), 'the password is not logged either');
      // A bad password: the server's message names the user; the guest sees only that login was refused.
      const wrong = await startedPlugin({ url: POSTGRES_URL.replace('postgres://postgres@', `postgres://wasmhost_no_such_user:${secret}@`) });
      try {
        const w = await bind(wrong, 'w-login');
        await rejectsWith(w.query('SELECT 1', []), 'unexpected', /^cannot connect to database "test": login refused \(SQLSTATE 28\w{3}\)$/);
      } finally {
        await wrong.stop!();
      }
    } finally {
      await p.stop!();
    }
    assert.throws(() => hosted(postgresPlugin({ url: `mysql://root:${secret}@db/x` })), (err: Error) => err instanceof UsageError && !err.message.includes(secret));
    assert.throws(() => hosted(postgresPlugin({ url: `postgres://root:${secret}@[bad` })), (err: Error) => err instanceof UsageError && !err.message.includes(secret));
    assert.throws(() => hosted(postgresPlugin({ url: POSTGRES_URL, poolSize: 0 })), RangeError);
    assert.throws(() => hosted(postgresPlugin({ url: `${POSTGRES_URL}?pool_size=zero` })), UsageError);
  });

  test('a statement past statementTimeoutMs is cancelled by the server', async () => {
    const p = await startedPlugin({ statementTimeoutMs: 100 });
    try {
      const c = await bind(p, 'w-timeout');
      await rejectsWith(c.query('SELECT pg_sleep(5)', []), 'invalid-query', /canceling statement due to statement timeout \(SQLSTATE 57014\)/);
      assert.deepEqual(plain(await c.query('SELECT 1 AS one', [])), [{ one: 1 }]);
    } finally {
      await p.stop!();
    }
  });

  test('after unbind and after stop, calls fail with a WIT error and bring no pool back', async () => {
    const p = await startedPlugin();
    const c = await bind(p, 'w-gone');
    const token = await c.prepare('SELECT 1');
    await p.onWorkloadUnbind!('w-gone');
    await p.onWorkloadUnbind!('w-gone'); // idempotent
    await rejectsWith(c.query('SELECT 1', []), 'unexpected', /no longer running/);
    await rejectsWith(c.exec(token, []), 'unknown-prepared-query');
    const d = await bind(p, 'w-stopped');
    await p.stop!();
    await rejectsWith(d.queryBatch('SELECT 1'), 'unexpected', /no longer running/);
    assert.deepEqual(p.pools(), []);
  });
});
