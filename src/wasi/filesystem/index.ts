import type { WasiContext } from '../context.ts';

/** `wasi:filesystem/types` and `wasi:filesystem/preopens` for one instance. */
export function filesystemImports(_ctx: WasiContext): Record<string, Record<string, unknown>> {
  return {};
}
