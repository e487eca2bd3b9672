/**
 * The plugin's one connection string and what each database's pool is made from. The URL holds
 * the server, credentials and TLS settings; the database comes from the workload (config
 * `database`), the URL's own database being the default. Nothing here ever puts the URL, which
 * may hold a password, into a message.
 */
import type { PoolConfig } from 'pg';
import { UsageError } from '../../errors.ts';

export interface ConnectionSettings {
  /** The URL without database and without `pool_size`. */
  base: URL;
  /** The URL's database, if it names one: used when a workload does not say. */
  defaultDatabase?: string;
  /** `pool_size` from the URL (the reference reads it there). */
  poolSize?: number;
}

/**
 * Session settings sent at connection start: the value readers rely on the first two (dates in
 * ISO form, floats printed exactly); the statement timeout bounds what one guest call can hold.
 */
function sessionOptions(statementTimeoutMs: number): string {
  return `-c datestyle=ISO -c extra_float_digits=3 -c statement_timeout=${statementTimeoutMs}`;
}

export function parseConnectionUrl(pluginId: string, url: string): ConnectionSettings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${pluginId}: the connection URL is not a valid URL`, { hint: 'postgres://user:password@host:5432/database' });
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new UsageError(`${pluginId}: the connection URL must start with postgres:// or postgresql://, not ${parsed.protocol}//`);
  }
  const base = new URL(parsed.href);
  let database: string;
  try {
    database = decodeURI(base.pathname.slice(1));
  } catch {
    throw new UsageError(`${pluginId}: the database in the connection URL is not validly percent-encoded`);
  }
  base.pathname = '/';
  let poolSize: number | undefined;
  const size = base.searchParams.get('pool_size');
  if (size !== null) {
    poolSize = Number(size);
    if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw new UsageError(`${pluginId}: pool_size in the connection URL must be a positive integer`);
    base.searchParams.delete('pool_size');
  }
  return { base, defaultDatabase: database === '' ? undefined : database, poolSize };
}

/** Checks a database name from a workload; the message names the workload's value, never the URL. */
export function checkDatabaseName(pluginId: string, database: string): string {
  if (database === '' || Buffer.byteLength(database) > 63 || !survivesUrl(database)) {
    throw new UsageError(`${pluginId}: ${JSON.stringify(database)} is not a database name this plugin can connect to`, {
      hint: 'a name of 1 to 63 bytes without NUL, ? or #',
    });
  }
  return database;
}

/** Whether a name comes back unchanged from the URL path it is sent in (pg reads it with decodeURI). */
function survivesUrl(database: string): boolean {
  if (/[\0?#]/.test(database)) return false;
  try {
    return decodeURI(new URL(`postgres://host/${encodeURI(database)}`).pathname.slice(1)) === database;
  } catch {
    return false;
  }
}

export interface PoolOptions {
  max: number;
  /** 0 = none. */
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  applicationName: string;
}

/** Every value arrives as the text PostgreSQL wrote: `values/results.ts` reads it by type OID. */
const rawText = { getTypeParser: () => (text: string) => text } as unknown as PoolConfig['types'];

export function poolConfig(settings: ConnectionSettings, database: string, options: PoolOptions): PoolConfig {
  const url = new URL(settings.base.href);
  url.pathname = `/${encodeURI(database)}`;
  // pg-connection-string reads the path back with decodeURI (`survivesUrl` checked the name at bind).
  const urlOptions = url.searchParams.get('options');
  const session = sessionOptions(options.statementTimeoutMs);
  url.searchParams.set('options', urlOptions ? `${urlOptions} ${session}` : session);
  return {
    connectionString: url.href,
    max: options.max,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs,
    application_name: options.applicationName,
    types: rawText,
    // Idle connections do not keep the Node process alive.
    allowExitOnIdle: true,
  };
}
