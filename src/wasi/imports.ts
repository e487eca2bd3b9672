import type { ImportObject } from '../engine/component.ts';
import { cliImports } from './cli/index.ts';
import { clocksImports } from './clocks/index.ts';
import { WasiContext } from './context.ts';
import { filesystemImports } from './filesystem/index.ts';
import { ioImports } from './io/index.ts';
import { randomImports } from './random/index.ts';
import { socketsImports } from './sockets/index.ts';

type Group = (ctx: WasiContext) => ImportObject;

/** WASI by package: each builds the functions of its interfaces for one context. */
const GROUPS: Group[] = [
  () => ioImports,
  (ctx) => clocksImports(() => ctx.lifetime),
  () => randomImports,
  cliImports,
  filesystemImports,
  socketsImports,
];

/**
 * The whole WASI 0.2 import object for one instance. Keys carry no version, so a guest built
 * against any 0.2.x binds to the same implementation.
 */
export function createWasiImports(ctx: WasiContext): ImportObject {
  return Object.assign({}, ...GROUPS.map((build) => build(ctx)));
}

const CONTEXT = Symbol('wasi context');
const BUILT = Symbol('wasi groups built');

/**
 * The same import object, each package built on first use: an instance pays only for the
 * interfaces it imports (building all of them was ~4 KB of garbage per fresh instance). Its
 * interfaces live on the prototype, so spreading it copies nothing: add to it by assignment.
 */
export function lazyWasiImports(ctx: WasiContext): ImportObject {
  const imports = Object.create(LazyWasiImports) as ImportObject & { [CONTEXT]: WasiContext; [BUILT]: (ImportObject | undefined)[] };
  imports[CONTEXT] = ctx;
  imports[BUILT] = [];
  return imports;
}

const LazyWasiImports: object = {};
{
  const probe = new WasiContext({});
  GROUPS.forEach((build, group) => {
    for (const key of Object.keys(build(probe))) {
      Object.defineProperty(LazyWasiImports, key, {
        enumerable: true,
        get(this: { [CONTEXT]: WasiContext; [BUILT]: (ImportObject | undefined)[] }) {
          return (this[BUILT][group] ??= GROUPS[group](this[CONTEXT]))[key];
        },
        // An interface served by someone else (a plugin, a linked component) replaces WASI's.
        set(value: unknown) {
          Object.defineProperty(this, key, { value, writable: true, enumerable: true, configurable: true });
        },
      });
    }
  });
  probe.dispose();
}
