/**
 * Why a guest's call failed, before it becomes the WIT error of the function that failed
 * (`query-error`, `statement-prepare-error`, `prepared-statement-exec-error`). Messages are for the
 * guest: they carry what PostgreSQL said about the statement, never the server's address or
 * credentials.
 */
import { WasmhostError } from '../../errors.ts';
import type { PreparedStatementExecError, QueryError, StatementPrepareError } from './types.ts';

export type CallErrorKind = 'invalid-params' | 'invalid-query' | 'unexpected' | 'unknown-prepared-query';

export class PostgresCallError extends WasmhostError {
  override readonly code = 'WASMHOST_POSTGRES_CALL';
  readonly kind: CallErrorKind;
  /** The connection it happened on must be closed rather than pooled. */
  readonly discardConnection: boolean;
  constructor(kind: CallErrorKind, message: string, options?: { cause?: unknown; discardConnection?: boolean }) {
    super(message, options);
    this.kind = kind;
    this.discardConnection = options?.discardConnection ?? false;
  }
}

/** The fields of node-postgres's DatabaseError that the guest may see. */
interface ServerError {
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  position?: string;
}

export function isServerError(err: unknown): err is ServerError {
  // node-postgres's DatabaseError: a five-character SQLSTATE and the server's severity.
  const e = err as { code?: unknown; severity?: unknown } | null;
  return err instanceof Error && typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string';
}

/** SQLSTATEs that are about the parameters rather than the statement. */
const PARAMETER_STATES = new Set([
  '08P01', // bind message supplies N parameters, but the statement requires M
  '42P18', // could not determine data type of parameter $n
  '42P08', // ambiguous parameter
]);

/** What PostgreSQL said, with its SQLSTATE and where in the statement. */
export function describeServerError(err: ServerError): string {
  const where = err.position ? `, at character ${err.position}` : '';
  let text = `${err.message} (SQLSTATE ${err.code}${where})`;
  if (err.detail) text += `: ${err.detail}`;
  if (err.hint) text += ` (hint: ${err.hint})`;
  return text;
}

/** A statement the server refused. */
export function serverCallError(err: ServerError): PostgresCallError {
  return new PostgresCallError(PARAMETER_STATES.has(err.code) ? 'invalid-params' : 'invalid-query', describeServerError(err), { cause: err });
}

/** `query-error` for `query` and `query-batch`. */
export function queryError(err: PostgresCallError): QueryError {
  const kind = err.kind === 'unknown-prepared-query' ? 'unexpected' : err.kind;
  return { tag: kind, val: err.message };
}

export function prepareError(err: PostgresCallError): StatementPrepareError {
  return { tag: 'unexpected', val: err.message };
}

export function execError(err: PostgresCallError): PreparedStatementExecError {
  switch (err.kind) {
    case 'unknown-prepared-query':
      return { tag: 'unknown-prepared-query' };
    case 'unexpected':
      return { tag: 'unexpected', val: err.message };
    default:
      return { tag: 'query-error', val: { tag: err.kind, val: err.message } };
  }
}
