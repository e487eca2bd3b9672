import { readFile } from 'node:fs/promises';
import { debuglog } from 'node:util';
import { defaultCacheDir } from '../cache-dir.ts';
import { InvalidComponentError, WasmhostError } from '../errors.ts';
import { sniffBinary } from './binary.ts';
import { makeBlueprint } from './canon/blueprint.ts';
import { planRecycling } from './canon/recycling.ts';
import { ComponentRuntime } from './canon/runtime.ts';
import { CompiledComponent } from './component.ts';
import { decodeComponent } from './component/decode.ts';
import { planComponent } from './component/inline.ts';
import type { Plan } from './component/plan.ts';
import { compileCoreModule, transformCoreModule, type CoreModuleTransform } from './core-modules.ts';
import { DiskCache, sha256 } from './disk-cache.ts';
import { preparer } from './preparer.ts';
import { ADAPTER_VERSION } from './preview1.ts';

const log = debuglog('wasmhost:engine');

/** Bumped whenever preparing (preview1 wrapping, instrumentation) changes what a cache entry holds. */
const PIPELINE_VERSION = 13;

export interface EngineOptions {
  /** Where prepared components (instrumented core modules) are kept between processes; `false` disables the disk cache. */
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
}

/** Counts, for tests and benchmarks: how each compile was served. */
export interface EngineStats {
  memoryHits: number;
  diskHits: number;
  /** Binaries prepared anew (preview1 wrapping, instrumentation): neither cache had them. */
  prepares: number;
}

/**
 * Compiles components (and WASI preview1 command modules) into `CompiledComponent`s: the binary
 * decoded into a plan (component/), its core modules instrumented for limits (on the preparer's
 * thread) and compiled once, run by wasmhost's own canonical ABI (canon/). Caches in memory by
 * digest and on disk by digest + pipeline version + options.
 */
export class Engine {
  readonly cacheDir: string | undefined;
  readonly stats: EngineStats = { memoryHits: 0, diskHits: 0, prepares: 0 };
  readonly #disk: DiskCache | undefined;
  readonly #transforms: CoreModuleTransform[];
  readonly #memory = new Map<string, Promise<CompiledComponent>>();
  readonly #memoryCacheSize: number;
  readonly #instrument: boolean;

  constructor(options: EngineOptions = {}) {
    this.cacheDir = options.cacheDir === false ? undefined : (options.cacheDir ?? defaultCacheDir());
    this.#disk = this.cacheDir ? new DiskCache(this.cacheDir) : undefined;
    this.#transforms = options.coreModuleTransforms ?? [];
    this.#memoryCacheSize = options.memoryCacheSize ?? 100;
    this.#instrument = options.instrument ?? true;
  }

  /** Compiles from bytes or a file path. Concurrent compiles of the same bytes share one job. */
  async compile(input: Uint8Array | string, source?: string): Promise<CompiledComponent> {
    const name = source ?? (typeof input === 'string' ? input : 'component');
    const bytes = typeof input === 'string' ? await readInput(input) : input;
    const kind = sniffBinary(bytes, name);
    const digest = `sha256:${sha256(bytes)}`;
    const key = sha256(
      JSON.stringify([digest, kind, ADAPTER_VERSION, PIPELINE_VERSION, this.#transforms.map((t) => t.id), this.#instrument]),
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
    // A component is decoded here first: a malformed or unsupported one fails before any work.
    let plan = kind === 'component' ? planOf(bytes, source) : undefined;
    let prepared = await this.#disk?.load(key, bytes);
    if (prepared) {
      this.stats.diskHits++;
    } else {
      const started = performance.now();
      prepared = await preparer.prepare({ bytes, kind, source, instrument: this.#instrument });
      this.stats.prepares++;
      log('prepared %s in %dms', source, Math.round(performance.now() - started));
      await this.#disk?.store(key, prepared, bytes);
    }
    plan ??= planOf(prepared.component, source);
    const info = (i: number) => ({ name: `${source} core module ${i}`, index: i, componentDigest: digest });
    const transformed = await Promise.all(prepared.modules.map((data, i) => transformCoreModule(data, info(i), this.#transforms)));
    const { modules, recycling } = planRecycling(plan, transformed, this.#instrument);
    const compiled = await Promise.all(modules.map((data, i) => compileCoreModule(data, info(i))));
    return new CompiledComponent({
      digest,
      origin: kind === 'core-module' ? 'preview1' : 'component',
      runtime: new ComponentRuntime(makeBlueprint(plan, compiled, recycling)),
    });
  }
}

/** The component's plan; the error names the source. */
function planOf(bytes: Uint8Array, source: string): Plan {
  try {
    return planComponent(decodeComponent(bytes));
  } catch (err) {
    if (err instanceof WasmhostError) {
      err.message = `${source} ${err instanceof InvalidComponentError ? 'is not a valid component' : 'cannot run'}: ${err.message}`;
    }
    throw err;
  }
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
