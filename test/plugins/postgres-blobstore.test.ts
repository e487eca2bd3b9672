import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  BlobstoreError,
  DEFAULT_POSTGRES_CHUNK_SIZE,
  DEFAULT_POSTGRES_MAX_OBJECT_SIZE,
  PostgresBlobstoreBackend,
  blobstorePlugin,
  type BlobstoreBackend,
  type PostgresBlobstoreOptions,
} from '../../src/plugins/blobstore/index.ts';
import { POSTGRES_URL, service } from '../services.ts';
import { blobstoreBackendSuite, rejectsWith } from './blobstore-backend-suite.ts';
import { bindBlobstore, blobstoreWorkload, getObjectText, putObject, rejectsWithString, hosted } from './plugin-harness.ts';
import { closedPort, dropSchema, poolAt, silentServer, tablesOf, testPool, uniqueSchema } from './postgres-test-helpers.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);
const MiB = 1024 * 1024;

const skip = await service('PostgreSQL', POSTGRES_URL);
const pool = skip ? undefined : testPool();
const schemas: string[] = [];

/** A backend on its own new schema; every schema is dropped at the end. */
function freshBackend(options: Omit<PostgresBlobstoreOptions, 'pool'> = {}): { backend: PostgresBlobstoreBackend; schema: string } {
  const schema = options.schema ?? uniqueSchema('wasmhost_test_blob');
  if (!schemas.includes(schema)) schemas.push(schema);
  return { backend: new PostgresBlobstoreBackend({ pool: pool!, ...options, schema }), schema };
}

/** How many chunk rows the object has, straight from the table. */
async function chunkRows(schema: string, object: string): Promise<{ seq: number; length: number }[]> {
  const { rows } = await pool!.query<{ seq: number; length: number }>(
    `SELECT c.seq, length(c.data) AS length FROM "${schema}".blob_chunks c JOIN "${schema}".blob_objects o ON o.id = c.object_id WHERE o.name = $1 ORDER BY c.seq`,
    [object],
  );
  return rows;
}

after(async () => {
  if (!pool) return;
  for (const schema of schemas) await dropSchema(pool, schema);
  await pool.end();
});

describe('postgres blobstore', { skip }, () => {
  blobstoreBackendSuite('postgres', 100_000, async () => {
    const { backend } = freshBackend({ maxObjectSize: 100_000 });
    return { backend, close: () => backend.close() };
  });

  // The same behaviour when every object spans many chunks.
  blobstoreBackendSuite('postgres, 4 KiB chunks', 100_000, async () => {
    const { backend } = freshBackend({ maxObjectSize: 100_000, chunkSize: 4096 });
    return { backend, close: () => backend.close() };
  });

  test('postgres: defaults, tables on first use', async () => {
    const { backend, schema } = freshBackend();
    assert.equal(backend.maxObjectSize, 256 * MiB);
    assert.equal(DEFAULT_POSTGRES_MAX_OBJECT_SIZE, 256 * MiB);
    assert.equal(backend.chunkSize, DEFAULT_POSTGRES_CHUNK_SIZE);
    assert.equal(DEFAULT_POSTGRES_CHUNK_SIZE, MiB);
    assert.deepEqual(await tablesOf(pool!, schema), []);
    assert.equal(await backend.containerExists('c'), false);
    assert.deepEqual(await tablesOf(pool!, schema), ['blob_chunks', 'blob_containers', 'blob_objects']);
  });

  test('postgres: a 3.5 MiB object is stored in 1 MiB chunks and read across chunk borders', async () => {
    const { backend: bs, schema } = freshBackend();
    await bs.createContainer('c');
    const data = randomBytes(3.5 * MiB);
    await bs.writeObject('c', 'big', data);
    assert.deepEqual(await chunkRows(schema, 'big'), [
      { seq: 0, length: MiB },
      { seq: 1, length: MiB },
      { seq: 2, length: MiB },
      { seq: 3, length: MiB / 2 },
    ]);
    assert.equal((await bs.objectInfo('c', 'big')).size, data.length);
    const ranges: [number, number][] = [
      [0, data.length],
      [0, 1],
      [MiB - 1, MiB + 1],
      [MiB - 10, 3 * MiB + 10],
      [MiB, 2 * MiB],
      [2 * MiB + 5, 2 * MiB + 6],
      [3 * MiB - 1, 10 * MiB],
      [data.length - 1, data.length],
      [data.length, data.length + 5],
      [5, 5],
      [9, 3],
    ];
    for (const [start, end] of ranges) {
      const read = await bs.readObject('c', 'big', start, end);
      assert.equal(Object.getPrototypeOf(read), Uint8Array.prototype);
      assert.ok(Buffer.from(read).equals(data.subarray(start, Math.max(start, end))), `range [${start}, ${end})`);
    }
  });

  test('postgres: a read fetches only the chunks its range touches', async () => {
    const { backend: bs, schema } = freshBackend();
    await bs.createContainer('c');
    const data = randomBytes(3 * MiB);
    await bs.writeObject('c', 'o', data);
    // Take chunk 1 away behind the store's back: ranges inside chunks 0 and 2 still read.
    await pool!.query(`DELETE FROM "${schema}".blob_chunks WHERE seq = 1`);
    assert.ok(Buffer.from(await bs.readObject('c', 'o', 10, MiB)).equals(data.subarray(10, MiB)));
    assert.ok(Buffer.from(await bs.readObject('c', 'o', 2 * MiB, 3 * MiB)).equals(data.subarray(2 * MiB)));
    // A range touching it is refused rather than answered with a hole.
    await assert.rejects(bs.readObject('c', 'o', MiB - 1, MiB + 1), /"o" in container "c": chunks 0 to 1 are not all stored/);
  });

  test('postgres: an object replaced between two batches of a read is read again, whole, in its new version', async () => {
    const { backend: writer, schema } = freshBackend();
    await writer.createContainer('c');
    const versions = [1, 2, 3, 4, 5, 6].map((n) => new Uint8Array(9 * MiB).fill(n));
    await writer.writeObject('c', 'o', versions[0]);
    /** A reader whose pool lets `replace(n)` write a new version before handing out connection n. */
    async function readWhile(replace: (connection: number) => boolean): Promise<{ read: Promise<Uint8Array>; connections: () => number; done(): Promise<void> }> {
      const readerPool = testPool();
      let connections = 0;
      let written = 0;
      const connect = readerPool.connect.bind(readerPool);
      Object.assign(readerPool, {
        connect: async () => {
          connections++;
          if (replace(connections)) await writer.writeObject('c', 'o', versions[++written]);
          return connect();
        },
      });
      // Connection 1 finds the tables, 2 reads the first batch (8 chunks), 3 the second.
      const read = new PostgresBlobstoreBackend({ pool: readerPool, schema }).readObject('c', 'o', 0, 9 * MiB);
      read.catch(() => {});
      return { read, connections: () => connections, done: () => readerPool.end() };
    }

    const once = await readWhile((n) => n === 3);
    try {
      assert.deepEqual(await once.read, versions[1]);
      assert.equal(once.connections(), 5, 'the read started again after its second batch');
    } finally {
      await once.done();
    }

    const always = await readWhile((n) => n >= 3);
    try {
      await rejectsWith(always.read, /^object "o" in container "c" was replaced while it was read, 3 times in a row$/);
      assert.equal(always.connections(), 7);
    } finally {
      await always.done();
    }
  });

  test('postgres: objects larger than one statement batch (8 MiB) read whole, and copy in full', async () => {
    const { backend: bs, schema } = freshBackend();
    await bs.createContainer('c');
    await bs.createContainer('d');
    const data = randomBytes(10 * MiB + 123);
    await bs.writeObject('c', 'o', data);
    assert.ok(Buffer.from(await bs.readObject('c', 'o', 0, Number.MAX_SAFE_INTEGER)).equals(data));
    assert.ok(Buffer.from(await bs.readObject('c', 'o', 7 * MiB + 3, 9 * MiB + 7)).equals(data.subarray(7 * MiB + 3, 9 * MiB + 7)));
    await bs.copyObject({ container: 'c', object: 'o' }, { container: 'd', object: 'copy' });
    assert.equal((await chunkRows(schema, 'copy')).length, 11);
    assert.ok(Buffer.from(await bs.readObject('d', 'copy', 0, data.length)).equals(data));
    // A move renames: the chunks stay where they are, only once.
    await bs.moveObject({ container: 'd', object: 'copy' }, { container: 'c', object: 'moved' });
    assert.equal((await chunkRows(schema, 'moved')).length, 11);
    assert.equal((await chunkRows(schema, 'copy')).length, 0);
    assert.ok(Buffer.from(await bs.readObject('c', 'moved', 0, data.length)).equals(data));
    assert.deepEqual(await bs.listObjects('d'), []);
    // Replacing a large object with a small one leaves no chunk of the old one behind.
    await bs.writeObject('c', 'o', bytes('tiny'));
    assert.deepEqual(await chunkRows(schema, 'o'), [{ seq: 0, length: 4 }]);
    const { rows } = await pool!.query(`SELECT count(*)::int AS n FROM "${schema}".blob_chunks`);
    assert.equal(rows[0].n, 12);
    await bs.deleteContainer('c');
    const left = await pool!.query(`SELECT count(*)::int AS n FROM "${schema}".blob_chunks`);
    assert.equal(left.rows[0].n, 0, 'deleting the container deletes its chunks');
  });

  test('postgres: the size limit holds for writes and copies', async () => {
    const { backend: small, schema } = freshBackend({ maxObjectSize: 2 * MiB + 1 });
    await small.createContainer('c');
    await small.writeObject('c', 'at-limit', new Uint8Array(2 * MiB + 1));
    assert.deepEqual((await chunkRows(schema, 'at-limit')).map((r) => r.length), [MiB, MiB, 1]);
    await rejectsWith(small.writeObject('c', 'over', new Uint8Array(2 * MiB + 2)), /object of 2097154 bytes exceeds the blobstore's limit of 2097153 bytes/);
    assert.equal(await small.hasObject('c', 'over'), false);
    // A backend with a smaller limit on the same tables will not copy a larger object.
    const { backend: smaller } = freshBackend({ schema, maxObjectSize: MiB });
    await rejectsWith(smaller.copyObject({ container: 'c', object: 'at-limit' }, { container: 'c', object: 'x' }), /exceeds the blobstore's limit of 1048576 bytes/);
    assert.equal(await small.hasObject('c', 'x'), false);
  });

  test('postgres: a write that fails halfway leaves the previous object whole', async () => {
    const { backend: bs, schema } = freshBackend({ chunkSize: 1000, timeoutMs: 300 });
    await bs.createContainer('c');
    await bs.writeObject('c', 'o', bytes('old version'));
    // Chunk 3 of the new version cannot be written: a trigger refuses it.
    await pool!.query(`CREATE FUNCTION "${schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.seq = 3 THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`);
    await pool!.query(`CREATE TRIGGER refuse BEFORE INSERT ON "${schema}".blob_chunks FOR EACH ROW EXECUTE FUNCTION "${schema}".refuse()`);
    await assert.rejects(bs.writeObject('c', 'o', new Uint8Array(5000)), /refused for the test/);
    assert.equal(text(await bs.readObject('c', 'o', 0, 100)), 'old version');
    assert.equal((await bs.objectInfo('c', 'o')).size, 11);
    assert.deepEqual(await chunkRows(schema, 'o'), [{ seq: 0, length: 11 }]);
  });

  test('postgres: names that differ only in the workload\'s part are different containers', async () => {
    const { backend: bs } = freshBackend();
    await bs.createContainer('default/one/c');
    await bs.writeObject('default/one/c', 'o', bytes('one'));
    assert.equal(await bs.containerExists('default/two/c'), false);
    await rejectsWith(bs.readObject('default/two/c', 'o', 0, 10), /container "default\/two\/c" does not exist/);
    await rejectsWith(bs.copyObject({ container: 'default/two/c', object: 'o' }, { container: 'default/two/c', object: 'p' }), /container "default\/two\/c" does not exist/);
    await bs.deleteContainer('default/two/c');
    await bs.createContainer('default/two/c');
    assert.deepEqual(await bs.listObjects('default/two/c'), []);
    await bs.clearContainer('default/two/c');
    assert.equal(text(await bs.readObject('default/one/c', 'o', 0, 10)), 'one');
  });

  test('postgres: quotes, SQL, unicode and 1024-character names are only data', async () => {
    const { backend: bs, schema } = freshBackend();
    const names = ["it's", '"quoted"', "'; DROP TABLE blob_chunks; --", '\\x00ff', '$1', 'ünï ✓ 🎉', '日本'.repeat(512), 'x'.repeat(1024)];
    // Each container name as the plugin makes it for two workloads: their identity, then the guest's name.
    const containers = ["o'brien/app/", 'default/w/'].flatMap((workload) => names.map((name) => workload + name));
    for (const container of containers) {
      await bs.createContainer(container);
      for (const name of names) await bs.writeObject(container, name, bytes(`${container}|${name}`));
    }
    for (const container of containers) {
      assert.equal((await bs.containerInfo(container)).name, container);
      const byBytes = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.deepEqual(await bs.listObjects(container), byBytes);
      for (const name of names) {
        assert.equal(text(await bs.readObject(container, name, 0, 10_000)), `${container}|${name}`);
        assert.equal((await bs.objectInfo(container, name)).name, name);
      }
    }
    assert.deepEqual(await tablesOf(pool!, schema), ['blob_chunks', 'blob_containers', 'blob_objects']);
  });

  test('postgres: data outlives the backend and its workloads; chunks written with one size read with another', async () => {
    const { backend: first, schema } = freshBackend();
    const created = await first.createContainer('default/app/photos');
    const data = randomBytes(2 * MiB + 17);
    await first.writeObject('default/app/photos', '2024/cat.jpg', data);
    assert.equal((first as BlobstoreBackend).dropContainers, undefined, 'no call frees data meant to outlive workloads');
    await first.close();

    const otherPool = testPool();
    try {
      const second = new PostgresBlobstoreBackend({ pool: otherPool, schema, chunkSize: 64 * 1024, ownsPool: true });
      assert.deepEqual(await second.containerInfo('default/app/photos'), created);
      assert.deepEqual(await second.listObjects('default/app/photos'), ['2024/cat.jpg']);
      assert.ok(Buffer.from(await second.readObject('default/app/photos', '2024/cat.jpg', MiB - 3, 2 * MiB + 3)).equals(data.subarray(MiB - 3, 2 * MiB + 3)));
      await rejectsWith(second.createContainer('default/app/photos'), /container "default\/app\/photos" already exists/);
      await second.close();
      await rejectsWith(second.containerExists('default/app/photos'), /unavailable: the store is closed/);
      assert.equal(otherPool.ended, true);
    } finally {
      if (!otherPool.ended) await otherPool.end();
    }
  });

  test('postgres: concurrent writers of one object leave one whole version', async () => {
    const { backend: bs, schema } = freshBackend({ chunkSize: 1000 });
    await bs.createContainer('c');
    const versions = Array.from({ length: 6 }, (_, i) => new Uint8Array(4500 + i * 100).fill(i + 1));
    await Promise.all(versions.map((v) => bs.writeObject('c', 'o', v)));
    const read = await bs.readObject('c', 'o', 0, 100_000);
    const winner = versions.find((v) => v.length === read.length);
    assert.ok(winner, `a read of ${read.length} bytes matches no version`);
    assert.deepEqual(read, winner);
    assert.equal((await chunkRows(schema, 'o')).length, Math.ceil(winner.length / 1000));
  });

  test("postgres: containers of the older (scope, name) layout are renamed once to the plugin's names and found by the workloads that made them", async () => {
    const schema = uniqueSchema('wasmhost_test_blob');
    schemas.push(schema);
    const s = `"${schema}"`;
    // The tables as the previous version made them (only the containers' differ from today's).
    await pool!.query(`CREATE SCHEMA ${s}`);
    await pool!.query(`CREATE TABLE ${s}.blob_containers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, scope text NOT NULL,
      name text NOT NULL, name_hash bytea NOT NULL, created_at bigint NOT NULL, UNIQUE (scope, name_hash))`);
    await pool!.query(`CREATE TABLE ${s}.blob_objects (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      container_id bigint NOT NULL REFERENCES ${s}.blob_containers (id) ON DELETE CASCADE, name text NOT NULL, name_hash bytea NOT NULL,
      size bigint NOT NULL, chunk_size integer NOT NULL, version uuid NOT NULL, created_at bigint NOT NULL, UNIQUE (container_id, name_hash))`);
    await pool!.query(`CREATE TABLE ${s}.blob_chunks (object_id bigint NOT NULL REFERENCES ${s}.blob_objects (id) ON DELETE CASCADE,
      seq integer NOT NULL, data bytea NOT NULL, PRIMARY KEY (object_id, seq))`);
    const old: [string, string, string, string][] = [
      ['default/app', 'photos', 'cat.jpg', 'meow'],
      ['default/other', 'photos', 'cat.jpg', 'purr'],
      ['ns%x/a/b', 'c', 'o', 'odd identity'],
      ['default/app', 'default/app/photos', 'o', 'a name that looks like a new one'],
      ['w', 'b', 'o', 'not from the plugin'],
    ];
    // Rows as the previous version wrote them: name_hash = SHA-256 of the name alone.
    for (const [scope, name, object, data] of old) {
      const { rows } = await pool!.query(
        `INSERT INTO ${s}.blob_containers (scope, name, name_hash, created_at) VALUES ($1, $2, sha256(convert_to($2, 'UTF8')), 1700000000) RETURNING id`,
        [scope, name],
      );
      const objectRow = await pool!.query(
        `INSERT INTO ${s}.blob_objects (container_id, name, name_hash, size, chunk_size, version, created_at)
         VALUES ($1, $2, sha256(convert_to($2, 'UTF8')), $3, 1048576, gen_random_uuid(), 1700000000) RETURNING id`,
        [rows[0].id, object, data.length],
      );
      await pool!.query(`INSERT INTO ${s}.blob_chunks (object_id, seq, data) VALUES ($1, 0, $2)`, [objectRow.rows[0].id, Buffer.from(data)]);
    }

    // Two hosts start at once on the old layout: the rows are renamed once.
    const pools = [testPool(), testPool()];
    try {
      const [backend, second] = pools.map((p) => new PostgresBlobstoreBackend({ pool: p, schema }));
      await Promise.all([backend.createContainer('probe-1'), second.createContainer('probe-2')]);
      const { rows } = await pool!.query(`SELECT name, name_hash = sha256(convert_to(name, 'UTF8')) AS hashed FROM ${s}.blob_containers ORDER BY name`);
      assert.deepEqual(rows, [
        { name: 'default/app/default/app/photos', hashed: true },
        { name: 'default/app/photos', hashed: true },
        { name: 'default/other/photos', hashed: true },
        { name: 'ns%25x/a%2Fb/c', hashed: true },
        { name: 'probe-1', hashed: true },
        { name: 'probe-2', hashed: true },
        { name: 'w\u001fb', hashed: true },
      ]);
      const columns = await pool!.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'blob_containers' ORDER BY column_name`, [schema]);
      assert.deepEqual(columns.rows.map((r) => r.column_name), ['created_at', 'id', 'name', 'name_hash']);

      const plugin = hosted(blobstorePlugin({ backend }));
      const app = await bindBlobstore(plugin, blobstoreWorkload('id-1', {}, { name: 'app' }));
      const photos = await app.getContainer('photos');
      assert.equal((await photos.info()).createdAt, 1700000000n);
      assert.equal(await getObjectText(app, photos, 'cat.jpg', 0n, 10n), 'meow');
      await rejectsWithString(app.createContainer('photos'), /^container "photos" already exists$/);
      assert.equal(await getObjectText(app, await app.getContainer('default/app/photos'), 'o', 0n, 100n), 'a name that looks like a new one');
      const other = await bindBlobstore(plugin, blobstoreWorkload('id-2', {}, { name: 'other' }));
      assert.equal(await getObjectText(other, await other.getContainer('photos'), 'cat.jpg', 0n, 10n), 'purr');
      const odd = await bindBlobstore(plugin, blobstoreWorkload('id-3', {}, { namespace: 'ns%x', name: 'a/b' }));
      assert.equal(await getObjectText(odd, await odd.getContainer('c'), 'o', 0n, 100n), 'odd identity');

      // A later start finds the new layout and changes nothing; the unique name holds.
      const later = new PostgresBlobstoreBackend({ pool: pool!, schema });
      assert.deepEqual(await later.listObjects('default/app/photos'), ['cat.jpg']);
      await rejectsWith(later.createContainer('default/other/photos'), /already exists/);
      assert.equal((await pool!.query(`SELECT count(*)::int AS n FROM ${s}.blob_containers`)).rows[0].n, 7);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  test('postgres: invalid options are refused at construction', () => {
    assert.throws(() => new PostgresBlobstoreBackend({ pool: pool!, chunkSize: 0 }), /chunkSize must be an integer from 1 to 64 MiB/);
    assert.throws(() => new PostgresBlobstoreBackend({ pool: pool!, chunkSize: 65 * MiB }), /chunkSize/);
    assert.throws(() => new PostgresBlobstoreBackend({ pool: pool!, maxObjectSize: -1 }), /maxObjectSize/);
    assert.throws(() => new PostgresBlobstoreBackend({ pool: pool!, schema: 'a\nb' }), /control character/);
  });

  test('postgres: through the plugin, buckets and read_only apply, and a restarted workload finds its objects', async () => {
    const { backend } = freshBackend({ chunkSize: 64 * 1024 });
    const plugin = hosted(blobstorePlugin({ backend }));
    const guest = await bindBlobstore(plugin, blobstoreWorkload('id-1', { buckets: 'uploads' }, { name: 'app' }));
    const uploads = await guest.createContainer('uploads');
    const data = randomBytes(200_000);
    await putObject(guest, uploads, 'photo', data);
    await rejectsWithString(guest.createContainer('other'), /^container "other" is not in the workload's config "buckets"$/);
    await plugin.onWorkloadUnbind!('id-1');

    const readOnly = await bindBlobstore(plugin, blobstoreWorkload('id-2', { read_only: 'true' }, { name: 'app' }));
    const again = await readOnly.getContainer('uploads');
    const value = await again.getData('photo', 65_000n, 140_000n);
    assert.ok(Buffer.from(readOnly.IncomingValue.incomingValueConsumeSync(value)).equals(data.subarray(65_000, 140_001)));
    await rejectsWithString(again.deleteObject('photo'), /^delete-object refused: the blobstore is read-only for this workload$/);
    await rejectsWithString(readOnly.createContainer('new'), /read-only/);
    assert.equal(await again.hasObject('photo'), true);

    const stranger = await bindBlobstore(plugin, blobstoreWorkload('id-3', {}, { name: 'other-app' }));
    assert.equal(await stranger.containerExists('uploads'), false);
  });
});

describe('postgres blobstore: a database that is down or hangs', { skip }, () => {
  test('a pool pointed at a closed port fails fast with a BlobstoreError naming the problem', async () => {
    const port = await closedPort();
    const down = poolAt(port);
    try {
      const bs = new PostgresBlobstoreBackend({ pool: down });
      const started = Date.now();
      await assert.rejects(bs.createContainer('c'), (err: unknown) => {
        assert.ok(err instanceof BlobstoreError, String(err));
        assert.match(err.message, /^the PostgreSQL blobstore is unavailable: connection refused \(ECONNREFUSED\)$/);
        assert.ok(!err.message.includes(String(port)));
        return true;
      });
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    } finally {
      await down.end();
    }
  });

  test('a server that never answers fails a write after timeoutMs', async () => {
    const silent = await silentServer();
    const hanging = poolAt(silent.port);
    try {
      const bs = new PostgresBlobstoreBackend({ pool: hanging, timeoutMs: 250 });
      const started = Date.now();
      await rejectsWith(bs.writeObject('c', 'o', bytes('x')), /^the PostgreSQL blobstore is unavailable: no connection within 250 ms$/);
      assert.ok(Date.now() - started < 2000);
    } finally {
      await silent.close();
      await hanging.end().catch(() => {});
    }
  });

  test('a write stuck behind a lock fails after timeoutMs and leaves nothing half-written', async () => {
    const { backend: bs, schema } = freshBackend({ timeoutMs: 300, chunkSize: 10 });
    await bs.createContainer('c');
    await bs.writeObject('c', 'o', bytes('before'));
    const blocker = await pool!.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`LOCK TABLE "${schema}".blob_chunks IN EXCLUSIVE MODE`);
      await rejectsWith(bs.writeObject('c', 'o', new Uint8Array(100)), /unavailable: no answer within 300 ms/);
      // The server gives up on the abandoned statement by itself (its timeout is ours + 1 s), though the lock is still held.
      let waiting = 1;
      for (let i = 0; i < 60 && waiting > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const { rows } = await pool!.query(`SELECT count(*)::int AS n FROM pg_locks WHERE relation = $1::regclass AND NOT granted`, [`"${schema}".blob_chunks`]);
        waiting = rows[0].n;
      }
      assert.equal(waiting, 0, 'no statement of ours still waits for the lock');
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    assert.equal(text(await bs.readObject('c', 'o', 0, 100)), 'before');
  });
});
