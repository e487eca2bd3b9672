/**
 * What a binary is, without compiling it: the preamble says core module or component, and a
 * component is decoded and planned into its world. For code that stores or moves components
 * rather than running them (the OCI client is given this to check what it pushes and pulls).
 */
import { sniffBinary } from './binary.ts';
import { decodeComponent } from './component/decode.ts';
import { planComponent } from './component/inline.ts';
import { worldOf, type World } from './world.ts';

export type BinaryDescription = { kind: 'core-module' } | { kind: 'component'; world: World };

/**
 * Throws `NotWasmError` (naming `source`) when `bytes` are not WebAssembly, `InvalidComponentError`
 * when its version is unknown or the component is malformed, and `UnsupportedComponentError` when
 * it is a valid component that this runtime cannot run yet.
 */
export function describeBinary(bytes: Uint8Array, source = 'input'): BinaryDescription {
  if (sniffBinary(bytes, source) === 'core-module') return { kind: 'core-module' };
  return { kind: 'component', world: worldOf(planComponent(decodeComponent(bytes))) };
}
