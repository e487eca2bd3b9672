export type { StorageIsolation } from '../shared/storage-scope.ts';
export { blobstorePlugin, type BlobstorePluginOptions, type BlobstoreState } from './plugin.ts';
export {
  BlobstoreError,
  checkContainerName,
  checkName,
  type BlobstoreBackend,
  type ContainerInfo,
  type ObjectInfo,
  type ObjectRef,
} from './backend.ts';
export { MemoryBlobstoreBackend, DEFAULT_MEMORY_MAX_OBJECT_SIZE, type MemoryBlobstoreOptions } from './backends/memory.ts';
export {
  FilesystemBlobstoreBackend,
  DEFAULT_FILESYSTEM_MAX_OBJECT_SIZE,
  type FilesystemBlobstoreOptions,
} from './backends/filesystem.ts';
export type { BlobstoreConfig } from './config.ts';
export {
  PostgresBlobstoreBackend,
  DEFAULT_POSTGRES_MAX_OBJECT_SIZE,
  DEFAULT_POSTGRES_CHUNK_SIZE,
  type PostgresBlobstoreOptions,
} from './backends/postgres.ts';
export { NatsBlobstoreBackend, DEFAULT_NATS_MAX_OBJECT_SIZE, MAX_NATS_OBJECT_NAME_BYTES, type NatsBlobstoreOptions } from './backends/nats.ts';
export { blobstoreBackends } from './backends/registry.ts';
