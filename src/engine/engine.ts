import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { debuglog } from 'node:util';
import { MissingExportError, WasmhostError } from '../errors.ts';
import { sniffBinary } from './binary.ts';
import { CompiledComponent, type ImportObject } from './component.ts';
import { LIMITS_IMPORT } from './limits/limiter.ts';
import { compileCoreModule, type CoreModuleTransform } from './core-modules.ts';
import { DiskCache, defaultCacheDir, sha256 } from './disk-cache.ts';
import { TRANSPILE_OPTIONS, TRANSPILER_VERSION } from './transpile.ts';
import { transpiler } from './transpiler.ts';
import { parseWorld } from './world.ts';
import { decodeComponent, Unsupported } from './canon/decode.ts';
import { buildPlan, type Plan, type Recycling } from './canon/plan.ts';
import { InitialState } from './canon/initial-state.ts';
import { MemoryPool } from './canon/memory-pool.ts';
import { importMemory } from './wasm/import-memory.ts';
import { exportState } from './wasm/export-state.ts';

const log = debuglog('wasmhost:engine');

/** The `instantiate` of jco's generated glue. */
type GlueInstantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: ImportObject,
  instantiateCore: (module: WebAssembly.Module, imports: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
) => Promise<Record<string, unknown>>;

/** Bumped whenever preview1 wrapping or glue patching changes what a cache entry holds. */
const PIPELINE_VERSION = 9;

export interface EngineOptions {
  /** Where transpiled components are kept between processes; `false` disables the disk cache. */
  cacheDir?: string | false;
  /** Rewrites applied to every core module before compilation (metering, memory caps). */
  coreModuleTransforms?: CoreModuleTransform[];
  /** Compiled components kept in memory (least recently used are dropped). Default 100. */
  memoryCacheSize?: number;
  /**
   * Instrument core modules for limits (default true). Without it no time, memory or handle
   * limit can be enforced; it exists to measure what the instrumentation costs.
   */
  instrument?: boolean;
  /**
   * Who lifts and lowers values between host and guest. `auto` (default): wasmhost's own
   * canonical ABI for the components it supports (one code module, imported interfaces, see
   * canon/decode.ts), jco's generated glue for the rest. `jco`: always jco (for comparison).
   */
  bindings?: 'auto' | 'jco';
}

/** Counts, for tests and benchmarks: how each compile was served. */
export interface EngineStats {
  memoryHits: number;
  diskHits: number;
  transpiles: number;
}

/**
 * Compiles components (and WASI preview1 command modules) into `CompiledComponent`s.
 * Caches in memory by digest and on disk by digest + transpiler version + options.
 */
export class Engine {
  readonly cacheDir: string | undefined;
  readonly stats: EngineStats = { memoryHits: 0, diskHits: 0, transpiles: 0 };
  readonly #disk: DiskCache | undefined;
  readonly #transforms: CoreModuleTransform[];
  readonly #memory = new Map<string, Promise<CompiledComponent>>();
  readonly #memoryCacheSize: number;
  readonly #instrument: boolean;
  readonly #bindings: 'auto' | 'jco';

  constructor(options: EngineOptions = {}) {
    this.cacheDir = options.cacheDir === false ? undefined : (options.cacheDir ?? defaultCacheDir());
    this.#disk = this.cacheDir ? new DiskCache(this.cacheDir) : undefined;
    this.#transforms = options.coreModuleTransforms ?? [];
    this.#memoryCacheSize = options.memoryCacheSize ?? 100;
    this.#instrument = options.instrument ?? true;
    this.#bindings = options.bindings ?? 'auto';
  }

  /** Compiles from bytes or a file path. Concurrent compiles of the same bytes share one job. */
  async compile(input: Uint8Array | string, source?: string): Promise<CompiledComponent> {
    const name = source ?? (typeof input === 'string' ? input : 'component');
    const bytes = typeof input === 'string' ? await readInput(input) : input;
    const kind = sniffBinary(bytes, name);
    const digest = `sha256:${sha256(bytes)}`;
    const key = sha256(
      JSON.stringify([digest, kind, TRANSPILER_VERSION, PIPELINE_VERSION, TRANSPILE_OPTIONS, this.#transforms.map((t) => t.id), this.#instrument, this.#bindings]),
    );
    const cached = this.#memory.get(key);
    if (cached) {
      this.stats.memoryHits++;
      // Refresh recency: Map iteration order is insertion order.
      this.#memory.delete(key);
      this.#memory.set(key, cached);
      return cached;
    }
    const job = this.#build(bytes, kind, digest, key, name);
    this.#memory.set(key, job);
    job.catch(() => this.#memory.delete(key));
    while (this.#memory.size > this.#memoryCacheSize) this.#memory.delete(this.#memory.keys().next().value!);
    return job;
  }

  async #build(
    bytes: Uint8Array,
    kind: 'component' | 'core-module',
    digest: string,
    key: string,
    source: string,
  ): Promise<CompiledComponent> {
    let hit = await this.#disk?.load(key);
    let gluePath = hit?.gluePath;
    let transpiled = hit;
    if (hit) {
      this.stats.diskHits++;
    } else {
      const started = performance.now();
      const fresh = await transpiler.transpile({ bytes, kind, source, instrument: this.#instrument, checkFraming: true });
      this.stats.transpiles++;
      log('transpiled %s in %dms', source, Math.round(performance.now() - started));
      gluePath = this.#disk ? await this.#disk.store(key, fresh) : undefined;
      transpiled = { ...fresh, gluePath: gluePath ?? '' };
    }
    const t = transpiled!;
    const modules = new Map<string, WebAssembly.Module>();
    await Promise.all(
      [...t.coreModules].map(async ([name, data]) => {
        modules.set(name, await compileCoreModule(data, { name, componentDigest: digest }, this.#transforms));
      }),
    );
    const own = kind === 'component' && this.#bindings === 'auto' ? ownBindings(bytes, modules, source) : undefined;
    if (own) {
      const recycled = await this.#recycling(own.name, t.coreModules.get(own.name)!, digest);
      const { module, recycling } = recycled ?? { module: own.module, recycling: undefined };
      return new CompiledComponent({
        digest,
        origin: 'component',
        world: parseWorld(t.wit),
        wit: t.wit,
        instantiate: (imports, limiter) => own.plan.instantiate(module, imports, limiter, recycling),
        glue: own.plan.requiredImports,
      });
    }
    const url = gluePath
      ? pathToFileURL(gluePath).href
      : `data:text/javascript;base64,${Buffer.from(t.glue).toString('base64')}`;
    let glue: { instantiate?: unknown };
    try {
      glue = await import(url);
    } catch (err) {
      throw new WasmhostError(`${source}: loading the transpiled glue failed: ${(err as Error).message}`, { cause: err });
    }
    if (typeof glue.instantiate !== 'function') throw new WasmhostError(`${source}: transpiled glue has no instantiate()`);
    return new CompiledComponent({
      digest,
      origin: kind === 'core-module' ? 'preview1' : 'component',
      world: parseWorld(t.wit),
      wit: t.wit,
      instantiate: (imports, limiter) => {
        const getCoreModule = (name: string) => {
          const m = modules.get(name);
          if (!m) throw new MissingExportError(`glue asked for unknown core module ${name}`);
          return m;
        };
        // Layered over the caller's object, not a copy of it: WASI's is built lazily (wasi/imports.ts).
        const withLimits = Object.create(imports, { [LIMITS_IMPORT]: { value: limiter } }) as ImportObject;
        return (glue.instantiate as GlueInstantiate)(getCoreModule, withLimits, limiter.instantiateCore);
      },
      glue: t.glue,
    });
  }

  /**
   * The main module compiled again to import its memory, with the pool that supplies it (see
   * canon/memory-pool.ts), when its memory qualifies: small enough to recycle, and the module's
   * only one. Checked on the bytes before the embedder's transforms, confirmed after them. When
   * the module's whole state can be restored too (wasm/export-state.ts), its finished instances
   * serve as new ones.
   */
  async #recycling(name: string, bytes: Uint8Array, digest: string): Promise<{ module: WebAssembly.Module; recycling: Recycling } | undefined> {
    const before = importMemory(bytes);
    if (!before || !MemoryPool.recyclable(before.memory)) return undefined;
    let recycling: Recycling | undefined;
    const rewrite: CoreModuleTransform = {
      id: 'import-memory',
      transform: (b) => {
        const rewritten = importMemory(b);
        const memories = rewritten && MemoryPool.for(rewritten.memory);
        if (!memories) return b;
        const state = exportState(rewritten!.bytes);
        recycling = { memories, initial: state && new InitialState(state.globals) };
        return state?.bytes ?? rewritten!.bytes;
      },
    };
    const module = await compileCoreModule(bytes, { name, componentDigest: digest }, [...this.#transforms, rewrite]);
    return recycling && { module, recycling };
  }
}

/**
 * wasmhost's own bindings for the component, when it has the shape they support: undefined
 * otherwise (jco's glue runs it). The main module is the one jco extracted whose imports and
 * exports are exactly the plan's.
 */
function ownBindings(
  bytes: Uint8Array,
  modules: Map<string, WebAssembly.Module>,
  source: string,
): { plan: Plan; name: string; module: WebAssembly.Module } | undefined {
  let plan: Plan;
  try {
    plan = buildPlan(decodeComponent(bytes));
  } catch (err) {
    if (!(err instanceof Unsupported)) throw err;
    log('%s runs on jco glue: %s', source, err.message);
    return undefined;
  }
  const { shape } = plan;
  for (const [name, module] of modules) {
    const imports = WebAssembly.Module.imports(module);
    const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    const bound = imports.every((i) => i.kind === 'function' && shape.imports.get(i.module)?.has(i.name));
    if (bound && shape.exports.every((e) => exports.has(e.coreName))) return { plan, name, module };
  }
  log('%s runs on jco glue: no core module matches its imports and exports', source);
  return undefined;
}

async function readInput(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new WasmhostError(`cannot read ${path}: ${reason}`, { cause: err });
  }
}
