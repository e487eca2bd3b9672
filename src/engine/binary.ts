import { NotWasmError, InvalidComponentError } from '../errors.ts';

/** What a Wasm binary is, read from its 8-byte preamble. */
export type BinaryKind = 'component' | 'core-module';

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

/**
 * Reads the preamble: `\0asm` then a version word. Core modules have version 1 and layer 0;
 * components (the component-model binary format) have layer 1.
 */
export function sniffBinary(bytes: Uint8Array, source = 'input'): BinaryKind {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    const what = bytes.length === 0 ? 'an empty file' : bytes.length < 8 ? `only ${bytes.length} bytes` : 'no \\0asm magic number';
    throw new NotWasmError(`${source} is not a WebAssembly binary (${what})`, {
      hint: 'pass a .wasm component or core module; text (.wat) must be compiled first',
    });
  }
  const layer = bytes[6] | (bytes[7] << 8);
  if (layer === 0 && bytes[4] === 1) return 'core-module';
  if (layer === 1) return 'component';
  throw new InvalidComponentError(
    `${source} has an unsupported WebAssembly version (version ${bytes[4] | (bytes[5] << 8)}, layer ${layer})`,
  );
}
