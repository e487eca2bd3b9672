import type { WasiContext } from '../context.ts';

/** `wasi:sockets/*` for one instance. */
export function socketsImports(_ctx: WasiContext): Record<string, Record<string, unknown>> {
  return {};
}
