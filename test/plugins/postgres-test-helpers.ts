/**
 * What the PostgreSQL backend tests share: pools on the test server, schemas of their own
 * (unique per run, dropped at the end), and addresses where no PostgreSQL answers.
 */
import { createServer, type Socket } from 'node:net';
import pg from 'pg';
import { POSTGRES_URL } from '../services.ts';

let counter = 0;

/** A schema name no other run or test uses. */
export function uniqueSchema(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
}

/** A pool on the test server; idle clients losing their server must not end the test process. */
export function testPool(options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 4, ...options });
  pool.on('error', () => {});
  return pool;
}

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema.replaceAll('"', '""')}" CASCADE`);
}

/** The tables of `schema`, sorted. */
export async function tablesOf(pool: pg.Pool, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename', [schema]);
  return rows.map((row) => row.tablename);
}

/** A loopback port nothing listens on (bound, then closed again). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A server that accepts connections and never says a word: a database that hangs. */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A pool for 127.0.0.1:`port` that would wait as long as it takes (no connection timeout of its own). */
export function poolAt(port: number): pg.Pool {
  const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'test', max: 2 });
  pool.on('error', () => {});
  return pool;
}
