/**
 * The context values are lifted and lowered in (the spec's `LiftLowerContext`): one per set of
 * canonical options of an instance group, holding the memory and allocator those options name,
 * the component instance whose handles the values use, and the group's runtime resource types.
 */
import { alignTo } from '../component/types.ts';
import type { ComponentInstanceState, RuntimeResource } from './handles.ts';

export interface Cx {
  memory: WebAssembly.Memory | undefined;
  realloc: ((oldPtr: number, oldSize: number, align: number, size: number) => number) | undefined;
  /** A view on `memory`, replaced when the memory grows (its buffer is replaced). */
  view: DataView;
  inst: ComponentInstanceState;
  /** The group's resource types, by slot. */
  rts: RuntimeResource[];
}

export const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

export function trap(message: string): never {
  throw new WebAssembly.RuntimeError(message);
}

/** A DataView on the current memory (a `memory.grow` replaces the buffer). */
export function view(cx: Cx): DataView {
  const buffer = cx.memory!.buffer;
  if (cx.view.buffer !== buffer) cx.view = new DataView(buffer);
  return cx.view;
}

export function checkRange(cx: Cx, ptr: number, len: number): void {
  if (ptr + len > cx.memory!.buffer.byteLength) {
    trap(`out of bounds memory access: the guest passed ${len} bytes at ${ptr}, past the end of its ${cx.memory!.buffer.byteLength}-byte memory`);
  }
}

/** Space in the guest for a value being lowered, from its `cabi_realloc`; the instance may not call out meanwhile. */
export function alloc(cx: Cx, align: number, size: number): number {
  if (!cx.realloc) trap('the guest exports no cabi_realloc to receive a value');
  const inst = cx.inst;
  const mayLeave = inst.mayLeave;
  inst.mayLeave = false;
  let ptr: number;
  try {
    ptr = cx.realloc(0, 0, align, size) >>> 0;
  } finally {
    inst.mayLeave = mayLeave;
  }
  if (ptr !== alignTo(ptr, align)) trap(`cabi_realloc returned a misaligned pointer ${ptr}`);
  checkRange(cx, ptr, size);
  return ptr;
}
