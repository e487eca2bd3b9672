/**
 * The functions an instrumented module calls through its `__wasmhost_hooks` table. A funcref
 * table holds only Wasm functions, so the JavaScript hooks are imported into a tiny module
 * that re-exports them: what it exports are Wasm functions wrapping the JavaScript ones.
 */
import { encodeName, uleb } from '../wasm/codec.ts';
import { HOOK_SLOT } from './instrument.ts';

export interface HookFunctions {
  /**
   * Called when the fuel runs out: throws to stop the guest, or refuels; answers a promise to
   * suspend the guest (JSPI) when its time slice is used, so that other guests get the loop.
   */
  check(): void | Promise<void>;
  /** Grows a memory (`(instance id << 8) | index`, see instrument.ts): answers its old size in pages, or -1. */
  growMemory(delta: number, memory: number): number;
  /** Answers the delta to grow by: the one asked for, or -1 to make the growth fail. */
  growTable(delta: number, table: number): number;
  /** The size in pages a memory shows its guest. */
  memorySize(memory: number): number;
}

/** In table slot order. */
const NAMES = Object.keys(HOOK_SLOT) as (keyof typeof HOOK_SLOT)[];

const hooksModule = new WebAssembly.Module(assemble());

function section(id: number, entries: number[][]): number[] {
  const payload = [...uleb(entries.length), ...entries.flat()];
  return [id, ...uleb(payload.length), ...payload];
}

function assemble(): Uint8Array<ArrayBuffer> {
  const types = [
    [0x60, 0, 0],
    [0x60, 2, 0x7f, 0x7f, 1, 0x7f],
  ];
  const typeOf = (name: keyof typeof HOOK_SLOT) => (name === 'check' ? 0 : 1);
  const imports = NAMES.map((n) => [...encodeName('hooks'), ...encodeName(n), 0x00, typeOf(n)]);
  const exports = NAMES.map((n, i) => [...encodeName(n), 0x00, i]);
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section(1, types), ...section(2, imports), ...section(7, exports)]);
}

/** JSPI (Node 24): TypeScript's DOM typings do not declare it yet. */
const Suspending = (WebAssembly as unknown as { Suspending: new (fn: (...args: never[]) => unknown) => unknown }).Suspending;

/** The hooks as Wasm functions, in table slot order, for `installHooks`. */
export function wasmHooks(hooks: HookFunctions): unknown[] {
  const instance = new WebAssembly.Instance(hooksModule, {
    hooks: {
      // A fuel check may suspend the guest: it then yields the event loop to others.
      check: new Suspending(() => hooks.check()) as WebAssembly.ImportValue,
      growMemory: (delta: number, memory: number) => hooks.growMemory(delta >>> 0, memory),
      growTable: (delta: number, table: number) => hooks.growTable(delta >>> 0, table),
      memorySize: (_: number, memory: number) => hooks.memorySize(memory),
    },
  });
  return NAMES.map((name) => instance.exports[name]);
}

/** Fills an instrumented module's hooks table (`wasmHooks` answers them in slot order). */
export function installHooks(table: WebAssembly.Table, functions: unknown[]): void {
  functions.forEach((fn, slot) => table.set(slot, fn));
}
