/**
 * `wasmhost/nats`: the production backends on NATS (JetStream key-value and object store, NATS
 * core messaging), for the plugins of the root entry. The NATS client loads on first use.
 */
export { NatsKeyValueBackend, DEFAULT_NATS_TIMEOUT_MS, type NatsKeyValueOptions } from './plugins/keyvalue/index.ts';
export { NatsBlobstoreBackend, DEFAULT_NATS_MAX_OBJECT_SIZE, type NatsBlobstoreOptions } from './plugins/blobstore/index.ts';
export { NatsBroker, type NatsBrokerOptions } from './plugins/messaging/index.ts';
