/**
 * Is this a component? The engine says so: the client is given its `describeBinary` (from
 * `wasmhost/engine`), since `oci` moves bytes and does not import the engine. The world's
 * imports and exports go into the artifact's config, as the Wasm OCI layout asks.
 */
import { InvalidComponentError, NotWasmError, UnsupportedComponentError } from '../errors.ts';
import { OciNotComponentError } from './errors.ts';

/** The engine's `describeBinary`, restated here rather than imported; the shapes match. */
export type DescribeBinary = (
  bytes: Uint8Array,
  source?: string,
) => { kind: 'core-module' } | { kind: 'component'; world: { imports: readonly { name: string }[]; exports: readonly { name: string }[] } };

export interface ComponentSummary {
  /** World imports and exports as written in WIT: `wasi:cli/environment@0.2.3`, `add`. */
  imports: string[];
  exports: string[];
}

/** Throws `OciNotComponentError` (naming `source`) unless `bytes` is a well-formed component. */
export async function inspectComponent(bytes: Uint8Array, source: string, describe: DescribeBinary): Promise<ComponentSummary> {
  let description: ReturnType<DescribeBinary>;
  try {
    description = describe(bytes, 'it');
  } catch (err) {
    // A component wasmhost cannot run yet (an async one) is still a component to store.
    if (err instanceof UnsupportedComponentError) return { imports: [], exports: [] };
    if (err instanceof NotWasmError) throw new OciNotComponentError(`${source} is not a WebAssembly component: ${err.message}`, { cause: err, reference: source });
    if (!(err instanceof InvalidComponentError)) throw err;
    throw new OciNotComponentError(`${source} is not a valid WebAssembly component: ${err.message}`, { cause: err, reference: source });
  }
  if (description.kind !== 'component') {
    throw new OciNotComponentError(`${source} is a core WebAssembly module, not a component`, {
      reference: source,
      hint: 'registries carry components here; wrap a WASI preview1 module with `jco new --wasi-command` (or wasm-tools component new) first',
    });
  }
  const { world } = description;
  return { imports: world.imports.map((i) => i.name), exports: world.exports.map((e) => e.name) };
}
