/**
 * How a call fails. A WIT function with a `result` gets its error record (`{kind, message}`) thrown
 * as a plain value, as jco does. A function without one cannot report a failure to the guest: it
 * traps with a message naming the function (a `WebGpuCallError`), which ends that instance only.
 */
import { WasmhostError } from '../../errors.ts';

export class WebGpuCallError extends WasmhostError {
  override readonly code = 'WASMHOST_WEBGPU_CALL';
}

/** A trap naming the WIT function. */
export function trap(fn: string, message: string, cause?: unknown): never {
  throw new WebGpuCallError(`wasi:webgpu ${fn}: ${message}`, { cause });
}

/** What this host does not offer: there is no surface or canvas to render to or present on. */
export function refused(fn: string): never {
  trap(fn, 'not supported by this host (wasmhost serves WebGPU without surfaces, canvases or graphics-context presentation: compute and offscreen rendering only)');
}

/** Runs a Dawn call; a throw becomes a trap naming the function. */
export function attempt<T>(fn: string, call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof WebGpuCallError) throw err;
    trap(fn, describe(err), err);
  }
}

/** Runs a Dawn call; a throw becomes the function's WIT error `{kind: {tag}, message}`. */
export async function withResult<T>(kinds: Record<string, string>, fallback: string, call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WebGpuCallError) throw err;
    const name = (err as { name?: string })?.name ?? '';
    throw { kind: { tag: kinds[name] ?? fallback }, message: describe(err) };
  }
}

/** `withResult` for functions that return synchronously. */
export function withResultSync<T>(kinds: Record<string, string>, fallback: string, call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof WebGpuCallError) throw err;
    const name = (err as { name?: string })?.name ?? '';
    throw { kind: { tag: kinds[name] ?? fallback }, message: describe(err) };
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** DOMException names (WebGPU's) to the WIT's error kinds. */
export const KINDS = {
  OperationError: 'operation-error',
  RangeError: 'range-error',
  AbortError: 'abort-error',
  TypeError: 'type-error',
} as const;
