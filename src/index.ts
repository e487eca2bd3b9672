/**
 * wasmhost's public API, the root entry: the engine, WASI, the host with its HTTP server, the
 * plugin contract, the built-in plugins with their development backends (memory, filesystem),
 * workloads and errors. It loads no NATS or PostgreSQL client. The rest is on subpaths:
 * `wasmhost/engine` (limits, worlds, value types, interface names), `wasmhost/nats` and
 * `wasmhost/postgres` (production backends, and the wasmcloud:postgres plugin), `wasmhost/oci`
 * and `wasmhost/washlet` (the cluster host).
 */
export { Engine, type EngineOptions } from './engine/engine.ts';
export { CompiledComponent, type ImportObject, type InstantiateOptions } from './engine/component.ts';
export { Instance } from './engine/instance.ts';
export { ComponentError } from './engine/canon/group.ts';
export {
  WasiContext,
  WASI_DEFAULTS,
  type WasiOptions,
  type Preopen,
  type NetworkPolicy,
  type StdinOption,
  type OutputOption,
} from './wasi/context.ts';
export { createWasiImports } from './wasi/imports.ts';
export { Host, HostBuilder, type HostOptions } from './host/host.ts';
export { friendlyName } from './host/heartbeat.ts';
export type { TelemetryOptions } from './telemetry/options.ts';
export { traceLogFields } from './telemetry/channels.ts';
export { DEFAULT_HOST_LIMITS, type HostLimits } from './host/limits.ts';
export type { RunningWorkload } from './host/running-workload.ts';
export type { InvocationScope } from './host/invocation.ts';
export type { ImageFetcher } from './host/sources.ts';
export { HttpServer, DEFAULT_ADDRESS, type HttpServerOptions } from './http/server.ts';
export { DevRouter, HostRouter, type Router, type RouteMatch } from './http/router.ts';
export type { WorkloadRoute } from './http/route.ts';
export type { RouteConfig } from './http/route-config.ts';
export { AllowedHosts } from './http/allowed-hosts.ts';
export { createOutgoingHttpImports, type OutgoingHttpOptions, type OutgoingHttpImports } from './http/outgoing-imports.ts';
export {
  pluginInterface,
  type Plugin,
  type PluginInterface,
  type PluginComponent,
  type PluginWorkload,
  type PluginStartContext,
  type ResolvedWorkload,
  type Invocation,
  type Implementations,
} from './plugin/plugin.ts';
export { defaultPlugins, type DefaultPluginsOptions } from './plugins/defaults.ts';
export { configPlugin, type ConfigPluginOptions } from './plugins/config/index.ts';
export { loggingPlugin, type LoggingPluginOptions } from './plugins/logging/index.ts';
export {
  messagingPlugin,
  InMemoryBroker,
  BackendUnavailableError,
  type MessagingPluginOptions,
  type MessagingBackend,
  type BrokerMessage,
} from './plugins/messaging/index.ts';
export {
  keyValuePlugin,
  MemoryKeyValueBackend,
  FilesystemKeyValueBackend,
  KeyValueError,
  type KeyValuePluginOptions,
  type KeyValueBackend,
} from './plugins/keyvalue/index.ts';
export {
  blobstorePlugin,
  MemoryBlobstoreBackend,
  FilesystemBlobstoreBackend,
  BlobstoreError,
  type BlobstorePluginOptions,
  type BlobstoreBackend,
} from './plugins/blobstore/index.ts';
export type * from './workload/types.ts';
export { validateWorkload } from './workload/validate.ts';
export { parseWorkloadManifest, loadWorkloadManifest } from './workload/manifest.ts';
export { parseWitInterface, formatWitInterface } from './workload/wit-interface.ts';
export * from './errors.ts';
