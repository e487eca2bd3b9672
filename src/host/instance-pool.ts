/**
 * Warm instances of one component (`poolSize`): each is reused by later invocations until it has
 * served `maxInvocations` of them or fails (a trap or an exit closes it, and a closed instance
 * is never handed out again). With `poolSize` 0, every invocation gets a fresh instance (a new
 * one, or one restored to its initial state: see canon/plan.ts): full isolation between requests,
 * at the cost of a new WASI context, limits and instance state each. Reuse is faster, but a
 * guest's memory and globals carry over from one request to the next of the same component.
 *
 * A pool grows back to `poolSize` after a burst and would hold that many instances (and their
 * memories) through a quiet night: with `reclaimWindowSeconds`, at the end of each window the
 * idle instances beyond the window's peak in use (at least `reclaimMinInstances`) are closed,
 * least recently used first. The next burst instantiates fresh ones, as a pool that was empty.
 */
import type { Invocation } from '../plugin/plugin.ts';
import type { InvocationOptions, InvocationScope } from './invocation.ts';

interface Warm {
  scope: InvocationScope;
  uses: number;
}

export interface PoolOptions {
  poolSize: number;
  /** 0 = no limit. */
  maxInvocations: number;
  /** 0 or absent = never reclaim. */
  reclaimWindowSeconds?: number;
  reclaimMinInstances?: number;
}

export class InstancePool {
  readonly #create: () => InvocationScope;
  readonly #options: PoolOptions;
  /** Least recently used first: `take` pops the newest, `#reclaim` closes from the front. */
  readonly #idle: Warm[] = [];
  #closed = false;
  #inUse = 0;
  /** The most instances in use at once since the last reclaim. */
  #peak = 0;
  readonly #reclaimTimer: NodeJS.Timeout | undefined;

  constructor(create: () => InvocationScope, options: PoolOptions) {
    this.#create = create;
    this.#options = options;
    const window = options.reclaimWindowSeconds ?? 0;
    if (options.poolSize > 0 && window > 0) {
      // Closing only frees what an instance holds: a failure there leaves nothing to undo.
      this.#reclaimTimer = setInterval(() => this.#reclaim().catch(() => undefined), window * 1000).unref();
    }
  }

  /** Idle warm instances (for tests and status). */
  get idle(): number {
    return this.#idle.length;
  }

  /** Instantiates `poolSize` instances ahead of the first invocation. */
  async warm(): Promise<void> {
    const scopes = Array.from({ length: this.#options.poolSize }, () => this.#create());
    await Promise.all(scopes.map((s) => s.instance(s.root)));
    this.#idle.push(...scopes.map((scope) => ({ scope, uses: 0 })));
  }

  take(options: InvocationOptions = {}): Invocation {
    if (this.#options.poolSize === 0) {
      const scope = this.#create();
      scope.arm(options);
      return scope;
    }
    const warm = this.#idle.pop() ?? { scope: this.#create(), uses: 0 };
    warm.uses++;
    this.#peak = Math.max(this.#peak, ++this.#inUse);
    warm.scope.arm(options);
    return new PooledInvocation(warm, (w, reusable) => this.#giveBack(w, reusable));
  }

  #giveBack(warm: Warm, reusable: boolean): Promise<void> {
    this.#inUse--;
    const { poolSize, maxInvocations } = this.#options;
    const keep =
      reusable && !this.#closed && warm.scope.reusable && (maxInvocations === 0 || warm.uses < maxInvocations) && this.#idle.length < poolSize;
    if (!keep) return warm.scope.close();
    this.#idle.push(warm);
    return Promise.resolve();
  }

  /** Closes the idle instances the last window did not need; the next window starts from now. */
  async #reclaim(): Promise<void> {
    const keep = Math.max(this.#peak, this.#options.reclaimMinInstances ?? 0) - this.#inUse;
    this.#peak = this.#inUse;
    const excess = this.#idle.length - Math.max(keep, 0);
    if (excess <= 0) return;
    await Promise.all(this.#idle.splice(0, excess).map((w) => w.scope.close()));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#reclaimTimer);
    await Promise.all(this.#idle.splice(0).map((w) => w.scope.close()));
  }
}

class PooledInvocation implements Invocation {
  readonly #warm: Warm;
  readonly #giveBack: (warm: Warm, reusable: boolean) => Promise<void>;
  #done = false;

  constructor(warm: Warm, giveBack: (warm: Warm, reusable: boolean) => Promise<void>) {
    this.#warm = warm;
    this.#giveBack = giveBack;
  }

  call(target: string, ...args: unknown[]): Promise<unknown> {
    return this.#warm.scope.call(target, ...args);
  }

  get awaitingTurn(): boolean {
    return this.#warm.scope.awaitingTurn;
  }

  close(): Promise<void> {
    return this.#end(true);
  }

  discard(): Promise<void> {
    return this.#end(false);
  }

  #end(reusable: boolean): Promise<void> {
    if (this.#done) return Promise.resolve();
    this.#done = true;
    return this.#giveBack(this.#warm, reusable);
  }
}
