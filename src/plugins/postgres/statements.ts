/**
 * Prepared statements of one component: token -> SQL. Tokens are random and belong to the
 * component that prepared them (another component's token is unknown here, unlike the reference,
 * where any token works anywhere). Preparing the same SQL again answers the same token, so a guest
 * that prepares per request does not grow the table; distinct statements are capped.
 *
 * On the server, a statement is parsed once per connection under a name derived from its SQL
 * (node-postgres's named statements), so components preparing the same SQL share the parse.
 */
import { createHash, randomUUID } from 'node:crypto';

export interface PreparedStatement {
  sql: string;
  /** The server-side statement name: `wasmhost_` + a hash of the SQL. */
  name: string;
}

export class PreparedStatements {
  readonly #byToken = new Map<string, PreparedStatement>();
  readonly #tokenBySql = new Map<string, string>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#byToken.size;
  }

  /** The token of `sql` if it was prepared before. */
  tokenOf(sql: string): string | undefined {
    return this.#tokenBySql.get(sql);
  }

  /** Whether another distinct statement may be added. */
  get full(): boolean {
    return this.#byToken.size >= this.#max;
  }

  add(sql: string): string {
    const existing = this.#tokenBySql.get(sql);
    if (existing) return existing;
    const token = randomUUID();
    this.#byToken.set(token, { sql, name: statementName(sql) });
    this.#tokenBySql.set(sql, token);
    return token;
  }

  get(token: string): PreparedStatement | undefined {
    return this.#byToken.get(token);
  }

  clear(): void {
    this.#byToken.clear();
    this.#tokenBySql.clear();
  }
}

/** At most 63 bytes, as PostgreSQL's identifiers. */
export function statementName(sql: string): string {
  return `wasmhost_${createHash('sha256').update(sql).digest('hex').slice(0, 40)}`;
}
