/**
 * What inline.ts makes of a component: its instantiation flattened into a list of steps, every
 * nested component inlined (as wasmtime does), so that instantiating it is a loop over core
 * instantiations with no tree to walk and no types to resolve. Indices refer to the plan's own
 * lists; `module` indices are positions in the binary's list of core modules.
 */
import type { StringEncoding } from './ast.ts';
import type { FuncType, ResourceType, ValType } from './types.ts';

/** A core item: an export of a core instance made by an earlier step, or a trampoline. */
export type CoreDef = { kind: 'export'; instance: number; name: string } | { kind: 'trampoline'; index: number };

/** One argument of a core instantiation: an instance made earlier, or a bag of items. */
export type CoreArg = { kind: 'instance'; instance: number } | { kind: 'bag'; items: Map<string, CoreDef> };

export interface CoreInstancePlan {
  module: number;
  args: Map<string, CoreArg>;
}

/** Canonical options, with the component instance whose handles the values use. */
export interface OptionsPlan {
  encoding: StringEncoding;
  memory: CoreDef | undefined;
  realloc: CoreDef | undefined;
  postReturn: CoreDef | undefined;
  /** Component instance (0 is the root, nested ones follow in order of instantiation). */
  instance: number;
}

/** A function lifted out of a component instance: a core function with its type and options. */
export interface LiftPlan {
  core: CoreDef;
  type: FuncType;
  options: number;
}

/** How the host's import object is asked for a function (jco's naming): see canon/host-call.ts. */
export interface HostFunc {
  /** Root import name, `wasi:cli/stdout@0.2.12`, or a world-level function's name. */
  import: string;
  /** The function's name inside the interface, `[method]descriptor.stat`; undefined for a world-level function. */
  name: string | undefined;
  type: FuncType;
}

export type TrampolinePlan =
  /** A host function lowered into a component instance. */
  | { kind: 'host'; func: HostFunc; options: number }
  /** A function lifted by one component instance and lowered into another (a fused adapter). */
  | { kind: 'fused'; callee: LiftPlan; options: number }
  | { kind: 'resource.new' | 'resource.rep' | 'resource.drop'; resource: ResourceType; instance: number };

export type ResourcePlan =
  | { kind: 'host'; type: ResourceType }
  /** Defined by a component instance, with its destructor (a core function of that instance). */
  | { kind: 'guest'; type: ResourceType; instance: number; dtor: CoreDef | undefined };

/** What the component exports, by name: functions, interfaces (instances) and resource types. */
export type ExportItem =
  | { kind: 'func'; lift: LiftPlan }
  | { kind: 'instance'; items: Map<string, ExportItem> }
  | { kind: 'resource'; resource: ResourceType };

/** One import of the component (the root's), with its type, for the world and `--invoke`. */
export type ImportItem =
  | { kind: 'instance'; name: string; funcs: Map<string, FuncType>; resources: Map<string, ResourceType> }
  | { kind: 'func'; name: string; type: FuncType }
  | { kind: 'resource'; name: string; resource: ResourceType };

export interface Plan {
  /** Core instances in instantiation order. */
  coreInstances: CoreInstancePlan[];
  trampolines: TrampolinePlan[];
  options: OptionsPlan[];
  /** Component instances: 1 (the root) plus one per nested instantiation. */
  componentInstances: number;
  /** Resource types by slot (`ResourceType.slot`). */
  resources: ResourcePlan[];
  imports: ImportItem[];
  exports: Map<string, ExportItem>;
}

export type { FuncType, ResourceType, ValType };
