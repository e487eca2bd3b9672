/**
 * How a compiled component's instances are made cheaply (decided once, at compile time):
 *
 * - a module that defines one memory is rewritten to import it (wasm/import-memory.ts), so each
 *   new core instance takes a memory from a pool (a recycled one when small, else a new one);
 * - when every module of the plan holds only state the host can see and put back (its memory
 *   pooled or imported from the group, its mutable globals exported: wasm/export-state.ts), a
 *   finished instance group is restored whole and serves as the next fresh instance
 *   (restore.ts), with no `WebAssembly.Instance` made at all.
 */
import type { Plan } from '../component/plan.ts';
import { readSections, SECTION } from '../wasm/codec.ts';
import { exportState } from '../wasm/export-state.ts';
import { importMemory } from '../wasm/import-memory.ts';
import { IdleMemory, MemoryPool } from './memory-pool.ts';

export interface Recycling {
  /** What finished instances of this component may keep idle. */
  budget: IdleMemory;
  /** Per module: the pool its memory comes from (the module was rewritten to import it). */
  pools: (MemoryPool | undefined)[];
  /** Per module: its exported mutable globals, when a finished group can be restored whole. */
  globals: (string[] | undefined)[];
  /** Whether a finished group can be restored whole. */
  restorable: boolean;
  /**
   * Whether the guest's memory sizes are kept by the host (instrumented modules, see
   * limits/instrument.ts): then a memory that grew can be restored too, showing its first size.
   */
  virtualSizes: boolean;
}

/** Rewrites the modules for recycling where they qualify; answers them with how to recycle. */
export function planRecycling(plan: Plan, modules: readonly Uint8Array[], instrumented: boolean): { modules: Uint8Array[]; recycling: Recycling } {
  const budget = new IdleMemory();
  const out = [...modules];
  const pools: (MemoryPool | undefined)[] = modules.map(() => undefined);
  const globals: (string[] | undefined)[] = modules.map(() => undefined);
  const used = [...new Set(plan.coreInstances.map((c) => c.module))];
  let restorable = used.length > 0;
  for (const m of used) {
    const rewritten = importMemory(out[m]);
    if (rewritten) {
      out[m] = rewritten.bytes;
      pools[m] = new MemoryPool(rewritten.memory, budget);
    } else if (definesMemory(out[m])) {
      restorable = false;
    }
  }
  // The code scan for state the host cannot see runs only when it can pay off.
  for (const m of used) {
    if (!restorable) break;
    const state = exportState(out[m]);
    if (!state) restorable = false;
    else {
      out[m] = state.bytes;
      globals[m] = state.globals;
    }
  }
  if (!restorable) globals.fill(undefined);
  return { modules: out, recycling: { budget, pools, globals, restorable, virtualSizes: instrumented } };
}

function definesMemory(bytes: Uint8Array): boolean {
  return readSections(bytes).some((s) => s.id === SECTION.memory && s.payload[0] !== 0);
}
