/**
 * The limits of one component instance, enforced through the hooks its instrumented core
 * modules call (see instrument.ts) and through the canonical ABI (resource handles, host waits):
 *
 * - memory: linear memories plus tables (8 bytes per element) may not pass `memoryBytes`, nor
 *   push the host's `MemoryBudget` past its cap; a growth that would is refused. Memories are
 *   counted at the size their guest sees (see `virtualPages`);
 * - time: once `arm`ed for an invocation, a guest past its deadline (wall clock) or its CPU
 *   budget (time spent running guest code, host waits excluded) is stopped at its next fuel
 *   check, or by a timer when it is suspended in a host call;
 * - resource handles: at most `maxResourceHandles` live handles of each resource type.
 */
import { timerMs } from '../../duration.ts';
import { InstanceClosedError, LimitExceededError } from '../../errors.ts';
import { MemoryBudget, formatBytes, type MemoryUser } from './budget.ts';
import { installHooks, wasmHooks, type HookFunctions } from './hooks.ts';
import { HOOK_EXPORTS } from './instrument.ts';

/**
 * The size in pages a memory shows its guest, where it differs from its buffer's: a memory
 * restored for a new instance keeps the pages it grew into, zeroed, and shows the size a new
 * instance has (canon/restore.ts). Growth within those pages costs nothing.
 */
export const virtualPages = new WeakMap<WebAssembly.Memory, number>();

/** The size in pages a memory shows its guest. */
export function pagesOf(memory: WebAssembly.Memory): number {
  return virtualPages.get(memory) ?? memory.buffer.byteLength / PAGE;
}

/**
 * Loop iterations (or tail calls) between two looks at the clock: ~20-100 us of a tight loop,
 * ~130 us of SpiderMonkey's interpreter running `for (;;) {}` (at 100,000 it was 650 us, more
 * than a time slice). A look costs ~0.2 us.
 */
const FUEL = 20_000;
/** How long a guest runs before it lets the event loop serve others (DESIGN.md, "Scheduling guests"). */
export const DEFAULT_TIME_SLICE_MS = 1;
/** Host calls between two looks at the clock, for the same reason (a host call costs far more than a loop turn). */
const HOST_CALLS_PER_CHECK = 16;
const PAGE = 65536;
const MAX_PAGES = 65536;
const TABLE_ELEMENT_BYTES = 8;

export interface InstanceLimits {
  /** Linear memories and tables of the instance, in bytes. Default: none. */
  memoryBytes?: number;
  /** The host-wide cap this instance also counts toward. */
  budget?: MemoryBudget;
  /** Live resource handles per component instance (all types together). Default: none. */
  maxResourceHandles?: number;
  /**
   * Time a guest runs without a break before it yields the event loop (suspended at its next
   * fuel check, resumed on the next turn), in ms. Default `DEFAULT_TIME_SLICE_MS`; 0 never yields.
   */
  timeSliceMs?: number;
}

/** What the limits instrumentation exports from a core instance (instrument.ts), read once. */
export interface CoreHooks {
  fuel: WebAssembly.Global | undefined;
  table: WebAssembly.Table | undefined;
  id: WebAssembly.Global | undefined;
  memories: WebAssembly.Memory[];
  tables: WebAssembly.Table[];
  /** The module's start function, moved to an export to run once the hooks are in place. */
  start: ((...args: unknown[]) => unknown) | undefined;
}

/** Reads a core instance's instrumentation exports (by name: listing every export was a measurable share of an instance's garbage). */
export function coreHooks(instance: WebAssembly.Instance): CoreHooks {
  const exports = instance.exports;
  const memories: WebAssembly.Memory[] = [];
  for (let i = 0, m; (m = exports[`${HOOK_EXPORTS.memoryPrefix}${i}`]); i++) memories.push(m as WebAssembly.Memory);
  const tables: WebAssembly.Table[] = [];
  for (let i = 0, t; (t = exports[`${HOOK_EXPORTS.tablePrefix}${i}`]); i++) tables.push(t as WebAssembly.Table);
  return {
    fuel: exports[HOOK_EXPORTS.fuel] as WebAssembly.Global | undefined,
    table: exports[HOOK_EXPORTS.hooks] as WebAssembly.Table | undefined,
    id: exports[HOOK_EXPORTS.id] as WebAssembly.Global | undefined,
    memories,
    tables,
    start: exports[HOOK_EXPORTS.start] as CoreHooks['start'],
  };
}

export interface InvocationLimits {
  /** Wall-clock time for the invocation, in ms. */
  timeoutMs?: number;
  /** Guest CPU time for the invocation, in ms (time suspended in host calls excluded). */
  cpuMs?: number;
}

export class Limiter implements MemoryUser, HookFunctions {
  readonly memoryBytes: number;
  readonly maxResourceHandles: number | undefined;
  readonly #budget: MemoryBudget | undefined;
  readonly #fuels: WebAssembly.Global[] = [];
  readonly #memories = new Set<WebAssembly.Memory>();
  /** Per core instance (its id, see instrument.ts): its memories by index. */
  readonly #memoriesById: WebAssembly.Memory[][] = [];
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

  readonly #sliceMs: number;
  /** When the guest's current time slice began. */
  #sliceStart = 0;
  #awaitingTurn = false;
  /** Whether the guest may be suspended now: false while it runs outside JSPI (cabi_realloc, a post-return). */
  mayYield: () => boolean = () => true;

  constructor(limits: InstanceLimits = {}) {
    this.memoryBytes = limits.memoryBytes ?? Infinity;
    this.#sliceMs = limits.timeSliceMs ?? DEFAULT_TIME_SLICE_MS;
    this.maxResourceHandles = limits.maxResourceHandles;
    this.#budget = limits.budget;
    this.#budget?.add(this);
  }

  /**
   * Takes charge of a core instance (its instrumentation's exports, `coreHooks`): fills its hooks
   * table, gives it an id, counts its memories and tables. Called for every new core instance, and
   * for one restored for this limiter's instance (canon/restore.ts).
   */
  adopt(core: CoreHooks): void {
    const { fuel, table, id, memories, tables } = core;
    if (fuel) {
      fuel.value = FUEL;
      this.#fuels.push(fuel);
    }
    if (table) {
      this.#hooks ??= this.#makeHooks?.() ?? wasmHooks(this);
      // A restored core instance holds its group's hooks already (they are made once per group).
      if (table.get(0) !== this.#hooks[0]) installHooks(table, this.#hooks);
    }
    for (const m of memories) this.#memories.add(m);
    if (id) {
      id.value = this.#memoriesById.length;
      this.#memoriesById.push(memories);
    }
    for (const t of tables) this.#tables.add(t);
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

  get usedBytes(): number {
    let total = 0;
    for (const m of this.#memories) total += pagesOf(m) * PAGE;
    for (const t of this.#tables) total += t.length * TABLE_ELEMENT_BYTES;
    return total;
  }

  /** Starts an invocation's clocks (and forgets the last one's). */
  arm(limits: InvocationLimits): void {
    this.disarm();
    this.hit = undefined;
    // Node's timers hold at most 2^31 - 1 ms; a longer one would fire at once.
    this.#timeoutMs = timerMs(limits.timeoutMs ?? 0);
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
    if (this.#depth++ !== 0 || (this.#cpuMs === Infinity && this.#sliceMs <= 0)) return;
    const now = performance.now();
    if (this.#cpuMs !== Infinity) this.#runningSince = now;
    this.#sliceStart = now;
  }

  leave(): void {
    if (--this.#depth === 0 && this.#cpuMs !== Infinity) this.#cpuUsed += performance.now() - this.#runningSince;
  }

  /**
   * The guest calls the host. Its clocks are read every `HOST_CALLS_PER_CHECK` host calls too: a
   * guest may loop through host calls (an output flood, a body streamed to a fast reader) with few
   * fuel checks between them. A guest released mid-call is stopped at its next host call. Answers
   * true when the guest's time slice is used: the caller lets it wait for the next turn
   * (`nextTurn`) before the host call.
   */
  enterHost(): boolean {
    if (--this.#hostCalls > 0 && !this.#stopping) return false;
    this.#hostCalls = HOST_CALLS_PER_CHECK;
    this.#checkClocks();
    return this.#sliceUsed();
  }

  #sliceUsed(): boolean {
    if (this.#sliceMs <= 0 || this.#depth === 0) return false;
    return performance.now() - this.#sliceStart >= this.#sliceMs && this.mayYield();
  }

  /** Resolves on the event loop's next turn, when the guest's next time slice begins (not counted as its CPU time). */
  nextTurn(): Promise<void> {
    this.#awaitingTurn = true;
    return this.suspendedUntil(new Promise<void>((resolve) => setImmediate(resolve))).then(() => {
      this.#awaitingTurn = false;
      this.#sliceStart = performance.now();
    });
  }

  /** Whether the guest is suspended only until its next time slice: it is busy, not waiting for anything. */
  get awaitingTurn(): boolean {
    return this.#awaitingTurn;
  }

  /** The host call answered a promise: the time until it settles is not guest CPU time. */
  suspendedUntil<T>(promise: Promise<T>): Promise<T> {
    this.#suspend();
    return promise.finally(() => this.#resume());
  }

  /**
   * Hooks made elsewhere for this limiter's instance, instead of a set of its own (an instance
   * group makes its hooks once and reuses them, see canon/group.ts).
   */
  shareHooks(make: () => unknown[]): void {
    this.#makeHooks = make;
  }

  /** A guest asks for one more handle than its cap. */
  tooManyHandles(): never {
    throw this.#fail('resource-handles', `guest holds more than ${this.maxResourceHandles} live handles (resources of all types)`);
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
    this.#memoriesById.length = 0;
    this.#tables.clear();
    // Its instance may serve another limiter next (canon/plan.ts): this one lets go of its fuel.
    if (this.#depth === 0) this.#fuels.length = 0;
  }

  /** The fuel ran out: stops a guest past its limits, refuels, and answers 1 when one whose time slice is used should wait for the next turn. */
  check(): number {
    this.#checkClocks();
    for (const f of this.#fuels) f.value = FUEL;
    return this.#sliceUsed() ? 1 : 0;
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

  /**
   * Grows a memory for its guest (`ref`: see instrument.ts) and answers its old size in pages,
   * or -1: past the limits, past 4 GiB or the memory's maximum. Within the pages a restored
   * memory kept, only the size its guest sees moves.
   */
  growMemory(delta: number, ref: number): number {
    const memory = this.#memoryAt(ref);
    const physical = memory.buffer.byteLength / PAGE;
    const current = virtualPages.get(memory) ?? physical;
    const wanted = current + delta;
    if (wanted > MAX_PAGES || !this.#admit(delta * PAGE, 'memory')) return -1;
    if (wanted > physical) {
      try {
        memory.grow(wanted - physical);
      } catch {
        return -1; // past the memory's declared maximum, or V8 could not reserve it
      }
    }
    if (virtualPages.has(memory)) virtualPages.set(memory, wanted);
    return current;
  }

  memorySize(ref: number): number {
    return pagesOf(this.#memoryAt(ref));
  }

  #memoryAt(ref: number): WebAssembly.Memory {
    const memory = this.#memoriesById[ref >>> 8]?.[ref & 0xff];
    if (!memory) throw new WebAssembly.RuntimeError(`unknown memory ${ref & 0xff} of core instance ${ref >>> 8}`);
    return memory;
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
