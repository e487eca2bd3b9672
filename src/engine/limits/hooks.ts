/**
 * The functions an instrumented module calls through its `__wasmhost_hooks` table. A funcref
 * table holds only Wasm functions, so the JavaScript hooks are imported into a tiny module
 * that re-exports them: what it exports are Wasm functions wrapping the JavaScript ones.
 *
 * The fuel check is split in two: a plain import that answers whether the guest should yield,
 * and a JSPI-suspending one called only then. V8 throws `SuspendError` whenever a suspending
 * import is called with no `WebAssembly.promising` on the stack, whatever it returns, and guest
 * code does run so (a `cabi_realloc` or a post-return the host calls directly): a fuel check
 * falling there must not touch the suspending import.
 */
import { encodeName, uleb } from '../wasm/codec.ts';
import { HOOK_SLOT } from './instrument.ts';

export interface HookFunctions {
  /**
   * Called when the fuel runs out: throws to stop the guest, or refuels; answers 1 when the
   * guest's time slice is used and it may be suspended now, so that other guests get the loop.
   */
  check(): number;
  /** Suspends the guest (JSPI) until the event loop's next turn: called when `check` answered 1. */
  nextTurn(): Promise<void>;
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
    [0x60, 0, 1, 0x7f],
  ];
  // Imports: the hooks in slot order (`check` answering i32), then `nextTurn`; one function of
  // its own, the `check` the table holds: `if (call $check) call $nextTurn`.
  const typeOf = (name: keyof typeof HOOK_SLOT) => (name === 'check' ? 2 : 1);
  const imports = [...NAMES.map((n) => [...encodeName('hooks'), ...encodeName(n), 0x00, typeOf(n)]), [...encodeName('hooks'), ...encodeName('nextTurn'), 0x00, 0]];
  const checkImport = NAMES.indexOf('check');
  const nextTurnImport = NAMES.length;
  const check = NAMES.length + 1;
  const body = [0x00, 0x10, ...uleb(checkImport), 0x04, 0x40, 0x10, ...uleb(nextTurnImport), 0x0b, 0x0b];
  const exports = NAMES.map((n, i) => [...encodeName(n), 0x00, ...uleb(n === 'check' ? check : i)]);
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, [[0]]),
    ...section(7, exports),
    ...section(10, [[...uleb(body.length), ...body]]),
  ]);
}

/** JSPI (Node 24): TypeScript's DOM typings do not declare it yet. */
const Suspending = (WebAssembly as unknown as { Suspending: new (fn: (...args: never[]) => unknown) => unknown }).Suspending;

/** The hooks as Wasm functions, in table slot order, for `installHooks`. */
export function wasmHooks(hooks: HookFunctions): unknown[] {
  const instance = new WebAssembly.Instance(hooksModule, {
    hooks: {
      check: () => hooks.check(),
      // Called only when the check said so: the guest then yields the event loop to others.
      nextTurn: new Suspending(() => hooks.nextTurn()) as WebAssembly.ImportValue,
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
