/**
 * Is this a component? The preamble says so (the engine's `sniffBinary`), and decoding it into
 * the engine's plan proves its structure is well formed; the world's imports and exports go into
 * the artifact's config, as the Wasm OCI layout asks.
 */
import { sniffBinary } from '../engine/binary.ts';
import { decodeComponent } from '../engine/component/decode.ts';
import { planComponent } from '../engine/component/inline.ts';
import { worldOf, type World } from '../engine/world.ts';
import { InvalidComponentError, UnsupportedComponentError, WasmhostError } from '../errors.ts';
import { OciNotComponentError } from './errors.ts';

export interface ComponentSummary {
  /** World imports and exports as written in WIT: `wasi:cli/environment@0.2.3`, `add`. */
  imports: string[];
  exports: string[];
}

/** Throws `OciNotComponentError` (naming `source`) unless `bytes` is a well-formed component. */
export async function inspectComponent(bytes: Uint8Array, source: string): Promise<ComponentSummary> {
  let kind: string;
  try {
    kind = sniffBinary(bytes, 'it');
  } catch (err) {
    throw new OciNotComponentError(`${source} is not a WebAssembly component: ${(err as WasmhostError).message}`, { cause: err, reference: source });
  }
  if (kind !== 'component') {
    throw new OciNotComponentError(`${source} is a core WebAssembly module, not a component`, {
      reference: source,
      hint: 'registries carry components here; wrap a WASI preview1 module with `jco new --wasi-command` (or wasm-tools component new) first',
    });
  }
  let world: World;
  try {
    world = worldOf(planComponent(decodeComponent(bytes)));
  } catch (err) {
    // A component wasmhost cannot run yet (an async one) is still a component to store.
    if (err instanceof UnsupportedComponentError) return { imports: [], exports: [] };
    if (!(err instanceof InvalidComponentError)) throw err;
    throw new OciNotComponentError(`${source} is not a valid WebAssembly component: ${err.message}`, { cause: err, reference: source });
  }
  return { imports: world.imports.map((i) => i.name), exports: world.exports.map((e) => e.name) };
}
