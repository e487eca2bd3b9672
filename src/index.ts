/**
 * wasmhost's public API: one entry point. The NATS and PostgreSQL storage backends are here too:
 * they load their clients on first use. Parts that load a client as soon as they are imported
 * live on subpaths: `wasmhost/postgres` (the wasmcloud:postgres plugin), `wasmhost/oci` and
 * `wasmhost/washlet` (the cluster host).
 */
export { Engine, type EngineOptions, type EngineStats } from './engine/engine.ts';
export { CompiledComponent, type ImportObject, type InstantiateOptions } from './engine/component.ts';
export { Instance } from './engine/instance.ts';
export { Limiter, type InstanceLimits, type InvocationLimits } from './engine/limits/limiter.ts';
export { MemoryBudget } from './engine/limits/budget.ts';
export type { CoreModuleTransform, CoreModuleInfo } from './engine/core-modules.ts';
export type { World, WorldItem } from './engine/world.ts';
export {
  parseInterfaceName,
  formatInterfaceName,
  versionsCompatible,
  unversioned,
  type InterfaceName,
} from './engine/interface-name.ts';
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
export type { TelemetryOptions } from './telemetry/options.ts';
export { traceLogFields } from './telemetry/channels.ts';
export { DEFAULT_HOST_LIMITS, type HostLimits } from './host/limits.ts';
export type { RunningWorkload } from './host/running-workload.ts';
export type { InvocationScope } from './host/invocation.ts';
export { NoHttpHandler, type HttpHandler } from './host/http.ts';
export type { ImageFetcher } from './host/sources.ts';
export { HttpServer, DEFAULT_ADDRESS, type HttpServerOptions } from './http/server.ts';
export { DevRouter, HostRouter, type Router, type RouteMatch } from './http/router.ts';
export type { WorkloadRoute } from './http/route.ts';
export type { RouteConfig } from './http/route-config.ts';
export { AllowedHosts } from './http/allowed-hosts.ts';
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
export { configPlugin, type ConfigPluginOptions } from './plugins/config/index.ts';
export { loggingPlugin, type LoggingPluginOptions } from './plugins/logging/index.ts';
export {
  messagingPlugin,
  InMemoryBroker,
  NatsBroker,
  BackendUnavailableError,
  type NatsBrokerOptions,
  type MessagingPluginOptions,
  type MessagingBackend,
  type BrokerMessage,
} from './plugins/messaging/index.ts';
export {
  keyValuePlugin,
  MemoryKeyValueBackend,
  FilesystemKeyValueBackend,
  NatsKeyValueBackend,
  PostgresKeyValueBackend,
  KeyValueError,
  type NatsKeyValueOptions,
  type PostgresKeyValueOptions,
  type KeyValuePluginOptions,
  type KeyValueBackend,
} from './plugins/keyvalue/index.ts';
export {
  blobstorePlugin,
  MemoryBlobstoreBackend,
  FilesystemBlobstoreBackend,
  NatsBlobstoreBackend,
  PostgresBlobstoreBackend,
  BlobstoreError,
  type NatsBlobstoreOptions,
  type PostgresBlobstoreOptions,
  type BlobstorePluginOptions,
  type BlobstoreBackend,
} from './plugins/blobstore/index.ts';
export type * from './workload/types.ts';
export { validateWorkload } from './workload/validate.ts';
export { parseWorkloadManifest, loadWorkloadManifest } from './workload/manifest.ts';
export { parseWitInterface, formatWitInterface } from './workload/wit-interface.ts';
export * from './errors.ts';
