import { PostgresStore, type PostgresBackendOptions } from '../../shared/postgres.ts';
import { legacyStorageNameSql } from '../../shared/storage-scope.ts';
import { KeyValueError, checkBucketName, checkKey, type KeyPage, type KeyValueBackend } from '../backend.ts';
import { nextCounterValue } from '../counter.ts';

export type PostgresKeyValueOptions = PostgresBackendOptions;

/**
 * Keys are stored as UTF-8 `bytea` (a key may hold NUL, which `text` cannot) under a b-tree
 * primary key, whose entries PostgreSQL caps near 2.7 kB: longer keys are refused up front
 * instead of failing deep in the index.
 */
export const MAX_POSTGRES_KEY_BYTES = 2048;

const U64_MAX = '18446744073709551615';

/** How often `increment` runs again when the value changed between its statement and the check of why it did nothing. */
const INCREMENT_ATTEMPTS = 5;

/**
 * Key-value pairs in PostgreSQL: `kv_buckets` (one row per bucket name) and `kv_entries`
 * (bucket id, key, value), in the schema of `options.schema`, created on first use.
 *
 * The plugin's names keep workloads apart (a workload's identity is part of its bucket names),
 * and every entry belongs to one bucket row. Only `openBucket` creates a bucket; the other calls
 * on a bucket never opened fail with `no-such-store`. Data outlives workloads: a workload started
 * again (after a restart, a redeploy, on another host) finds it; removing it for good is an
 * operator's job.
 *
 * An older layout keyed buckets by (scope, name), the scope being the workload's
 * `<namespace>/<name>`: the setup renames those rows to the names the plugin now gives the same
 * buckets, once (`legacyStorageNameSql`), and drops the column.
 *
 * Each call is one statement (so atomic, including the batch calls), every guest value a bound
 * parameter. `increment` adds in the database (`INSERT ... ON CONFLICT DO UPDATE`), so
 * concurrent increments from any number of hosts lose nothing. Keys list in the order of their
 * UTF-8 bytes (Unicode code point order). A database that is down or does not answer fails the
 * call after `timeoutMs` with `KeyValueError('other')` saying why.
 */
export class PostgresKeyValueBackend implements KeyValueBackend {
  readonly #db: PostgresStore;
  readonly #sql: ReturnType<typeof statements>;

  constructor(options: PostgresKeyValueOptions) {
    this.#db = new PostgresStore(options, {
      tables: ['kv_buckets', 'kv_entries'],
      ddl: (s) => [
        `CREATE TABLE IF NOT EXISTS ${s}.kv_buckets (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          name text NOT NULL UNIQUE,
          created_at timestamptz NOT NULL DEFAULT now())`,
        `CREATE TABLE IF NOT EXISTS ${s}.kv_entries (
          bucket_id bigint NOT NULL REFERENCES ${s}.kv_buckets (id) ON DELETE CASCADE,
          key bytea NOT NULL,
          value bytea NOT NULL,
          PRIMARY KEY (bucket_id, key))`,
      ],
      migrations: [
        {
          retires: 'kv_buckets.scope',
          statements: (s) => [
            `UPDATE ${s}.kv_buckets SET name = ${legacyStorageNameSql('scope', 'name')}`,
            `ALTER TABLE ${s}.kv_buckets DROP COLUMN scope`,
            `ALTER TABLE ${s}.kv_buckets ADD CONSTRAINT kv_buckets_name_key UNIQUE (name)`,
          ],
        },
      ],
      unavailable: (reason, cause) => new KeyValueError('other', `the PostgreSQL key-value store is unavailable: ${reason}`, { cause }),
    });
    this.#sql = statements(this.#db.schema);
  }

  async openBucket(bucket: string): Promise<void> {
    checkBucketName(bucket);
    await this.#db.query(this.#sql.openBucket, [bucket]);
  }

  async get(bucket: string, key: string): Promise<Uint8Array | undefined> {
    const { rows } = await this.#db.query<{ value: Buffer | null }>(this.#sql.get, [bucket, keyBytes(key)]);
    requireBucket(rows, bucket);
    return rows[0].value === null ? undefined : new Uint8Array(rows[0].value);
  }

  async set(bucket: string, key: string, value: Uint8Array): Promise<void> {
    await this.setMany(bucket, [[key, value]]);
  }

  async delete(bucket: string, key: string): Promise<void> {
    await this.deleteMany(bucket, [key]);
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    const { rows } = await this.#db.query<{ value: Buffer | null }>(this.#sql.get, [bucket, keyBytes(key)]);
    requireBucket(rows, bucket);
    return rows[0].value !== null;
  }

  async listKeys(bucket: string, cursor: number | undefined, limit: number): Promise<KeyPage> {
    const start = cursor ?? 0;
    // One key more than the page says whether another page follows.
    const { rows } = await this.#db.query<{ key: Buffer | null }>(this.#sql.listKeys, [bucket, start, limit + 1]);
    requireBucket(rows, bucket);
    const keys = rows.flatMap((row) => (row.key === null ? [] : [row.key.toString('utf8')]));
    return keys.length > limit ? { keys: keys.slice(0, limit), cursor: start + limit } : { keys };
  }

  async increment(bucket: string, key: string, delta: bigint): Promise<bigint> {
    const values = [bucket, keyBytes(key), delta.toString()];
    for (let attempt = 0; attempt < INCREMENT_ATTEMPTS; attempt++) {
      const { rows } = await this.#db.query<{ value: Buffer }>(this.#sql.increment, values);
      if (rows.length === 1) return BigInt(rows[0].value.toString('latin1'));
      // Nothing written: the bucket is missing, the value is not a counter, or the sum is past
      // u64. The shared rule says which, with its message; if it finds nothing wrong, the value
      // changed in between and the statement runs again.
      nextCounterValue(key, await this.get(bucket, key), delta);
    }
    throw new KeyValueError('other', `cannot increment key ${JSON.stringify(key)}: its value keeps changing`);
  }

  async getMany(bucket: string, keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const { rows } = await this.#db.query<{ i: string | null; value: Buffer | null }>(this.#sql.getMany, [bucket, keys.map(keyBytes)]);
    requireBucket(rows, bucket);
    const values: (Uint8Array | undefined)[] = keys.map(() => undefined);
    for (const { i, value } of rows) if (i !== null && value !== null) values[Number(i) - 1] = new Uint8Array(value);
    return values;
  }

  async setMany(bucket: string, entries: readonly (readonly [string, Uint8Array])[]): Promise<void> {
    // One statement may not touch a row twice: the last value of a key wins, as in a loop of sets.
    // Sorted, so that concurrent batches lock rows in the same order.
    const byKey = new Map<string, Uint8Array>();
    for (const [key, value] of entries) byKey.set(keyBytes(key).toString('hex'), value);
    const hexKeys = [...byKey.keys()].sort();
    const { rows } = await this.#db.query(this.#sql.setMany, [bucket, hexKeys.map((k) => Buffer.from(k, 'hex')), hexKeys.map((k) => byKey.get(k)!)]);
    requireBucket(rows, bucket);
  }

  async deleteMany(bucket: string, keys: readonly string[]): Promise<void> {
    const { rows } = await this.#db.query(this.#sql.deleteMany, [bucket, keys.map(keyBytes)]);
    requireBucket(rows, bucket);
  }

  /** Ends the pool only when the options said the backend owns it. */
  close(): Promise<void> {
    return this.#db.close();
  }
}

/** The SQL of each call, with the schema filled in (the schema is host configuration, never guest input). */
function statements(s: string) {
  const bucketId = `(SELECT id FROM ${s}.kv_buckets WHERE name = $1)`;
  // A stored counter: decimal digits, at most 20 of them, with ASCII/Latin-1 blanks around
  // (counter.ts reads values the same way); NULL for anything else.
  const blanks = `decode('090a0b0c0d20a0', 'hex')`;
  const digits = `btrim(e.value, ${blanks})`;
  const counter = `(CASE WHEN length(${digits}) BETWEEN 1 AND 20 AND ltrim(${digits}, decode('30313233343536373839', 'hex')) = ''::bytea
    THEN encode(${digits}, 'escape')::numeric END)`;
  return {
    // Checked before inserting, so that opening an existing bucket (every `open`) consumes no id.
    openBucket: `INSERT INTO ${s}.kv_buckets (name) SELECT $1
      WHERE NOT EXISTS (SELECT FROM ${s}.kv_buckets WHERE name = $1)
      ON CONFLICT (name) DO NOTHING`,
    // Every read answers one row per existing bucket (none: no such bucket), the entry columns NULL when missing.
    get: `SELECT e.value FROM ${s}.kv_buckets b LEFT JOIN ${s}.kv_entries e ON e.bucket_id = b.id AND e.key = $2
      WHERE b.name = $1`,
    listKeys: `SELECT page.key FROM ${s}.kv_buckets b LEFT JOIN LATERAL (
        SELECT key FROM ${s}.kv_entries WHERE bucket_id = b.id ORDER BY key OFFSET $2 LIMIT $3) page ON true
      WHERE b.name = $1 ORDER BY page.key`,
    getMany: `SELECT found.i, found.value FROM ${s}.kv_buckets b LEFT JOIN LATERAL (
        SELECT k.i, e.value FROM unnest($2::bytea[]) WITH ORDINALITY AS k(key, i)
        JOIN ${s}.kv_entries e ON e.bucket_id = b.id AND e.key = k.key) found ON true
      WHERE b.name = $1`,
    setMany: `WITH b AS ${bucketId}, written AS (
        INSERT INTO ${s}.kv_entries (bucket_id, key, value) SELECT b.id, x.key, x.value FROM b, unnest($2::bytea[], $3::bytea[]) AS x(key, value)
        ON CONFLICT (bucket_id, key) DO UPDATE SET value = EXCLUDED.value)
      SELECT id FROM b`,
    deleteMany: `WITH b AS ${bucketId}, deleted AS (
        DELETE FROM ${s}.kv_entries WHERE bucket_id = (SELECT id FROM b) AND key = ANY($2::bytea[]))
      SELECT id FROM b`,
    // Writes only when the result is a u64 (a missing key starts at 0); no row back means nothing changed.
    increment: `INSERT INTO ${s}.kv_entries AS e (bucket_id, key, value)
      SELECT id, $2, decode($3::numeric::text, 'escape') FROM ${s}.kv_buckets
      WHERE name = $1 AND $3::numeric <= ${U64_MAX}
      ON CONFLICT (bucket_id, key) DO UPDATE SET value = decode((${counter} + $3::numeric)::text, 'escape')
      WHERE ${counter} <= ${U64_MAX} AND ${counter} + $3::numeric <= ${U64_MAX}
      RETURNING e.value`,
  };
}

function keyBytes(key: string): Buffer {
  checkKey(key);
  const bytes = Buffer.from(key, 'utf8');
  if (bytes.length > MAX_POSTGRES_KEY_BYTES) {
    throw new KeyValueError('other', `invalid key ${JSON.stringify(key.slice(0, 64))}: longer than ${MAX_POSTGRES_KEY_BYTES} bytes in UTF-8 (the PostgreSQL store's limit)`);
  }
  return bytes;
}

/** The statements answer no row at all when there is no such bucket. */
function requireBucket(rows: readonly unknown[], bucket: string): void {
  if (rows.length === 0) throw new KeyValueError('no-such-store', `bucket ${JSON.stringify(bucket)} is not open`);
}
