/**
 * The limits of one component instance, enforced through the hooks its instrumented core
 * modules call (see instrument.ts) and through the glue (resource handles, host waits):
 *
 * - memory: linear memories plus tables (8 bytes per element) may not pass `memoryBytes`, nor
 *   push the host's `MemoryBudget` past its cap; a growth that would is refused;
 * - time: once `arm`ed for an invocation, a guest past its deadline (wall clock) or its CPU
 *   budget (time spent running guest code, host waits excluded) is stopped at its next fuel
 *   check, or by a timer when it is suspended in a host call;
 * - resource handles: at most `maxResourceHandles` live handles of each resource type.
 */
import { InstanceClosedError, LimitExceededError } from '../../errors.ts';
import { MemoryBudget, formatBytes, type MemoryUser } from './budget.ts';
import { installHooks, wasmHooks, type HookFunctions } from './hooks.ts';
import { HOOK_EXPORTS } from './instrument.ts';

/** The key of the import object under which jco's patched glue finds the limiter. */
export const LIMITS_IMPORT = 'wasmhost:limits';

/** Loop iterations (or tail calls) between two looks at the clock: ~0.1-1 ms of tight loop. */
const FUEL = 100_000;
/** Host calls between two looks at the clock, for the same reason (a host call costs far more than a loop turn). */
const HOST_CALLS_PER_CHECK = 16;
const PAGE = 65536;
const TABLE_ELEMENT_BYTES = 8;

export interface InstanceLimits {
  /** Linear memories and tables of the instance, in bytes. Default: none. */
  memoryBytes?: number;
  /** The host-wide cap this instance also counts toward. */
  budget?: MemoryBudget;
  /** Live handles per resource type. Default: none. */
  maxResourceHandles?: number;
}

export interface InvocationLimits {
  /** Wall-clock time for the invocation, in ms. */
  timeoutMs?: number;
  /** Guest CPU time for the invocation, in ms (time suspended in host calls excluded). */
  cpuMs?: number;
}

type CoreInstantiate = (module: WebAssembly.Module, imports: WebAssembly.Imports) => Promise<WebAssembly.Instance>;

export class Limiter implements MemoryUser, HookFunctions {
  readonly memoryBytes: number;
  readonly maxResourceHandles: number | undefined;
  readonly #budget: MemoryBudget | undefined;
  readonly #fuels: WebAssembly.Global[] = [];
  readonly #memories = new Set<WebAssembly.Memory>();
  readonly #tables = new Set<WebAssembly.Table>();
  #hooks: unknown[] | undefined;
  #makeHooks: (() => unknown[]) | undefined;
  #deadline = Infinity;
  #timeoutMs = 0;
  #cpuMs = Infinity;
  #cpuUsed = 0;
  #runningSince = 0;
  #depth = 0;
  #suspended = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerMs = 0;
  /** Host calls left before the next look at the clocks. */
  #hostCalls = HOST_CALLS_PER_CHECK;
  /** Why a guest released while it ran must stop. */
  #stopping: Error | undefined;
  /** The limit that stopped the guest or refused it memory, if any, since the last `arm`. */
  hit: LimitExceededError | undefined;
  /** Told when the deadline passes (the instance is closed then: it may be suspended, not spinning). */
  onExpire: ((reason: LimitExceededError) => void) | undefined;

  constructor(limits: InstanceLimits = {}) {
    this.memoryBytes = limits.memoryBytes ?? Infinity;
    this.maxResourceHandles = limits.maxResourceHandles;
    this.#budget = limits.budget;
    this.#budget?.add(this);
  }

  /** Replaces `WebAssembly.instantiate` for the glue: wires the hooks of each core instance. */
  readonly instantiateCore: CoreInstantiate = async (module, imports) => {
    // Synchronous: the module is compiled already, and the asynchronous API costs a round trip
    // through V8's task queue (most of a small instance's instantiation, measured).
    const instance = new WebAssembly.Instance(module, imports);
    this.#attach(instance.exports);
    (instance.exports[HOOK_EXPORTS.start] as (() => void) | undefined)?.();
    return instance;
  };

  /** Takes charge of a core instance made for an earlier limiter and restored since (canon/plan.ts). */
  adopt(instance: WebAssembly.Instance): void {
    this.#attach(instance.exports);
  }

  get usedBytes(): number {
    let total = 0;
    for (const m of this.#memories) total += m.buffer.byteLength;
    for (const t of this.#tables) total += t.length * TABLE_ELEMENT_BYTES;
    return total;
  }

  /** Starts an invocation's clocks (and forgets the last one's). */
  arm(limits: InvocationLimits): void {
    this.disarm();
    this.hit = undefined;
    this.#timeoutMs = limits.timeoutMs ?? 0;
    const now = performance.now();
    this.#deadline = this.#timeoutMs > 0 ? now + this.#timeoutMs : Infinity;
    this.#cpuMs = limits.cpuMs && limits.cpuMs > 0 ? limits.cpuMs : Infinity;
    this.#cpuUsed = 0;
    this.#runningSince = now;
    this.#hostCalls = HOST_CALLS_PER_CHECK;
    for (const f of this.#fuels) f.value = FUEL;
    if (this.#timeoutMs > 0) {
      // A warm instance is armed once per invocation: its timer is restarted, not made anew.
      if (this.#timer && this.#timerMs === this.#timeoutMs) this.#timer.refresh();
      else {
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => this.#expire(), this.#timeoutMs).unref();
        this.#timerMs = this.#timeoutMs;
      }
    }
  }

  /** Forgets the invocation's clocks (its timer may still fire: with no deadline, it does nothing). */
  disarm(): void {
    this.#deadline = Infinity;
    this.#cpuMs = Infinity;
  }

  /** Guest code starts running (an export call). */
  enter(): void {
    if (this.#depth++ === 0 && this.#cpuMs !== Infinity) this.#runningSince = performance.now();
  }

  leave(): void {
    if (--this.#depth === 0 && this.#cpuMs !== Infinity) this.#cpuUsed += performance.now() - this.#runningSince;
  }

  /** For jco's glue: wraps a host import in `enterHost` and `suspendedUntil`. */
  timed<F extends (...args: never[]) => unknown>(fn: F): F {
    const limiter = this;
    return function (this: unknown, ...args: never[]) {
      limiter.enterHost();
      const result = fn.apply(this, args) as { finally?: unknown } | undefined;
      if (!result || typeof result.finally !== 'function') return result;
      return limiter.suspendedUntil(result as Promise<unknown>);
    } as F;
  }

  /**
   * The guest calls the host. Its clocks are read every `HOST_CALLS_PER_CHECK` host calls too: a
   * guest may loop through host calls (an output flood) with few fuel checks between them. A guest
   * released mid-call is stopped at its next host call.
   */
  enterHost(): void {
    if (--this.#hostCalls > 0 && !this.#stopping) return;
    this.#hostCalls = HOST_CALLS_PER_CHECK;
    this.#checkClocks();
  }

  /** The host call answered a promise: the time until it settles is not guest CPU time. */
  suspendedUntil<T>(promise: Promise<T>): Promise<T> {
    this.#suspend();
    return promise.finally(() => this.#resume());
  }

  /**
   * Hooks made elsewhere for this limiter's instance, instead of a set of its own (wasmhost's
   * bindings reuse one set per live instance, see canon/import-set.ts).
   */
  shareHooks(make: () => unknown[]): void {
    this.#makeHooks = make;
  }

  /** For the glue: a guest asks for one more handle than its cap. */
  tooManyHandles(): never {
    throw this.#fail('resource-handles', `guest holds more than ${this.maxResourceHandles} live handles of one resource type`);
  }

  /** Stops counting this instance against the host's budget; the instance is over. */
  release(): void {
    // A guest still inside a call (suspended in a host call when its invocation ended or timed
    // out) is stopped at its next fuel check or host call, whichever timer fired first.
    if (this.#depth > 0) {
      this.#stopping = this.hit ?? new InstanceClosedError('instance is closed: its invocation ended while it ran');
      for (const f of this.#fuels) f.value = 0;
    }
    this.disarm();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#budget?.remove(this);
    // The core instance's hooks reach this limiter until a full GC: let go of what it reaches.
    this.onExpire = undefined;
    this.#memories.clear();
    this.#tables.clear();
    // Its instance may serve another limiter next (canon/plan.ts): this one lets go of its fuel.
    if (this.#depth === 0) this.#fuels.length = 0;
  }

  check(): void {
    this.#checkClocks();
    for (const f of this.#fuels) f.value = FUEL;
  }

  #checkClocks(): void {
    // Only inside the call that was running: a later call (jco's glue runs resource destructors
    // from a FinalizationRegistry) must not throw where nobody catches.
    if (this.#stopping && this.#depth > 0) throw this.#stopping;
    if (this.#deadline === Infinity && this.#cpuMs === Infinity) return;
    const now = performance.now();
    if (now > this.#deadline) throw this.#fail('timeout', `guest ran past its time limit of ${formatMs(this.#timeoutMs)}`);
    if (this.#cpuMs !== Infinity && this.#cpuTime(now) > this.#cpuMs) {
      throw this.#fail('cpu', `guest used more than its CPU time limit of ${formatMs(this.#cpuMs)}`);
    }
  }

  growMemory(delta: number): number {
    return this.#admit(delta * PAGE, 'memory') ? delta : -1;
  }

  growTable(delta: number): number {
    return this.#admit(delta * TABLE_ELEMENT_BYTES, 'table') ? delta : -1;
  }

  #admit(bytes: number, what: string): boolean {
    const used = this.usedBytes;
    if (used + bytes > this.memoryBytes) {
      this.hit ??= new LimitExceededError(
        'memory',
        `guest exceeded its memory limit of ${formatBytes(this.memoryBytes)} (a ${what} growth of ${formatBytes(bytes)} at ${formatBytes(used)} was refused)`,
      );
      return false;
    }
    const budget = this.#budget;
    if (budget && budget.usedBytes + bytes > budget.capBytes) {
      this.hit ??= new LimitExceededError(
        'host-memory',
        `the host's guest memory limit of ${formatBytes(budget.capBytes)} is reached (a ${what} growth of ${formatBytes(bytes)} was refused)`,
      );
      return false;
    }
    return true;
  }

  #attach(exports: WebAssembly.Exports): void {
    // Looked up by name (instrument.ts numbers memories and tables from 0): listing every export
    // of every instance was a measurable share of a fresh instance's garbage.
    const fuel = exports[HOOK_EXPORTS.fuel] as WebAssembly.Global | undefined;
    if (fuel) {
      fuel.value = FUEL;
      this.#fuels.push(fuel);
    }
    const table = exports[HOOK_EXPORTS.hooks] as WebAssembly.Table | undefined;
    if (table) {
      this.#hooks ??= this.#makeHooks?.() ?? wasmHooks(this);
      installHooks(table, this.#hooks);
    }
    for (let i = 0, m; (m = exports[`${HOOK_EXPORTS.memoryPrefix}${i}`]); i++) this.#memories.add(m as WebAssembly.Memory);
    for (let i = 0, t; (t = exports[`${HOOK_EXPORTS.tablePrefix}${i}`]); i++) this.#tables.add(t as WebAssembly.Table);
    // A module's initial memory is allocated before any hook can refuse it.
    const used = this.usedBytes;
    if (used > this.memoryBytes) {
      throw this.#fail('memory', `guest needs ${formatBytes(used)} to start, over its memory limit of ${formatBytes(this.memoryBytes)}`);
    }
    const budget = this.#budget;
    if (budget && budget.usedBytes > budget.capBytes) {
      throw this.#fail('host-memory', `the host's guest memory limit of ${formatBytes(budget.capBytes)} is reached: no room for another instance`);
    }
  }

  #cpuTime(now: number): number {
    return this.#cpuUsed + (this.#depth > 0 && this.#suspended === 0 ? now - this.#runningSince : 0);
  }

  // The CPU clock is read only when there is a CPU limit: the clock is a measurable share of a small call.
  #suspend(): void {
    if (this.#suspended++ === 0 && this.#depth > 0 && this.#cpuMs !== Infinity) this.#cpuUsed += performance.now() - this.#runningSince;
  }

  #resume(): void {
    if (--this.#suspended === 0 && this.#cpuMs !== Infinity) this.#runningSince = performance.now();
  }

  #expire(): void {
    // Idle between invocations: nothing to stop (a call without a new `arm` still fails its first check).
    if (this.#depth === 0 || this.#deadline === Infinity) return;
    const err = this.#fail('timeout', `guest ran past its time limit of ${formatMs(this.#timeoutMs)}`);
    this.onExpire?.(err);
  }

  /** Records the limit and empties the fuel, so a guest that catches the error is stopped again at once. */
  #fail(limit: string, message: string): LimitExceededError {
    this.hit = new LimitExceededError(limit, message);
    for (const f of this.#fuels) f.value = 0;
    return this.hit;
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 && ms % 100 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
