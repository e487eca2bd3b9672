/**
 * The limits a host puts on its guests, and how a component's own `localResources` settings
 * combine with the host's defaults (a component's value wins; -1 means "the host's default").
 */
import os from 'node:os';
import { MemoryBudget } from '../engine/limits/budget.ts';
import type { InstanceLimits, InvocationLimits } from '../engine/limits/limiter.ts';
import { durationMs, timerMs } from '../duration.ts';
import { LimitExceededError } from '../errors.ts';
import type { LocalResources } from '../workload/types.ts';
import { Gate } from './gate.ts';
import { DEFAULT_TIME_SLICE_MS } from '../engine/limits/limiter.ts';

export interface HostLimits {
  /** Memory (linear memories + tables) of one instance, MiB, when its component sets none. -1 = none. */
  memoryLimitMb: number;
  /** All guest memory of the host together, MiB. -1 = none. */
  hostMemoryLimitMb: number;
  /** Guest CPU time per invocation, ms, when its component sets none. -1 = none. */
  cpuLimitMs: number;
  /** Wall-clock time per invocation (a request, a message, a call), ms. -1 = none. */
  timeoutMs: number;
  /** Live resource handles per component instance (all types together). -1 = none. */
  maxResourceHandles: number;
  /** Live instances on the host. -1 = none. */
  maxInstances: number;
  /** Live instances of one component (warm pooled ones included). -1 = none. */
  maxInstancesPerComponent: number;
  /** How long an invocation waits for an instance slot before it is turned away, ms. */
  queueTimeoutMs: number;
  /**
   * How long a guest runs before it lets the event loop serve others (its neighbours' requests),
   * ms; it resumes on the next turn. 0 = never (a spinning guest then holds the host until its
   * time limit stops it).
   */
  timeSliceMs: number;
}

export const DEFAULT_HOST_LIMITS: Readonly<HostLimits> = Object.freeze({
  memoryLimitMb: 256,
  hostMemoryLimitMb: Math.floor(os.totalmem() / 2 ** 20 / 2),
  cpuLimitMs: -1,
  timeoutMs: 30_000,
  maxResourceHandles: 10_000,
  maxInstances: 1024,
  maxInstancesPerComponent: 256,
  queueTimeoutMs: 1000,
  timeSliceMs: DEFAULT_TIME_SLICE_MS,
});

const MIB = 2 ** 20;
const limit = (n: number) => (n > 0 ? n : undefined);

/** What applies to one component: its instances' limits and each invocation's clocks. */
export interface ComponentLimits {
  instance: InstanceLimits;
  invocation: InvocationLimits;
}

/** The host's side of limits: its memory budget, its instance slots, its defaults. */
export class HostGuards {
  readonly limits: Readonly<HostLimits>;
  readonly budget: MemoryBudget | undefined;
  readonly #hostSlots: Gate | undefined;
  readonly #componentSlots = new Map<string, Gate>();

  constructor(limits: Partial<HostLimits> = {}) {
    const merged = { ...DEFAULT_HOST_LIMITS, ...limits };
    // Past Node's timer range a wait would end at once: clamped to the longest one it can time.
    this.limits = Object.freeze({ ...merged, timeoutMs: timerMs(merged.timeoutMs), queueTimeoutMs: timerMs(merged.queueTimeoutMs) });
    const cap = limit(this.limits.hostMemoryLimitMb);
    this.budget = cap ? new MemoryBudget(cap * MIB) : undefined;
    const max = limit(this.limits.maxInstances);
    this.#hostSlots = max ? new Gate(max) : undefined;
  }

  /** A component's limits: its own settings, else the host's defaults. Services get no clocks. */
  forComponent(resources: Pick<LocalResources, 'memoryLimitMb' | 'cpuLimit' | 'timeout'>, isService: boolean): ComponentLimits {
    const { limits } = this;
    const memoryMb = limit(resources.memoryLimitMb) ?? limit(limits.memoryLimitMb);
    // The schema has checked the text; a service runs for as long as its workload does.
    const timeoutMs = (resources.timeout === undefined ? undefined : durationMs(resources.timeout)) ?? limit(limits.timeoutMs);
    return {
      instance: {
        memoryBytes: memoryMb ? memoryMb * MIB : undefined,
        budget: this.budget,
        maxResourceHandles: limit(limits.maxResourceHandles),
        timeSliceMs: Math.max(0, limits.timeSliceMs),
      },
      invocation: isService ? {} : { timeoutMs, cpuMs: limit(resources.cpuLimit) ?? limit(limits.cpuLimitMs) },
    };
  }

  /**
   * Takes an instance slot of the host and of the component (`key`), waiting up to the queue
   * timeout; answers the function that gives both back. Past the wait: `LimitExceededError`.
   */
  async acquire(key: string, name: string): Promise<() => void> {
    const perComponent = limit(this.limits.maxInstancesPerComponent);
    let gate = this.#componentSlots.get(key);
    if (!gate && perComponent) this.#componentSlots.set(key, (gate = new Gate(perComponent)));
    const wait = this.limits.queueTimeoutMs;
    if (gate && !(await gate.enter(wait))) {
      throw new LimitExceededError('instances', `component "${name}" is at its limit of ${perComponent} live instances (none freed within ${wait} ms)`);
    }
    if (this.#hostSlots && !(await this.#hostSlots.enter(wait))) {
      gate?.leave();
      throw new LimitExceededError('instances', `the host is at its limit of ${this.limits.maxInstances} live instances (none freed within ${wait} ms)`);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#hostSlots?.leave();
      gate?.leave();
    };
  }

  /** Forgets a stopped workload's component slots. */
  forget(keyPrefix: string): void {
    for (const key of this.#componentSlots.keys()) if (key.startsWith(keyPrefix)) this.#componentSlots.delete(key);
  }
}
