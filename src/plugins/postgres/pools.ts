/**
 * One node-postgres pool per database, shared by every workload bound to that database, made at
 * the first call that needs it. When the last workload using a database unbinds, its pool is
 * ended after a grace period (a workload restarting at once keeps its warm connections, as in the
 * reference); `close` ends them all.
 */
import pg from 'pg';
import type { Logger } from '../../plugin/plugin.ts';
import { poolConfig, type ConnectionSettings, type PoolOptions } from './connection.ts';

export interface PoolInfo {
  database: string;
  /** Connections open (idle or in use). */
  total: number;
  idle: number;
  /** Calls waiting for a connection. */
  waiting: number;
}

export class DatabasePools {
  readonly #settings: ConnectionSettings;
  readonly #options: PoolOptions;
  readonly #graceMs: number;
  readonly #pools = new Map<string, pg.Pool>();
  /** Database -> how many bound workloads use it (each counts once, whatever its components). */
  readonly #users = new Map<string, number>();
  readonly #reapers = new Map<string, NodeJS.Timeout>();
  #logger: Logger | undefined;
  #closed = false;

  constructor(settings: ConnectionSettings, options: PoolOptions, graceMs: number) {
    this.#settings = settings;
    this.#options = options;
    this.#graceMs = graceMs;
  }

  set logger(logger: Logger) {
    this.#logger = logger;
  }

  /** A workload will use `database`: its pool is kept (or made) for it. */
  use(database: string): void {
    this.#users.set(database, (this.#users.get(database) ?? 0) + 1);
    clearTimeout(this.#reapers.get(database));
    this.#reapers.delete(database);
  }

  /** A workload that used `database` is gone: when it was the last user, the pool ends after the grace period. */
  release(database: string): void {
    const users = (this.#users.get(database) ?? 0) - 1;
    if (users > 0) return void this.#users.set(database, users);
    this.#users.delete(database);
    if (!this.#pools.has(database) || this.#closed) return;
    const timer = setTimeout(() => {
      this.#reapers.delete(database);
      void this.#end(database);
    }, this.#graceMs);
    timer.unref();
    this.#reapers.set(database, timer);
  }

  /** The pool of `database`, made on first use. */
  pool(database: string): pg.Pool {
    if (this.#closed) throw new Error('the plugin is stopped');
    let pool = this.#pools.get(database);
    if (!pool) {
      pool = new pg.Pool(poolConfig(this.#settings, database, this.#options));
      // An idle connection that dies (server restart, network) is reported here; without a
      // listener node-postgres would take the whole process down.
      pool.on('error', (err) => this.#logger?.warn({ database, err: err.message }, 'an idle PostgreSQL connection failed'));
      this.#pools.set(database, pool);
      this.#logger?.debug({ database }, 'PostgreSQL pool created');
    }
    return pool;
  }

  info(): PoolInfo[] {
    return [...this.#pools].map(([database, p]) => ({ database, total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount }));
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#reapers.values()) clearTimeout(timer);
    this.#reapers.clear();
    this.#users.clear();
    await Promise.all([...this.#pools.keys()].map((database) => this.#end(database)));
  }

  async #end(database: string): Promise<void> {
    const pool = this.#pools.get(database);
    if (!pool) return;
    this.#pools.delete(database);
    try {
      await pool.end();
      this.#logger?.debug({ database }, 'PostgreSQL pool ended');
    } catch (err) {
      this.#logger?.warn({ database, err: (err as Error).message }, 'ending a PostgreSQL pool failed');
    }
  }
}
