import { createHash, randomUUID } from 'node:crypto';
import { PostgresStore, type PostgresBackendOptions, type Sql } from '../../shared/postgres.ts';
import { legacyStorageNameSql } from '../../shared/storage-scope.ts';
import { BlobstoreError, checkContainerName, checkName, tooLarge, type BlobstoreBackend, type ContainerInfo, type ObjectInfo, type ObjectRef } from '../backend.ts';

export interface PostgresBlobstoreOptions extends PostgresBackendOptions {
  /** The largest object stored, in bytes; default 256 MiB (a value is held in memory while written). */
  maxObjectSize?: number;
  /** Bytes per stored chunk of a new object; default 1 MiB. Objects already stored keep theirs. */
  chunkSize?: number;
}

export const DEFAULT_POSTGRES_MAX_OBJECT_SIZE = 256 * 1024 * 1024;
export const DEFAULT_POSTGRES_CHUNK_SIZE = 1024 * 1024;

/** About this many bytes of chunks per statement, so that no answer or copy step grows with the object. */
const BATCH_BYTES = 8 * 1024 * 1024;
/** How often a read starts again when the object is replaced while it is read in several statements. */
const READ_ATTEMPTS = 3;

interface Located {
  container_id: string | null;
  object_id: string | null;
  size: string | null;
  chunk_size: number | null;
  version: string | null;
  created_at: string | null;
}

interface Chunk {
  seq: number | null;
  data: Buffer | null;
}

interface Found {
  containerId: string;
  objectId: string;
  size: number;
  chunkSize: number;
  version: string;
  createdAt: number;
}

/**
 * Containers and objects in PostgreSQL, in the schema of `options.schema` (created on first use):
 * `blob_containers` by name, `blob_objects` per container, and each object's bytes in
 * `blob_chunks`, `chunkSize` bytes per row. A read fetches only the chunks its range touches
 * (cut to the range by the server), a few MiB per statement; a write stores its chunks inside
 * one transaction, so readers see the old object or the new one, never a mix.
 *
 * The plugin's names keep workloads apart (a workload's identity is part of its container names).
 * Data outlives workloads: a workload started again (after a restart, a redeploy, on another
 * host) finds it; removing it for good is an operator's job. Names are matched by their SHA-256
 * (a long name may be longer than a b-tree entry may be) and listed in the order of their UTF-8
 * bytes.
 *
 * An older layout keyed containers by (scope, name), the scope being the workload's
 * `<namespace>/<name>`: the setup renames those rows to the names the plugin now gives the same
 * containers, once (`legacyStorageNameSql`), and drops the column. Every guest value is a bound parameter. A database that is down
 * or does not answer fails the call after `timeoutMs` (per statement) with a `BlobstoreError`
 * saying why.
 */
export class PostgresBlobstoreBackend implements BlobstoreBackend {
  readonly maxObjectSize: number;
  readonly chunkSize: number;
  readonly #db: PostgresStore;
  readonly #s: string;

  constructor(options: PostgresBlobstoreOptions) {
    this.maxObjectSize = options.maxObjectSize ?? DEFAULT_POSTGRES_MAX_OBJECT_SIZE;
    this.chunkSize = options.chunkSize ?? DEFAULT_POSTGRES_CHUNK_SIZE;
    if (!Number.isSafeInteger(this.maxObjectSize) || this.maxObjectSize < 0) throw new RangeError(`maxObjectSize must be a non-negative integer, not ${options.maxObjectSize}`);
    // A chunk is one bytea value: PostgreSQL takes up to 1 GB, 64 MiB keeps rows and answers sane.
    if (!Number.isSafeInteger(this.chunkSize) || this.chunkSize < 1 || this.chunkSize > 64 * 1024 * 1024) {
      throw new RangeError(`chunkSize must be an integer from 1 to 64 MiB, not ${options.chunkSize}`);
    }
    this.#db = new PostgresStore(options, {
      tables: ['blob_containers', 'blob_objects', 'blob_chunks'],
      ddl: (s) => [
        `CREATE TABLE IF NOT EXISTS ${s}.blob_containers (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          name text NOT NULL,
          name_hash bytea NOT NULL UNIQUE,
          created_at bigint NOT NULL)`,
        `CREATE TABLE IF NOT EXISTS ${s}.blob_objects (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          container_id bigint NOT NULL REFERENCES ${s}.blob_containers (id) ON DELETE CASCADE,
          name text NOT NULL,
          name_hash bytea NOT NULL,
          size bigint NOT NULL,
          chunk_size integer NOT NULL,
          version uuid NOT NULL,
          created_at bigint NOT NULL,
          UNIQUE (container_id, name_hash))`,
        `CREATE TABLE IF NOT EXISTS ${s}.blob_chunks (
          object_id bigint NOT NULL REFERENCES ${s}.blob_objects (id) ON DELETE CASCADE,
          seq integer NOT NULL,
          data bytea NOT NULL,
          PRIMARY KEY (object_id, seq))`,
      ],
      migrations: [
        {
          retires: 'blob_containers.scope',
          // Renamed while (scope, name_hash) is still unique; hashed again once that constraint went with the column.
          statements: (s) => [
            `UPDATE ${s}.blob_containers SET name = ${legacyStorageNameSql('scope', 'name')}`,
            `ALTER TABLE ${s}.blob_containers DROP COLUMN scope`,
            `UPDATE ${s}.blob_containers SET name_hash = sha256(convert_to(name, 'UTF8'))`,
            `ALTER TABLE ${s}.blob_containers ADD CONSTRAINT blob_containers_name_hash_key UNIQUE (name_hash)`,
          ],
        },
      ],
      unavailable: (reason, cause) => new BlobstoreError(`the PostgreSQL blobstore is unavailable: ${reason}`, { cause }),
    });
    this.#s = this.#db.schema;
  }

  async createContainer(name: string): Promise<ContainerInfo> {
    checkContainerName(name);
    const { rows } = await this.#db.query<{ created_at: string }>(
      `INSERT INTO ${this.#s}.blob_containers (name, name_hash, created_at) VALUES ($1, $2, ${NOW})
       ON CONFLICT (name_hash) DO NOTHING RETURNING created_at`,
      [name, nameHash(name)],
    );
    if (rows.length === 0) throw new BlobstoreError(`container ${JSON.stringify(name)} already exists`);
    return { name, createdAt: Number(rows[0].created_at) };
  }

  async containerInfo(name: string): Promise<ContainerInfo> {
    const { rows } = await this.#db.query<{ created_at: string }>(`SELECT created_at FROM ${this.#s}.blob_containers WHERE name_hash = $1`, [nameHash(name)]);
    if (rows.length === 0) throw noContainer(name);
    return { name, createdAt: Number(rows[0].created_at) };
  }

  async containerExists(name: string): Promise<boolean> {
    const { rows } = await this.#db.query(`SELECT FROM ${this.#s}.blob_containers WHERE name_hash = $1`, [nameHash(name)]);
    return rows.length > 0;
  }

  async deleteContainer(name: string): Promise<void> {
    // Objects and chunks go with it (ON DELETE CASCADE), in the same statement.
    await this.#db.query(`DELETE FROM ${this.#s}.blob_containers WHERE name_hash = $1`, [nameHash(name)]);
  }

  async listObjects(container: string): Promise<string[]> {
    const { rows } = await this.#db.query<{ container_id: string | null; name: string | null }>(
      `SELECT k.id AS container_id, o.name FROM (SELECT) one
       LEFT JOIN ${this.#s}.blob_containers k ON k.name_hash = $1
       LEFT JOIN ${this.#s}.blob_objects o ON o.container_id = k.id
       ORDER BY o.name COLLATE "C"`,
      [nameHash(container)],
    );
    if (rows[0].container_id === null) throw noContainer(container);
    return rows.flatMap((row) => (row.name === null ? [] : [row.name]));
  }

  async writeObject(container: string, name: string, data: Uint8Array): Promise<void> {
    checkName('object', name);
    if (data.length > this.maxObjectSize) throw tooLarge(data.length, this.maxObjectSize);
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    await this.#db.transaction(async (sql) => {
      const containerId = await this.#containerId(sql, container);
      const objectId = await this.#putObject(sql, containerId, name, data.length, this.chunkSize);
      for (let seq = 0; seq * this.chunkSize < bytes.length; seq++) {
        await sql.query(`INSERT INTO ${this.#s}.blob_chunks (object_id, seq, data) VALUES ($1, $2, $3)`, [
          objectId,
          seq,
          bytes.subarray(seq * this.chunkSize, (seq + 1) * this.chunkSize),
        ]);
      }
    });
  }

  async readObject(container: string, name: string, start: number, end: number): Promise<Uint8Array> {
    const from = Math.max(0, start);
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const data = await this.#readOnce(container, name, from, end);
      if (data) return data;
    }
    throw new BlobstoreError(
      `object ${JSON.stringify(name)} in container ${JSON.stringify(container)} was replaced while it was read, ${READ_ATTEMPTS} times in a row`,
    );
  }

  /**
   * Bytes [from, end) of the object in one statement per batch of chunks; undefined when the
   * object was replaced or deleted between two of them (the first batch tells its version,
   * and later ones read only while it holds).
   */
  async #readOnce(container: string, name: string, from: number, end: number): Promise<Uint8Array | undefined> {
    const { rows } = await this.#db.query<Located & Chunk>(
      `SELECT k.id AS container_id, o.id AS object_id, o.size, o.chunk_size, o.version, o.created_at, c.seq, ${slice('$3', '$4')} AS data
       FROM (SELECT) one
       LEFT JOIN ${this.#s}.blob_containers k ON k.name_hash = $1
       LEFT JOIN ${this.#s}.blob_objects o ON o.container_id = k.id AND o.name_hash = $2
       LEFT JOIN ${this.#s}.blob_chunks c ON c.object_id = o.id AND $3::bigint < $4::bigint
         AND c.seq BETWEEN $3::bigint / o.chunk_size AND least(($4::bigint - 1) / o.chunk_size, $3::bigint / o.chunk_size + ${BATCH_CHUNKS} - 1)
       ORDER BY c.seq`,
      [nameHash(container), nameHash(name), from, end],
    );
    const object = found(rows[0], container, name);
    const last = Math.min(end, object.size);
    if (last <= from) return new Uint8Array(0);
    const lastSeq = Math.floor((last - 1) / object.chunkSize);
    const perBatch = chunksPerBatch(object.chunkSize);
    const parts: Buffer[] = [];
    let next = Math.floor(from / object.chunkSize);
    /** Appends a batch, which must hold every chunk from `next` up to `upTo`: a hole means the tables were edited behind the store's back. */
    const take = (batch: readonly Chunk[], upTo: number) => {
      const chunks = batch.filter((row) => row.seq !== null);
      if (chunks.length !== upTo - next + 1 || chunks.some((row, i) => row.seq !== next + i)) {
        throw new Error(`blob ${JSON.stringify(name)} in container ${JSON.stringify(container)}: chunks ${next} to ${upTo} are not all stored`);
      }
      for (const row of chunks) parts.push(row.data!);
      next = upTo + 1;
    };
    take(rows, Math.min(lastSeq, next + perBatch - 1));
    while (next <= lastSeq) {
      const upTo = Math.min(lastSeq, next + perBatch - 1);
      const batch = await this.#db.query<Chunk & { same: boolean }>(
        `SELECT o.version = $6 AS same, c.seq, ${slice('$4', '$5')} AS data FROM ${this.#s}.blob_objects o
         LEFT JOIN ${this.#s}.blob_chunks c ON c.object_id = o.id AND o.version = $6 AND c.seq BETWEEN $1 AND $2
         WHERE o.id = $3
         ORDER BY c.seq`,
        [next, upTo, object.objectId, from, end, object.version],
      );
      if (batch.rows.length === 0 || !batch.rows[0].same) return undefined;
      take(batch.rows, upTo);
    }
    // A buffer of its own (not a view into Node's shared pool), as every backend answers.
    const result = new Uint8Array(last - from);
    let at = 0;
    for (const part of parts) at += (result.set(part, at), part.length);
    if (at !== result.length) throw new Error(`blob ${JSON.stringify(name)} in container ${JSON.stringify(container)}: its chunks hold ${at} of ${result.length} bytes`);
    return result;
  }

  async objectInfo(container: string, name: string): Promise<ObjectInfo> {
    const object = found(await this.#locate(this.#db, container, name), container, name);
    return { name, container, createdAt: object.createdAt, size: object.size };
  }

  async hasObject(container: string, name: string): Promise<boolean> {
    const located = await this.#locate(this.#db, container, name);
    if (located.container_id === null) throw noContainer(container);
    return located.object_id !== null;
  }

  async deleteObject(container: string, name: string): Promise<void> {
    const { rows } = await this.#db.query(
      `WITH k AS (SELECT id FROM ${this.#s}.blob_containers WHERE name_hash = $1),
       deleted AS (DELETE FROM ${this.#s}.blob_objects WHERE container_id = (SELECT id FROM k) AND name_hash = $2)
       SELECT id FROM k`,
      [nameHash(container), nameHash(name)],
    );
    if (rows.length === 0) throw noContainer(container);
  }

  async clearContainer(container: string): Promise<void> {
    const { rows } = await this.#db.query(
      `WITH k AS (SELECT id FROM ${this.#s}.blob_containers WHERE name_hash = $1),
       deleted AS (DELETE FROM ${this.#s}.blob_objects WHERE container_id = (SELECT id FROM k))
       SELECT id FROM k`,
      [nameHash(container)],
    );
    if (rows.length === 0) throw noContainer(container);
  }

  async copyObject(src: ObjectRef, dest: ObjectRef): Promise<void> {
    await this.#transfer(src, dest, 'copy');
  }

  async moveObject(src: ObjectRef, dest: ObjectRef): Promise<void> {
    await this.#transfer(src, dest, 'move');
  }

  /** Ends the pool only when the options said the backend owns it. */
  close(): Promise<void> {
    return this.#db.close();
  }

  /**
   * Copy or move in one transaction on one snapshot (REPEATABLE READ: a concurrent change of
   * the destination makes it run again). A copy duplicates the chunks inside the database; a
   * move only renames the object row. Either one replaces the destination and dates it now.
   */
  #transfer(src: ObjectRef, dest: ObjectRef, kind: 'copy' | 'move'): Promise<void> {
    checkName('object', dest.object);
    return this.#db.transaction(async (sql) => {
      const source = found(await this.#locate(sql, src.container, src.object), src.container, src.object);
      if (source.size > this.maxObjectSize) throw tooLarge(source.size, this.maxObjectSize);
      const destId = await this.#containerId(sql, dest.container);
      if (destId === source.containerId && dest.object === src.object) {
        await sql.query(`UPDATE ${this.#s}.blob_objects SET created_at = ${NOW}, version = $2 WHERE id = $1`, [source.objectId, randomUUID()]);
        return;
      }
      if (kind === 'move') {
        await sql.query(`DELETE FROM ${this.#s}.blob_objects WHERE container_id = $1 AND name_hash = $2`, [destId, nameHash(dest.object)]);
        await sql.query(`UPDATE ${this.#s}.blob_objects SET container_id = $2, name = $3, name_hash = $4, created_at = ${NOW}, version = $5 WHERE id = $1`, [
          source.objectId,
          destId,
          dest.object,
          nameHash(dest.object),
          randomUUID(),
        ]);
        return;
      }
      const objectId = await this.#putObject(sql, destId, dest.object, source.size, source.chunkSize);
      const chunks = Math.ceil(source.size / source.chunkSize);
      const perStatement = chunksPerBatch(source.chunkSize);
      for (let seq = 0; seq < chunks; seq += perStatement) {
        await sql.query(
          `INSERT INTO ${this.#s}.blob_chunks (object_id, seq, data)
           SELECT $1, seq, data FROM ${this.#s}.blob_chunks WHERE object_id = $2 AND seq >= $3 AND seq < $4`,
          [objectId, source.objectId, seq, seq + perStatement],
        );
      }
    }, 'REPEATABLE READ');
  }

  /** The container's id, or the error naming it; locks it against deletion until the transaction ends. */
  async #containerId(sql: Sql, container: string): Promise<string> {
    const { rows } = await sql.query<{ id: string }>(`SELECT id FROM ${this.#s}.blob_containers WHERE name_hash = $1 FOR KEY SHARE`, [nameHash(container)]);
    if (rows.length === 0) throw noContainer(container);
    return rows[0].id;
  }

  /** Creates the object row or takes over the existing one (whose row lock then serializes writers), without chunks. */
  async #putObject(sql: Sql, containerId: string, name: string, size: number, chunkSize: number): Promise<string> {
    const { rows } = await sql.query<{ id: string }>(
      `INSERT INTO ${this.#s}.blob_objects (container_id, name, name_hash, size, chunk_size, version, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, ${NOW})
       ON CONFLICT (container_id, name_hash) DO UPDATE
       SET size = EXCLUDED.size, chunk_size = EXCLUDED.chunk_size, version = EXCLUDED.version, created_at = EXCLUDED.created_at
       RETURNING id`,
      [containerId, name, nameHash(name), size, chunkSize, randomUUID()],
    );
    const objectId = rows[0].id;
    await sql.query(`DELETE FROM ${this.#s}.blob_chunks WHERE object_id = $1`, [objectId]);
    return objectId;
  }

  /** One row: the container's id (NULL when missing) and the object's columns (NULL when missing). */
  async #locate(sql: Sql, container: string, name: string): Promise<Located> {
    const { rows } = await sql.query<Located>(
      `SELECT k.id AS container_id, o.id AS object_id, o.size, o.chunk_size, o.version, o.created_at
       FROM (SELECT) one
       LEFT JOIN ${this.#s}.blob_containers k ON k.name_hash = $1
       LEFT JOIN ${this.#s}.blob_objects o ON o.container_id = k.id AND o.name_hash = $2`,
      [nameHash(container), nameHash(name)],
    );
    return rows[0];
  }
}

/** Seconds since the epoch by the database's clock, which every host sharing the store agrees on. */
const NOW = `floor(extract(epoch FROM now()))::bigint`;

/** Chunks per read statement, in SQL and in JavaScript (integer division both). */
const BATCH_CHUNKS = `greatest(1, ${BATCH_BYTES} / o.chunk_size)`;
function chunksPerBatch(chunkSize: number): number {
  return Math.max(1, Math.floor(BATCH_BYTES / chunkSize));
}

/** The part of chunk `c` inside the byte range [`from`, `end`) of object `o` (parameters such as `$4`), cut by the server. */
function slice(from: string, end: string): string {
  return `substring(c.data FROM (greatest(${from}::bigint - c.seq::bigint * o.chunk_size, 0) + 1)::int
  FOR (least(${end}::bigint - c.seq::bigint * o.chunk_size, o.chunk_size) - greatest(${from}::bigint - c.seq::bigint * o.chunk_size, 0))::int)`;
}

/** Names are looked up by digest: fixed-size index entries whatever the name's length. */
function nameHash(name: string): Buffer {
  return createHash('sha256').update(name, 'utf8').digest();
}

function found(located: Located, container: string, name: string): Found {
  if (located.container_id === null) throw noContainer(container);
  if (located.object_id === null) throw new BlobstoreError(`object ${JSON.stringify(name)} does not exist in container ${JSON.stringify(container)}`);
  return {
    containerId: located.container_id,
    objectId: located.object_id,
    size: Number(located.size),
    chunkSize: located.chunk_size!,
    version: located.version!,
    createdAt: Number(located.created_at),
  };
}

function noContainer(name: string): BlobstoreError {
  return new BlobstoreError(`container ${JSON.stringify(name)} does not exist`);
}
