/**
 * The four functions of `wasmcloud:postgres/query` and `prepared` for one component. Each turns
 * any failure into the WIT error of its function, thrown as a plain value (jco hands it to the
 * guest as `err`); nothing a guest sends can trap the host or reach the SQL text.
 */
import type { QueryArrayConfig, QueryArrayResult } from 'pg';
import type { Logger } from '../../plugin/plugin.ts';
import { describeServerError, execError, isServerError, PostgresCallError, prepareError, queryError } from './errors.ts';
import { describeStatement, withConnection, type CallContext } from './session.ts';
import type { PreparedStatements } from './statements.ts';
import type { PgValue, ResultRow } from './types.ts';
import { ParamError, toParams, type Param } from './values/params.ts';
import { columnValue, ColumnError, unreadableType } from './values/results.ts';

export interface ComponentScope {
  database: string;
  statements: PreparedStatements;
  maxPreparedStatements: number;
  logger: Logger;
  /** The call context, or a PostgresCallError when the workload is gone or the plugin stopped. */
  context(): CallContext;
}

/** Extended protocol always: one statement, parameters bound apart from its text. */
type Statement = QueryArrayConfig & { queryMode: 'extended' };

export function queryFunctions(scope: ComponentScope) {
  return {
    async query(sql: string, params: PgValue[]): Promise<ResultRow[]> {
      try {
        checkSql(sql);
        const values = bind(params);
        return await withConnection(scope.context(), async (client) => {
          const statement: Statement = { text: sql, values, rowMode: 'array', queryMode: 'extended' };
          return resultRows(await client.query(statement));
        });
      } catch (err) {
        throw queryError(callError(scope.logger, 'query', err));
      }
    },

    /** Several statements, no parameters (the simple query protocol), as the WIT says. */
    async queryBatch(sql: string): Promise<void> {
      try {
        checkSql(sql);
        await withConnection(scope.context(), async (client) => void (await client.query(sql)));
      } catch (err) {
        throw queryError(callError(scope.logger, 'query-batch', err));
      }
    },
  };
}

export function preparedFunctions(scope: ComponentScope) {
  return {
    async prepare(sql: string): Promise<string> {
      try {
        checkSql(sql);
        const ctx = scope.context();
        const known = scope.statements.tokenOf(sql);
        if (known) return known;
        if (scope.statements.full) {
          throw new PostgresCallError('unexpected', `this component already has ${scope.maxPreparedStatements} prepared statements, the most allowed`);
        }
        // Checked by the server now, so that a bad statement fails here and not at exec.
        await withConnection(ctx, (client) => describeStatement(client, sql));
        return scope.statements.add(sql);
      } catch (err) {
        throw prepareError(callError(scope.logger, 'prepare', err));
      }
    },

    async exec(token: string, params: PgValue[]): Promise<bigint> {
      try {
        const statement = scope.statements.get(token);
        if (!statement) throw new PostgresCallError('unknown-prepared-query', 'unknown prepared statement token');
        const values = bind(params);
        const config: QueryArrayConfig = { name: statement.name, text: statement.sql, values, rowMode: 'array' };
        const run = () =>
          withConnection(scope.context(), async (client) => {
            try {
              return BigInt((await client.query(config)).rowCount ?? 0);
            } catch (err) {
              // The connection lost the statement node-postgres thinks it parsed (a guest's
              // DEALLOCATE or DISCARD): that connection is closed, and the call tried once more.
              if (isServerError(err) && err.code === '26000') {
                throw new PostgresCallError('unexpected', describeServerError(err), { cause: err, discardConnection: true });
              }
              throw err;
            }
          });
        try {
          return await run();
        } catch (err) {
          if (err instanceof PostgresCallError && err.discardConnection) return await run();
          throw err;
        }
      } catch (err) {
        throw execError(callError(scope.logger, 'exec', err));
      }
    },
  };
}

function checkSql(sql: string): void {
  if (typeof sql !== 'string') throw new PostgresCallError('invalid-query', 'the statement must be a string');
  // The protocol ends SQL text at a NUL: what followed would be dropped without a word.
  if (sql.includes('\0')) throw new PostgresCallError('invalid-query', 'the statement contains a NUL character');
}

function bind(params: PgValue[]): Param[] {
  try {
    return toParams(params);
  } catch (err) {
    if (err instanceof ParamError) throw new PostgresCallError('invalid-params', err.message);
    throw err;
  }
}

/** Rows as `result-row`s, every column of a type this host cannot carry refused up front. */
function resultRows(result: QueryArrayResult<(string | null)[]>): ResultRow[] {
  const fields = result.fields ?? [];
  for (const f of fields) {
    const why = unreadableType(f.dataTypeID);
    if (why) throw new PostgresCallError('invalid-query', `column ${JSON.stringify(f.name)}: ${why}`);
  }
  return result.rows.map((row) =>
    fields.map((f, i) => {
      try {
        return { columnName: f.name, value: columnValue(f.dataTypeID, row[i]) };
      } catch (err) {
        if (err instanceof ColumnError) {
          throw new PostgresCallError('unexpected', `column ${JSON.stringify(f.name)}: ${err.message}`, { discardConnection: err.sessionChanged });
        }
        throw err;
      }
    }),
  );
}

/** Any failure as a PostgresCallError; one that is not (a host bug) is logged and told apart. */
function callError(logger: Logger, operation: string, err: unknown): PostgresCallError {
  if (err instanceof PostgresCallError) {
    logger.debug({ operation, kind: err.kind, error: err.message }, 'wasmcloud:postgres call failed');
    return err;
  }
  logger.error({ operation, err }, 'wasmcloud:postgres call failed unexpectedly');
  return new PostgresCallError('unexpected', `${operation} failed on the host (see the host log)`, { cause: err });
}
