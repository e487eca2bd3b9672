/**
 * Is this a component? The preamble says so (the engine's `sniffBinary`), and decoding its world
 * on the engine's transpiler thread proves the whole binary is well formed (jco never runs on
 * the host's thread: bytes from a registry must not be able to break it); the world's imports
 * and exports go into the artifact's config, as the Wasm OCI layout asks.
 */
import { sniffBinary } from '../engine/binary.ts';
import { transpiler } from '../engine/transpiler.ts';
import { parseWorld } from '../engine/world.ts';
import { InvalidComponentError, WasmhostError } from '../errors.ts';
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
  let wit: string;
  try {
    wit = await transpiler.wit(bytes, source);
  } catch (err) {
    if (!(err instanceof InvalidComponentError)) throw err; // the transpiler thread failed, not the bytes
    // The engine's message already names `source`: "<source> is not a valid component: <why>".
    throw new OciNotComponentError(err.message.replace(' is not a valid component: ', ' is not a valid WebAssembly component: '), { cause: err, reference: source });
  }
  const world = parseWorld(wit);
  return { imports: world.imports.map((i) => i.name), exports: world.exports.map((e) => e.name) };
}
