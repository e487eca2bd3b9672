/**
 * What the PostgreSQL backends of the built-in plugins (key-value, blobstore) share: a schema of
 * their own created on first use, statements on the caller's `pg` pool that never wait longer
 * than a timeout, deadlocks retried, and a database that is down turned into one short reason
 * the backend puts into its own guest-visible error.
 *
 * Only `pg`'s types are imported: the caller brings the pool, so loading a plugin never loads a
 * PostgreSQL client.
 */
import type { Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';

export interface PostgresBackendOptions {
  /** Connections come from here; the caller keeps it (see `ownsPool`). */
  pool: Pool;
  /** The schema holding the tables, created when missing; default `wasmhost`. */
  schema?: string;
  /** The longest wait for a connection or for one statement's answer, in ms; default 10 s. */
  timeoutMs?: number;
  /** `close()` ends the pool too; default false (the pool is the caller's). */
  ownsPool?: boolean;
}

export const DEFAULT_POSTGRES_SCHEMA = 'wasmhost';
export const DEFAULT_POSTGRES_TIMEOUT_MS = 10_000;

/** Runs one statement; every value is a bound parameter. */
export interface Sql {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: readonly unknown[]): Promise<QueryResult<R>>;
}

export interface PostgresStoreSpec {
  /** Tables this store needs; when any is missing, `ddl` runs. */
  tables: readonly string[];
  /** Idempotent statements (`CREATE TABLE IF NOT EXISTS ...`) given the quoted schema name. */
  ddl(schema: string): readonly string[];
  /**
   * Older layouts brought forward once: while column `retires` (`table.column`) exists, the
   * setup runs again and, after `ddl`, these statements, which must drop that column.
   */
  migrations?: readonly PostgresMigration[];
  /** The guest-visible error for a database that cannot be used now; `reason` names the problem without addresses. */
  unavailable(reason: string, cause: unknown): Error;
}

export interface PostgresMigration {
  retires: string;
  statements(schema: string): readonly string[];
}

/** Deadlocks and serialization failures: the statement or transaction ran in vain and may simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 4;
/** The server's statement timeout inside our transactions is ours plus this (see `inTransaction`). */
const SERVER_TIMEOUT_MARGIN_MS = 1000;

/** Raised by our own timers; `unavailable` turns it into the backend's error. */
class Unavailable extends Error {}

/** A pool, a schema and the rules above; one per backend. */
export class PostgresStore implements Sql {
  /** The schema as a quoted identifier, ready to prefix table names in SQL text. */
  readonly schema: string;
  readonly schemaName: string;
  readonly timeoutMs: number;
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  readonly #spec: PostgresStoreSpec;
  #ready: Promise<void> | undefined;
  #closed = false;

  constructor(options: PostgresBackendOptions, spec: PostgresStoreSpec) {
    this.schemaName = options.schema ?? DEFAULT_POSTGRES_SCHEMA;
    const problem = schemaProblem(this.schemaName);
    if (problem) throw new RangeError(`invalid PostgreSQL schema name ${JSON.stringify(this.schemaName)}: ${problem}`);
    this.schema = quoteIdentifier(this.schemaName);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_POSTGRES_TIMEOUT_MS;
    if (!Number.isSafeInteger(this.timeoutMs) || this.timeoutMs < 1) throw new RangeError(`timeoutMs must be a positive integer, not ${options.timeoutMs}`);
    this.#pool = options.pool;
    this.#ownsPool = options.ownsPool ?? false;
    this.#spec = spec;
  }

  /** One statement on a pooled connection (atomic on its own). */
  query<R extends QueryResultRow = QueryResultRow>(text: string, values: readonly unknown[] = []): Promise<QueryResult<R>> {
    return this.#attempt((sql) => sql.query<R>(text, values));
  }

  /**
   * `body` inside one transaction, committed when it returns and rolled back when it throws;
   * run again from the start after a deadlock or serialization failure.
   */
  transaction<T>(body: (sql: Sql) => Promise<T>, isolation: 'READ COMMITTED' | 'REPEATABLE READ' = 'READ COMMITTED'): Promise<T> {
    return this.#attempt((sql, connection) => inTransaction(sql, connection, isolation, this.timeoutMs, body));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsPool) await this.#pool.end();
  }

  async #attempt<T>(body: (sql: Sql, connection: Connection) => Promise<T>): Promise<T> {
    try {
      await this.#ensureTables();
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#withConnection(body);
        } catch (err) {
          if (attempt >= ATTEMPTS || !RETRYABLE.has(sqlState(err) ?? '')) throw err;
        }
      }
    } catch (err) {
      const reason = unavailableReason(err, this.timeoutMs);
      throw reason === undefined ? err : this.#spec.unavailable(reason, err);
    }
  }

  /**
   * Creates the schema and tables, and migrates an older layout, once per backend (again after a
   * failure), under a lock so two hosts starting at once do not collide.
   */
  #ensureTables(): Promise<void> {
    this.#ready ??= this.#withConnection(async (sql, connection) => {
      const { tables, ddl, migrations = [] } = this.#spec;
      const found = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = ANY($2::text[])', [
        this.schemaName,
        tables,
      ]);
      if (found.rows[0].n === tables.length && (await this.#retiredColumns(sql)).length === 0) return;
      await inTransaction(sql, connection, 'READ COMMITTED', this.timeoutMs, async (tx) => {
        // CREATE ... IF NOT EXISTS is not safe against a concurrent CREATE of the same name.
        await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`wasmhost schema ${this.schemaName}`]);
        await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
        for (const statement of ddl(this.schema)) await tx.query(statement);
        // Asked again under the lock: another host may have migrated meanwhile.
        const retired = await this.#retiredColumns(tx);
        for (const migration of migrations.filter((m) => retired.includes(m.retires))) {
          for (const statement of migration.statements(this.schema)) await tx.query(statement);
        }
      });
    }).catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  /** The columns of the spec's migrations still in the schema (`table.column`). */
  async #retiredColumns(sql: Sql): Promise<string[]> {
    const columns = (this.#spec.migrations ?? []).map((m) => m.retires);
    if (columns.length === 0) return [];
    const { rows } = await sql.query<{ retired: string }>(
      `SELECT table_name || '.' || column_name AS retired FROM information_schema.columns
        WHERE table_schema = $1 AND table_name || '.' || column_name = ANY($2::text[])`,
      [this.schemaName, columns],
    );
    return rows.map((row) => row.retired);
  }

  async #withConnection<T>(body: (sql: Sql, connection: Connection) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Unavailable('the store is closed');
    const client = await this.#connect();
    const connection: Connection = { broken: undefined };
    // An idle checked-out client that loses its server emits `error`; unheard, it would end the process.
    const onError = (err: Error) => (connection.broken ??= err);
    client.on('error', onError);
    const sql: Sql = {
      query: async <R extends QueryResultRow>(text: string, values: readonly unknown[] = []) => {
        try {
          // pg supports a per-query `query_timeout`; its type declarations do not list it.
          const config: QueryConfig & { query_timeout: number } = { text, values: values as unknown[], query_timeout: this.timeoutMs };
          return await client.query<R>(config);
        } catch (err) {
          if (!isDatabaseError(err)) connection.broken ??= err as Error;
          throw err;
        }
      },
    };
    try {
      return await body(sql, connection);
    } finally {
      client.off('error', onError);
      // A client that timed out or lost its server is closed, not handed to the next caller.
      client.release(connection.broken ?? undefined);
    }
  }

  /** A pooled client, or a failure after `timeoutMs` even when the pool itself would wait forever. */
  async #connect(): Promise<PoolClient> {
    const pending = this.#pool.connect();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Unavailable(`no connection within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([pending, timeout]);
    } catch (err) {
      // Late arrivals go back to the pool.
      pending.then((client) => client.release(), () => {});
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

interface Connection {
  broken: Error | undefined;
}

/**
 * `body` between BEGIN and COMMIT. The server gets its own statement timeout, a little past ours:
 * when we give up on a statement and drop the connection, a server still waiting for a lock
 * would otherwise hold the transaction's locks until it got it.
 */
async function inTransaction<T>(sql: Sql, connection: Connection, isolation: string, timeoutMs: number, body: (sql: Sql) => Promise<T>): Promise<T> {
  await sql.query(`BEGIN ISOLATION LEVEL ${isolation}; SET LOCAL statement_timeout = ${timeoutMs + SERVER_TIMEOUT_MARGIN_MS}`);
  let result: T;
  try {
    result = await body(sql);
  } catch (err) {
    if (!connection.broken) await sql.query('ROLLBACK').catch((rollbackFailed: Error) => (connection.broken ??= rollbackFailed));
    throw err;
  }
  await sql.query('COMMIT');
  return result;
}

/** Errors the server answered with (they carry a SQLSTATE); anything else means the connection is in doubt. */
function isDatabaseError(err: unknown): boolean {
  const code = sqlState(err);
  return code !== undefined && !code.startsWith('08') && !code.startsWith('57P');
}

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Node's codes for a server that cannot be reached (an AggregateError carries one per address tried). */
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EPIPE: 'connection closed',
};

/** SQLSTATEs (or their classes) that mean "the database cannot serve us now". */
const SQL_STATES: Record<string, string> = {
  '08': 'connection failure',
  '28': 'login refused',
  '3D000': 'the database does not exist',
  '53300': 'too many connections',
  '57014': 'statement cancelled',
  '57P01': 'the server ended the connection',
  '57P02': 'the server crashed',
  '57P03': 'the server is not accepting connections yet',
};

/**
 * A server that cannot be reached, as `connection refused (ECONNREFUSED)`: no host names or
 * addresses, so a guest may read it. Undefined when `err` is not a network failure. Also used by
 * the wasmcloud:postgres plugin.
 */
export function networkFailure(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown } | null;
  const nested = Array.isArray(e?.errors) ? (e.errors as { code?: unknown }[]).map((x) => x?.code) : [];
  for (const code of [e?.code, ...nested]) {
    if (typeof code === 'string' && Object.hasOwn(NETWORK_CODES, code)) return `${NETWORK_CODES[code]} (${code})`;
  }
  return undefined;
}

/** Why the database is unusable, in words a guest may read (no host names or addresses); undefined for other errors. */
export function unavailableReason(err: unknown, timeoutMs: number): string | undefined {
  if (err instanceof Unavailable) return err.message;
  const network = networkFailure(err);
  if (network !== undefined) return network;
  const e = err as { message?: unknown } | null;
  const state = sqlState(err);
  if (state) {
    const reason = SQL_STATES[state] ?? SQL_STATES[state.slice(0, 2)];
    return reason === undefined ? undefined : `${reason} (SQLSTATE ${state})`;
  }
  const message = typeof e?.message === 'string' ? e.message : '';
  if (message === 'Query read timeout') return `no answer within ${timeoutMs} ms`;
  if (/timeout exceeded when trying to connect/i.test(message)) return 'no connection within the pool\'s connection timeout';
  if (/^Connection terminated/i.test(message)) return 'connection lost';
  if (/not queryable/i.test(message)) return 'connection lost';
  if (/after calling end on the pool/i.test(message)) return 'the connection pool is closed';
  return undefined;
}

/** PostgreSQL silently cuts identifiers past 63 bytes, so two long names could meet: refused instead. */
function schemaProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (Buffer.byteLength(name) > 63) return 'it is longer than 63 bytes';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it contains a control character';
  return undefined;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
