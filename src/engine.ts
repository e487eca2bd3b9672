/**
 * `wasmhost/engine`: the engine on its own, with what an embedder needs beyond the root entry to
 * drive it closely: limits (`Limiter`, `MemoryBudget`), core module transforms, a component's
 * world and value types (what `CompiledComponent.exportedFunction` answers), interface names and
 * jco's JavaScript names for WIT ones, and `describeBinary` for code that moves components
 * without running them (the OCI client is given it).
 */
export { Engine, type EngineOptions, type EngineStats } from './engine/engine.ts';
export { CompiledComponent, type ImportObject, type InstantiateOptions } from './engine/component.ts';
export { Instance } from './engine/instance.ts';
export { ComponentError } from './engine/canon/group.ts';
export { Limiter, type InstanceLimits, type InvocationLimits } from './engine/limits/limiter.ts';
export { MemoryBudget } from './engine/limits/budget.ts';
export type { CoreModuleTransform, CoreModuleInfo } from './engine/core-modules.ts';
export type { World, WorldItem } from './engine/world.ts';
export { describeBinary, type BinaryDescription } from './engine/describe.ts';
export type { FuncType, ValType, Primitive, ResourceType } from './engine/component/types.ts';
export {
  parseInterfaceName,
  formatInterfaceName,
  versionsCompatible,
  unversioned,
  camel,
  type InterfaceName,
} from './engine/interface-name.ts';
