import type { ImportObject } from '../engine/component.ts';
import { cliImports } from './cli/index.ts';
import { clocksImports } from './clocks/index.ts';
import type { WasiContext } from './context.ts';
import { filesystemImports } from './filesystem/index.ts';
import { ioImports } from './io/index.ts';
import { randomImports } from './random/index.ts';
import { socketsImports } from './sockets/index.ts';

/**
 * The whole WASI 0.2 import object for one instance. Keys carry no version, so a guest built
 * against any 0.2.x binds to the same implementation.
 */
export function createWasiImports(ctx: WasiContext): ImportObject {
  return {
    ...ioImports,
    ...clocksImports(() => ctx.lifetime),
    ...randomImports,
    ...cliImports(ctx),
    ...filesystemImports(ctx),
    ...socketsImports(ctx),
  };
}
