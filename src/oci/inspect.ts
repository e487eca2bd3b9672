/**
 * Is this a component? The preamble says so (the engine's `sniffBinary`), and decoding its world
 * with wasm-tools (through jco, as the engine does) proves the whole binary is well formed; the
 * world's imports and exports go into the artifact's config, as the Wasm OCI layout asks.
 */
import { componentWit } from '@bytecodealliance/jco';
import { sniffBinary } from '../engine/binary.ts';
import { parseWorld } from '../engine/world.ts';
import { WasmhostError } from '../errors.ts';
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
    wit = await componentWit(bytes);
  } catch (err) {
    const first = String(err instanceof Error ? err.message : err).split('\n').filter(Boolean).slice(0, 2).join(': ');
    throw new OciNotComponentError(`${source} is not a valid WebAssembly component (${first})`, { cause: err, reference: source });
  }
  const world = parseWorld(wit);
  return { imports: world.imports.map((i) => i.name), exports: world.exports.map((e) => e.name) };
}
