import { ExitError, InstanceClosedError, LimitExceededError, MissingExportError, TrapError, WasmhostError } from '../errors.ts';
import type { Limiter } from './limits/limiter.ts';
import { camel, unversioned } from './interface-name.ts';
import type { CompiledComponent } from './component.ts';

type Fn = (...args: unknown[]) => unknown;

/** Bindings may put a function under this key of their exports: `close` calls it once, so they can free what the instance held. */
export const RELEASE = Symbol('wasmhost.release');

/**
 * One instance of a component. Calls go through `call`, which turns traps into `TrapError`,
 * lets `ExitError` through, and closes the instance after either: a guest that exited or
 * trapped is never entered again.
 */
export class Instance {
  readonly component: CompiledComponent;
  #exports: Record<string, unknown> = {};
  /** The last `call` target looked up (a warm instance is called by the same name again and again). */
  #last: { target: string; fn: Fn } | undefined;
  #closed: Error | undefined;
  #onClose: ((reason: Error) => void) | undefined;
  readonly #limiter: Limiter;

  constructor(component: CompiledComponent, limiter: Limiter, onClose?: (reason: Error) => void) {
    this.component = component;
    this.#onClose = onClose;
    this.#limiter = limiter;
    // Past its deadline while suspended in a host call: closing ends its pending waits.
    limiter.onExpire = (reason) => this.close(reason);
  }

  /** The instance's limits (one without limits when none were given). */
  get limiter(): Limiter {
    return this.#limiter;
  }

  /** @internal set once by `CompiledComponent.instantiate`. */
  bind(exports: Record<string, unknown>): void {
    this.#exports = exports;
    this.#last = undefined;
  }

  /** The glue's export object, as jco shapes it (interfaces as objects of functions). */
  get exports(): Readonly<Record<string, unknown>> {
    return this.#exports;
  }

  /** Why the instance ended (exit or trap), or undefined while it is usable. */
  get closedReason(): Error | undefined {
    return this.#closed;
  }

  /** Ends the instance (its invocation is over, limits, host shutdown); later calls fail with this reason. */
  close(reason: Error): void {
    if (this.#closed) return;
    this.#closed = reason;
    this.#limiter.release();
    (this.#exports as { [RELEASE]?: () => void })[RELEASE]?.();
    this.#onClose?.(reason);
  }

  /**
   * Looks up an export: `add` (a world-level function), `wasi:cli/run#run` or
   * `wasi:cli/run@0.2.3#run` (a function of an exported interface; any version matches).
   */
  getFunction(target: string): Fn {
    const hash = target.indexOf('#');
    if (hash === -1) {
      const fn = this.#exports[target] ?? this.#exports[camel(target)];
      if (typeof fn === 'function') return fn as Fn;
      throw new MissingExportError(`component has no exported function ${target}${this.#listing()}`);
    }
    const iface = target.slice(0, hash);
    const name = target.slice(hash + 1);
    let obj = this.#exports[iface] as Record<string, unknown> | undefined;
    if (obj === undefined) {
      const wanted = unversioned(iface);
      for (const k in this.#exports) {
        if (unversioned(k) === wanted) {
          obj = this.#exports[k] as Record<string, unknown>;
          break;
        }
      }
    }
    if (!obj) throw new MissingExportError(`component does not export ${iface}${this.#listing()}`);
    const fn = obj[name] ?? obj[camel(name)];
    if (typeof fn !== 'function') throw new MissingExportError(`${iface} has no function ${name}`);
    return fn as Fn;
  }

  /** Calls an export (see `getFunction` for names) with jco-convention arguments. */
  call(target: string, ...args: unknown[]): Promise<unknown> {
    let last = this.#last;
    if (last?.target !== target) {
      try {
        last = this.#last = { target, fn: this.getFunction(target) };
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.guard(last.fn, args);
  }

  /**
   * Runs `wasi:cli/run` and answers the exit code: 0 on success, 1 when `run` returns an
   * error, the guest's own code when it calls `exit`. Traps are thrown as `TrapError`.
   */
  async run(): Promise<number> {
    try {
      await this.call('wasi:cli/run#run');
      return 0;
    } catch (err) {
      if (err instanceof ExitError) return err.exitCode;
      if (err instanceof WasmhostError) throw err;
      return 1; // `run` returned `err`: jco throws its error payload.
    }
  }

  /** @internal Runs guest code (`body`, with `args` when given: no closure per call), translating how it ended. */
  async guard<T>(body: (...args: unknown[]) => T | Promise<T>, args?: unknown[]): Promise<T> {
    if (this.#closed) throw new InstanceClosedError(`instance is closed: ${this.#closed.message}`, { cause: this.#closed });
    this.#limiter.enter();
    try {
      return await (args ? body(...args) : body());
    } catch (err) {
      const translated = this.#limitReached(err) ?? translate(err);
      if (translated) {
        this.close(translated);
        throw translated;
      }
      throw err;
    } finally {
      this.#limiter.leave();
    }
  }

  /**
   * A guest stopped by a limit, or one that trapped after a limit refused it memory (an
   * allocator aborts when `memory.grow` fails), is reported as that limit.
   */
  #limitReached(err: unknown): LimitExceededError | undefined {
    if (this.#closed instanceof LimitExceededError) return this.#closed;
    const hit = this.#limiter.hit;
    if (!hit) return undefined;
    if (err === hit) return hit;
    if (!(translate(err) instanceof TrapError)) return undefined;
    return new LimitExceededError(hit.limit, `${hit.message}; the guest then trapped: ${(err as Error).message}`, { cause: err });
  }

  #listing(): string {
    const names = Object.keys(this.#exports).sort();
    return names.length ? ` (exports: ${names.join(', ')})` : '';
  }
}

/** Exit and traps end the instance; anything else (a guest `result` error) does not. */
function translate(err: unknown): WasmhostError | undefined {
  if (err instanceof ExitError) return err;
  if (err instanceof WasmhostError && err.code === 'WASMHOST_LIMIT_EXCEEDED') return err;
  if (err instanceof WebAssembly.RuntimeError) return new TrapError(`guest trapped: ${err.message}`, { cause: err });
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return new TrapError('guest trapped: stack overflow (call stack exhausted)', { cause: err });
  }
  // The glue views guest strings with `new Uint8Array(memory.buffer, ptr, len)`: a pointer or
  // length past the end of memory fails there, as the canonical ABI's bounds check.
  if (err instanceof RangeError && /typed array length|outside the bounds|out of bounds/i.test(err.message)) {
    return new TrapError(`guest trapped: out of bounds memory access (${err.message})`, { cause: err });
  }
  return undefined;
}
