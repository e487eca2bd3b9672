export { keyValuePlugin, type KeyValuePluginOptions, type KeyValueState } from './plugin.ts';
export type { StorageIsolation } from '../shared/storage-scope.ts';
export { KeyValueError, checkBucketName, checkIdentifier, checkKey, type KeyValueBackend, type KeyValueErrorKind, type KeyPage } from './backend.ts';
export { MemoryKeyValueBackend } from './backends/memory.ts';
export { FilesystemKeyValueBackend, type FilesystemKeyValueOptions } from './backends/filesystem.ts';
export type { KeyValueConfig } from './config.ts';
export { PostgresKeyValueBackend, MAX_POSTGRES_KEY_BYTES, type PostgresKeyValueOptions } from './backends/postgres.ts';
export { NatsKeyValueBackend, DEFAULT_NATS_TIMEOUT_MS, type NatsKeyValueOptions } from './backends/nats.ts';
export { keyValueBackends } from './backends/registry.ts';
