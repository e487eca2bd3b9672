import { MissingImportError, MissingExportError } from '../errors.ts';
import { unversioned } from './interface-name.ts';
import { Instance } from './instance.ts';
import { Limiter } from './limits/limiter.ts';
import type { World, WorldItem } from './world.ts';

/**
 * The import object jco's glue expects: interface name without version (`wasi:cli/stdout`)
 * mapped to its functions and resource classes, following jco's naming (camelCase functions,
 * PascalCase resources).
 */
export type ImportObject = Record<string, Record<string, unknown>>;

/** Instantiates the component's core modules around `imports`: jco's glue or wasmhost's own plan (see engine.ts). */
export type Bindings = (imports: ImportObject, limiter: Limiter) => Promise<Record<string, unknown>>;

export interface InstantiateOptions {
  /** Enforces memory, time and handle limits on the instance (see limits/limiter.ts). */
  limiter?: Limiter;
  /** Called once when the instance ends: exit, trap, a limit, or `Instance.close`. */
  onClose?: (reason: Error) => void;
}

/** A compiled component: core modules compiled once, instantiated any number of times. */
export class CompiledComponent {
  readonly digest: string;
  /** `preview1` when built from a core module through the command adapter. */
  readonly origin: 'component' | 'preview1';
  readonly world: World;
  readonly wit: string;
  /** Who lifts and lowers values: wasmhost's own canonical ABI (src/engine/canon) or jco's glue. */
  readonly bindings: 'wasmhost' | 'jco';
  readonly #instantiate: Bindings;
  /** Import object key -> names the glue takes from it. */
  readonly #required: Map<string, string[]>;

  constructor(init: {
    digest: string;
    origin: 'component' | 'preview1';
    world: World;
    wit: string;
    instantiate: Bindings;
    /** jco's glue (its imports are read from it), or the members wasmhost's own bindings use. */
    glue: string | Map<string, string[]>;
  }) {
    this.digest = init.digest;
    this.origin = init.origin;
    this.world = init.world;
    this.wit = init.wit;
    this.#instantiate = init.instantiate;
    this.#required = typeof init.glue === 'string' ? requiredImports(init.glue) : init.glue;
    this.bindings = typeof init.glue === 'string' ? 'jco' : 'wasmhost';
  }

  get imports(): readonly WorldItem[] {
    return this.world.imports;
  }

  get exports(): readonly WorldItem[] {
    return this.world.exports;
  }

  /** Whether the world exports this interface (any version) or function. */
  exportsInterface(name: string): boolean {
    const key = unversioned(name);
    return this.world.exports.some((e) => unversioned(e.name) === key);
  }

  /**
   * The import keys and member names the glue needs, e.g. `wasi:cli/stdout` -> `['getStdout']`.
   * Read from the glue so a missing import is reported before the glue would print and throw.
   */
  get requiredImports(): ReadonlyMap<string, readonly string[]> {
    return this.#required;
  }

  /** Checks an import object against what the component needs; throws naming the first gap. */
  checkImports(imports: ImportObject): void {
    // Runs before every instantiation: the passing case allocates nothing.
    for (const [key, names] of this.#required) {
      const provided = imports[key];
      if (provided && names.every((n) => provided[n] !== undefined)) continue;
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
    this.checkImports(imports);
    // Instrumented modules call their hooks table: every instance needs a limiter, if one without limits.
    const limiter = options.limiter ?? new Limiter();
    const instance = new Instance(this, limiter, options.onClose);
    const exports = await instance.guard(() => this.#instantiate(imports, limiter));
    instance.bind(exports);
    return instance;
  }
}

const DESTRUCTURE = /const \{([^}]*)\} = imports\['([^']+)'\];/g;

function requiredImports(glue: string): Map<string, string[]> {
  const required = new Map<string, string[]>();
  for (const m of glue.matchAll(DESTRUCTURE)) {
    const names = m[1].split(',').map((s) => s.split(':')[0].trim()).filter(Boolean);
    required.set(m[2], [...(required.get(m[2]) ?? []), ...names]);
  }
  return required;
}
