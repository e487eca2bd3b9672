import { InvalidComponentError } from '../errors.ts';

/** What a transform is told about the core module it rewrites. */
export interface CoreModuleInfo {
  /** For messages: the component and the module's position, `app.wasm core module 1`. */
  name: string;
  /** Position among the component's core modules, in binary order (nested components included). */
  index: number;
  /** Digest of the component it belongs to. */
  componentDigest: string;
}

/**
 * A rewrite of a core module's bytes before compilation, for an embedder's own instrumentation
 * (wasmhost's limits instrumentation runs earlier, on the preparer's thread, so the disk cache
 * holds it). Transforms run in order; their identity (`id`) is part of the in-memory cache key.
 */
export interface CoreModuleTransform {
  id: string;
  transform(bytes: Uint8Array, info: CoreModuleInfo): Uint8Array | Promise<Uint8Array>;
}

/** Every core module passes through the embedder's transforms between the preparer and compilation. */
export async function transformCoreModule(bytes: Uint8Array, info: CoreModuleInfo, transforms: readonly CoreModuleTransform[]): Promise<Uint8Array> {
  let current = bytes;
  for (const t of transforms) current = await t.transform(current, info);
  return current;
}

export async function compileCoreModule(bytes: Uint8Array, info: CoreModuleInfo): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new InvalidComponentError(`core module ${info.name} failed to compile: ${(err as Error).message}`, { cause: err });
  }
}
