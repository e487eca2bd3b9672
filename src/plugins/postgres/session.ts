/**
 * One guest call on one pooled connection: take a connection, run, check that the connection is
 * fit to go back (no transaction left open, not broken), give it back. Failures become
 * PostgresCallErrors whose messages say what PostgreSQL said about the statement, and never how
 * the host reaches the server.
 */
import type pg from 'pg';
import type { Logger } from '../../plugin/plugin.ts';
import { networkFailure } from '../shared/postgres.ts';
import { isServerError, PostgresCallError, serverCallError } from './errors.ts';

export interface CallContext {
  pool: pg.Pool;
  database: string;
  logger: Logger;
}

/** node-postgres records the server's transaction status (`I`, `T`, `E`) from every ReadyForQuery. */
function transactionStatus(client: pg.PoolClient): string | undefined {
  return (client as unknown as { _txStatus?: string | null })._txStatus ?? undefined;
}

/**
 * Runs `body` on a connection of the call's pool. A statement left open in a transaction is
 * rolled back and the call fails: each call may get another connection, so a transaction cannot
 * span calls, and the next borrower (perhaps another workload) must not inherit it.
 */
export async function withConnection<T>(ctx: CallContext, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await connect(ctx);
  // Set when the connection cannot be trusted any more: it is then destroyed, not pooled.
  let broken: Error | undefined;
  const onError = (err: Error) => void (broken = err);
  client.on('error', onError);
  try {
    const result = await body(client);
    const status = transactionStatus(client);
    if (status === 'T' || status === 'E') {
      await client.query('ROLLBACK').catch((err: Error) => void (broken = err));
      ctx.logger.warn('a guest statement left a transaction open; rolled back');
      throw new PostgresCallError('invalid-query', 'the statement left a transaction open, so it was rolled back: a transaction must begin and end within one call');
    }
    return result;
  } catch (err) {
    if (err instanceof PostgresCallError) {
      if (err.discardConnection) broken ??= err;
      throw err;
    }
    if (isServerError(err)) throw serverCallError(err);
    broken ??= err as Error;
    ctx.logger.warn({ err: (err as Error)?.message }, 'a PostgreSQL call failed');
    throw new PostgresCallError('unexpected', 'the database call failed (see the host log)', { cause: err });
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

async function connect(ctx: CallContext): Promise<pg.PoolClient> {
  try {
    return await ctx.pool.connect();
  } catch (err) {
    ctx.logger.warn({ err: (err as Error).message }, 'cannot connect to PostgreSQL');
    throw new PostgresCallError('unexpected', `cannot connect to database ${JSON.stringify(ctx.database)}: ${connectFailure(err)}`, { cause: err });
  }
}

/**
 * Why a connection failed, in words a guest may read: the server's own message only for a
 * missing database (the workload named it); never host names, addresses or user names.
 */
function connectFailure(err: unknown): string {
  const network = networkFailure(err);
  if (network !== undefined) return network;
  if (isServerError(err)) {
    if (err.code === '3D000') return err.message;
    if (err.code.startsWith('28')) return `login refused (SQLSTATE ${err.code})`;
    if (err.code === '53300') return 'too many connections (SQLSTATE 53300)';
    return `the server refused (SQLSTATE ${err.code})`;
  }
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && /timeout/i.test(message)) return 'timed out waiting for a connection';
  return 'see the host log';
}

/**
 * A Parse and Describe of `sql` without running it, as `prepare` needs (node-postgres has no call
 * for it; this is its documented extension point, a Submittable query).
 */
export function describeStatement(client: pg.PoolClient, sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: unknown;
    const submittable = {
      submit(connection: pg.Connection) {
        connection.parse({ text: sql, name: '', types: [] }, true);
        connection.describe({ type: 'S', name: '' }, true);
        connection.sync();
      },
      handleRowDescription() {},
      handleDataRow() {},
      handleCommandComplete() {},
      handleEmptyQuery() {},
      handlePortalSuspended() {},
      handleCopyInResponse() {},
      handleCopyData() {},
      // An error comes first and ReadyForQuery is not passed on after it.
      handleError(err: unknown) {
        failed = err;
        reject(err);
      },
      handleReadyForQuery() {
        if (failed === undefined) resolve();
      },
    };
    client.query(submittable as unknown as pg.Submittable);
  });
}
