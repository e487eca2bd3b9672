import { MissingImportError } from '../errors.ts';
import type { ComponentRuntime } from './canon/runtime.ts';
import type { FuncType, Plan } from './component/plan.ts';
import { camel, unversioned } from './interface-name.ts';
import { Instance } from './instance.ts';
import { Limiter } from './limits/limiter.ts';
import { worldOf, type World, type WorldItem } from './world.ts';

/**
 * What a component instance is given: interface name without version (`wasi:cli/stdout`) mapped
 * to its functions and resource classes, following jco's naming (camelCase functions,
 * PascalCase resources), which host code and plugins are written against. A world-level
 * function import is the function itself under its name.
 */
export type ImportObject = Record<string, Record<string, unknown>>;

export interface InstantiateOptions {
  /** Enforces memory, time and handle limits on the instance (see limits/limiter.ts). */
  limiter?: Limiter;
  /** Called once when the instance ends: exit, trap, a limit, or `Instance.close`. */
  onClose?: (reason: Error) => void;
  /**
   * The caller checked an import object of this shape with `checkImports` already (the host does,
   * once per workload): skip the check, so that lazily built imports are built only when called.
   */
  importsChecked?: boolean;
}

/** A compiled component: core modules compiled once, instantiated any number of times. */
export class CompiledComponent {
  readonly digest: string;
  /** `preview1` when built from a core module through the command adapter. */
  readonly origin: 'component' | 'preview1';
  readonly world: World;
  readonly #runtime: ComponentRuntime;

  constructor(init: { digest: string; origin: 'component' | 'preview1'; runtime: ComponentRuntime }) {
    this.digest = init.digest;
    this.origin = init.origin;
    this.#runtime = init.runtime;
    this.world = worldOf(init.runtime.blueprint.plan);
  }

  get imports(): readonly WorldItem[] {
    return this.world.imports;
  }

  get exports(): readonly WorldItem[] {
    return this.world.exports;
  }

  /** The decoded component: its core instances, trampolines, imports and exports (see component/plan.ts). */
  get plan(): Plan {
    return this.#runtime.blueprint.plan;
  }

  /** @internal The runtime that instantiates it (for tests and benchmarks). */
  get runtime(): ComponentRuntime {
    return this.#runtime;
  }

  /** Whether the world exports this interface (any version) or function. */
  exportsInterface(name: string): boolean {
    const key = unversioned(name);
    return this.world.exports.some((e) => unversioned(e.name) === key);
  }

  /** The type of an exported function, named as `Instance.call` takes it (`add`, `wasi:cli/run#run`); undefined if none. */
  exportedFunction(target: string): FuncType | undefined {
    const hash = target.indexOf('#');
    if (hash === -1) return this.world.exports.find((e) => e.kind === 'function' && (e.name === target || camel(e.name) === target))?.type;
    const iface = unversioned(target.slice(0, hash));
    const name = target.slice(hash + 1);
    const item = this.world.exports.find((e) => e.kind === 'interface' && unversioned(e.name) === iface);
    return item?.functions?.get(name) ?? [...(item?.functions ?? [])].find(([n]) => camel(n) === name)?.[1];
  }

  /**
   * The import keys and member names the component uses, e.g. `wasi:cli/stdout` -> `['getStdout']`:
   * only the functions its code lowers, which may be fewer than its world's interfaces declare.
   */
  get requiredImports(): ReadonlyMap<string, readonly string[]> {
    return this.#runtime.blueprint.required;
  }

  /** Checks an import object against what the component needs; throws naming the first gap. */
  checkImports(imports: ImportObject): void {
    // Runs before every instantiation: the passing case allocates nothing.
    for (const [key, names] of this.requiredImports) {
      const provided = imports[key];
      if (provided && (typeof provided === 'function' || names.every((n) => provided[n] !== undefined))) continue;
      const versioned = this.world.imports.find((i) => unversioned(i.name) === key)?.name ?? key;
      if (!provided) {
        throw new MissingImportError(versioned, `component imports ${versioned}, which nothing provides`, {
          hint: 'grant it through a plugin or remove the import from the component',
        });
      }
      const missing = names.filter((n) => provided[n] === undefined);
      throw new MissingImportError(versioned, `component imports ${versioned}, but the provider lacks ${missing.join(', ')}`);
    }
  }

  async instantiate(imports: ImportObject, options: InstantiateOptions = {}): Promise<Instance> {
    if (!options.importsChecked) this.checkImports(imports);
    // Instrumented modules call their hooks table: every instance needs a limiter, if one without limits.
    const limiter = options.limiter ?? new Limiter();
    const instance = new Instance(this, limiter, options.onClose);
    const exports = await instance.guard(() => this.#runtime.instantiate(imports, limiter));
    instance.bind(exports);
    return instance;
  }
}
