import { InvalidComponentError } from '../errors.ts';

/** What a transform is told about the core module it rewrites. */
export interface CoreModuleInfo {
  /** The file name jco gave it (`component.core.wasm`, ...). */
  name: string;
  /** Digest of the component it belongs to. */
  componentDigest: string;
}

/**
 * A rewrite of a core module's bytes before compilation, for an embedder's own instrumentation
 * (wasmhost's limits instrumentation runs earlier, at transpile time, so the disk cache holds
 * it). Transforms run in order; their identity (`id`) is part of the in-memory cache key.
 */
export interface CoreModuleTransform {
  id: string;
  transform(bytes: Uint8Array, info: CoreModuleInfo): Uint8Array | Promise<Uint8Array>;
}

/** Every core module passes through here between the transpiler and `WebAssembly.compile`. */
export async function compileCoreModule(
  bytes: Uint8Array,
  info: CoreModuleInfo,
  transforms: readonly CoreModuleTransform[],
): Promise<WebAssembly.Module> {
  let current = bytes;
  for (const t of transforms) current = await t.transform(current, info);
  try {
    return await WebAssembly.compile(current as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new InvalidComponentError(`core module ${info.name} failed to compile: ${(err as Error).message}`, { cause: err });
  }
}
