import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentEmbed, componentNew, preview1AdapterCommandPath } from '@bytecodealliance/jco';
import { InvalidComponentError, UnsupportedModuleError } from '../errors.ts';
import { renameImports } from './wasm/rename-imports.ts';

const PREVIEW1 = 'wasi_snapshot_preview1';

/** jco's version: its preview1 adapter is part of every wrapped component, so of the cache key. */
export const ADAPTER_VERSION: string = (() => {
  let dir = dirname(createRequire(import.meta.url).resolve('@bytecodealliance/jco'));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (pkg.name === '@bytecodealliance/jco') return `jco@${pkg.version}`;
    } catch {
      // keep walking up
    }
  }
  return 'jco@unknown';
})();
let adapter: Promise<Uint8Array> | undefined;

/**
 * jco's adapter turns `proc_exit(n)` into `wasi:cli/exit.exit(err)`, losing `n`. We route
 * `proc_exit` to a host interface of our own that keeps the code (served by `cliImports`).
 */
export const PREVIEW1_EXIT_INTERFACE = 'wasmhost:preview1/exit@0.1.0';
const EXIT_WIT = `package wasmhost:preview1@0.1.0;
interface exit { exit: func(code: u32); }
world command { import exit; }`;

/**
 * Turns a WASI preview1 command module into a component with the preview1 command adapter
 * that jco ships, so one WASI 0.2 implementation serves both kinds of guest.
 */
export async function wrapPreview1(bytes: Uint8Array, source: string): Promise<Uint8Array> {
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new InvalidComponentError(`${source} is not a valid core module: ${(err as Error).message}`, { cause: err });
  }
  const foreign = WebAssembly.Module.imports(module).filter((i) => i.module !== PREVIEW1);
  if (foreign.length > 0) {
    const names = [...new Set(foreign.map((i) => `${i.module}.${i.name}`))].slice(0, 5).join(', ');
    throw new UnsupportedModuleError(`${source} is a core module that imports ${names}, which is not WASI preview1`, {
      hint: 'core modules must import only wasi_snapshot_preview1; build a component to use other interfaces',
    });
  }
  if (!WebAssembly.Module.exports(module).some((e) => e.name === '_start' && e.kind === 'function')) {
    throw new UnsupportedModuleError(`${source} is a core module without a _start export (only WASI commands can run)`);
  }
  adapter ??= readFile(fileURLToPath(preview1AdapterCommandPath()));
  try {
    const rerouted = renameImports(bytes, [
      { from: { module: PREVIEW1, name: 'proc_exit' }, to: { module: PREVIEW1_EXIT_INTERFACE, name: 'exit' } },
    ]);
    const core = rerouted === bytes ? bytes : await componentEmbed({ binary: rerouted, witSource: EXIT_WIT, world: 'command' });
    return await componentNew(core, [[PREVIEW1, await adapter]]);
  } catch (err) {
    throw new InvalidComponentError(`${source}: wrapping the preview1 module failed: ${(err as Error).message}`, { cause: err });
  }
}
