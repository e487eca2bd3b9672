/**
 * wasmhost's public API: one entry point. Heavy parts (network backends, the cluster host,
 * OCI) will live on subpaths so embedding the core never loads their clients.
 */
export { Engine, type EngineOptions, type EngineStats } from './engine/engine.ts';
export { CompiledComponent, type ImportObject, type InstantiateOptions } from './engine/component.ts';
export { Instance } from './engine/instance.ts';
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
export * from './errors.ts';
