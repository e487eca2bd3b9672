/**
 * The bytes of a component or core module named on the command line: a binary `.wasm`, or the
 * WebAssembly text format (`.wat`, a component or a module, as `wasmtime` takes it), translated
 * with jco's `parse` (wasm-tools), loaded only when text is given.
 */
import { readFile } from 'node:fs/promises';
import { WasmhostError } from '../errors.ts';

/** Text rather than a binary: a `.wat` name, or a file that starts (after comments) with `(`. */
export function isWatText(file: string, bytes: Uint8Array): boolean {
  if (/\.wat$/i.test(file)) return true;
  if (bytes[0] === 0 && bytes[1] === 0x61) return false;
  const head = Buffer.from(bytes.subarray(0, 4096)).toString('utf8');
  return /^(?:\s|;;[^\n]*\n|\(;[\s\S]*?;\))*\((?:module|component)\b/.test(head);
}

export async function readComponentFile(file: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new WasmhostError(`cannot read ${file}: ${why}`, { cause: err });
  }
  return isWatText(file, bytes) ? watToBinary(file, Buffer.from(bytes).toString('utf8')) : bytes;
}

async function watToBinary(file: string, text: string): Promise<Uint8Array> {
  const { parse } = await import('@bytecodealliance/jco');
  try {
    return await parse(text);
  } catch (err) {
    // wasm-tools' error arrives as Rust's debug text: keep the position and the reason.
    const message = String((err as Error)?.message ?? err);
    const where = /line: (\d+), col: (\d+)/.exec(message);
    const why = /Custom\("((?:[^"\\]|\\.)*)"\)/.exec(message)?.[1] ?? /kind: (\w+)/.exec(message)?.[1] ?? message;
    throw new WasmhostError(`${file}${where ? `:${Number(where[1]) + 1}:${Number(where[2]) + 1}` : ''}: invalid WebAssembly text: ${why}`, {
      hint: 'the text format is the one wasm-tools and wasmtime read (.wat)',
      cause: err,
    });
  }
}
