/**
 * `wasmhost/postgres`: everything on PostgreSQL: the `wasmcloud:postgres` plugin, and the
 * key-value and blobstore backends for the plugins of the root entry.
 */
export * from './plugins/postgres/index.ts';
export { PostgresKeyValueBackend, MAX_POSTGRES_KEY_BYTES, type PostgresKeyValueOptions } from './plugins/keyvalue/index.ts';
export {
  PostgresBlobstoreBackend,
  DEFAULT_POSTGRES_MAX_OBJECT_SIZE,
  DEFAULT_POSTGRES_CHUNK_SIZE,
  type PostgresBlobstoreOptions,
} from './plugins/blobstore/index.ts';
