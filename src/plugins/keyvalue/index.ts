export { keyValuePlugin, type KeyValuePluginOptions } from './plugin.ts';
export { KeyValueError, checkBucketName, checkKey, type KeyValueBackend, type KeyValueErrorKind, type KeyPage } from './backend.ts';
export { MemoryKeyValueBackend } from './backends/memory.ts';
export { FilesystemKeyValueBackend, type FilesystemKeyValueOptions } from './backends/filesystem.ts';
export type { KeyValueConfig } from './config.ts';
export { PostgresKeyValueBackend, MAX_POSTGRES_KEY_BYTES, type PostgresKeyValueOptions } from './backends/postgres.ts';
export { NatsKeyValueBackend, DEFAULT_NATS_TIMEOUT_MS, type NatsKeyValueOptions } from './backends/nats.ts';
export { keyValueBackends } from './backends/registry.ts';
