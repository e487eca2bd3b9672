/**
 * One invocation of a workload component (an HTTP request, a message, a service run): a fresh
 * instance of the entry component, and each linked component instantiated lazily, once, at its
 * first call, each with its own WASI context. Closing the invocation releases them all.
 */
import type { CompiledComponent, ImportObject } from '../engine/component.ts';
import type { Instance } from '../engine/instance.ts';
import { unversioned } from '../engine/interface-name.ts';
import { Limiter, type InvocationLimits } from '../engine/limits/limiter.ts';
import { InstanceClosedError, MissingExportError } from '../errors.ts';
import type { Invocation } from '../plugin/plugin.ts';
import { invocation as invocationEvents } from '../telemetry/channels.ts';
import type { ComponentLimits } from './limits.ts';
import type { ImportProvider } from './link-plan.ts';
import { ResourceBridge } from './resource-bridge.ts';

/** Everything needed to instantiate one component of a resolved workload. */
export interface ComponentRuntime {
  name: string;
  compiled: CompiledComponent;
  /** Unversioned import key -> provider, from the link plan. */
  providers: ReadonlyMap<string, ImportProvider>;
  /**
   * The imports the host serves (WASI with a fresh context, HTTP, plugins) for one new
   * instance, and how to release that instance's host state.
   */
  hostImports(): { imports: ImportObject; release: () => void };
  limits: ComponentLimits;
  /** Takes an instance slot (waiting briefly when the component or host is full); answers its release. */
  acquireSlot(): Promise<() => void>;
}

/** What the one who starts an invocation may tighten (an HTTP route's request timeout). */
export interface InvocationOptions {
  timeoutMs?: number;
}

type Fn = (...args: unknown[]) => unknown;

/** Why the instances of a finished invocation are closed (one error for all: building one per close showed in profiles). */
const INVOCATION_ENDED = new InstanceClosedError('its invocation ended');

export class InvocationScope implements Invocation {
  readonly root: string;
  /** The workload it belongs to, for telemetry. */
  readonly workloadId: string;
  readonly #runtimes: ReadonlyMap<string, ComponentRuntime>;
  readonly #instances = new Map<string, Promise<Instance>>();
  readonly #created: { instance: Instance; runtime: ComponentRuntime }[] = [];
  #options: InvocationOptions = {};
  readonly #releases: (() => void)[] = [];
  /** Only a workload of several components links them (and so has resources crossing). */
  readonly #bridge: ResourceBridge | undefined;
  #closed = false;
  #root: Instance | undefined;
  #lastClocks: { own: InvocationLimits; timeoutMs: number; clocks: InvocationLimits } | undefined;

  constructor(runtimes: ReadonlyMap<string, ComponentRuntime>, root: string, workloadId = '') {
    if (!runtimes.has(root)) throw new MissingExportError(`no component named "${root}" in this workload`);
    this.#runtimes = runtimes;
    this.root = root;
    this.workloadId = workloadId;
    this.#bridge = runtimes.size > 1 ? new ResourceBridge() : undefined;
  }

  /** The components instantiated so far, in order of first use. */
  get instantiated(): string[] {
    return [...this.#instances.keys()];
  }

  /** The instance of a component in this invocation, created on first use. */
  instance(name: string): Promise<Instance> {
    if (this.#closed) return Promise.reject(new InstanceClosedError(`the invocation of "${this.root}" is closed`));
    let instance = this.#instances.get(name);
    if (!instance) {
      instance = this.#create(name);
      this.#instances.set(name, instance);
    }
    return instance;
  }

  call(target: string, ...args: unknown[]): Promise<unknown> {
    // Telemetry listening: the call as an event (telemetry/channels.ts); otherwise one property read.
    if (invocationEvents.start.hasSubscribers) {
      return invocationEvents.tracePromise(() => this.#call(target, args), { workloadId: this.workloadId, component: this.root, target });
    }
    // A warm scope's root instance exists already: no extra turn through a resolved promise.
    const root = this.#root;
    if (root && !this.#closed) return root.call(target, ...args);
    return this.instance(this.root).then((instance) => instance.call(target, ...args));
  }

  #call(target: string, args: unknown[]): Promise<unknown> {
    const root = this.#root;
    if (root && !this.#closed) return root.call(target, ...args);
    return this.instance(this.root).then((instance) => instance.call(target, ...args));
  }

  /** Runs the root's `wasi:cli/run`: its exit code (see `Instance.run`). */
  async run(): Promise<number> {
    if (invocationEvents.start.hasSubscribers) {
      const event = { workloadId: this.workloadId, component: this.root, target: 'wasi:cli/run#run' };
      return invocationEvents.tracePromise(async () => (await this.instance(this.root)).run(), event) as Promise<number>;
    }
    return (await this.instance(this.root)).run();
  }

  /**
   * Whether it may serve another call: open, and none of its instances trapped, exited or was
   * closed (a guest that failed is never entered again).
   */
  get reusable(): boolean {
    return !this.#closed && this.#created.every(({ instance }) => instance.closedReason === undefined);
  }

  /** Whether a guest of this invocation is suspended only until its next time slice (busy, not waiting for anything). */
  get awaitingTurn(): boolean {
    for (const { instance } of this.#created) if (instance.limiter.awaitingTurn) return true;
    return false;
  }

  /** Starts this invocation's clocks on every instance (a pooled scope is armed once per use). */
  arm(options: InvocationOptions = {}): void {
    this.#options = options;
    for (const { instance, runtime } of this.#created) instance.limiter.arm(this.#clocks(runtime));
  }

  #clocks(runtime: ComponentRuntime): InvocationLimits {
    const own = runtime.limits.invocation;
    const { timeoutMs } = this.#options;
    if (!timeoutMs || timeoutMs <= 0) return own;
    // A warm scope is armed with the same options by every request: one object for them all.
    const last = this.#lastClocks;
    if (last?.own === own && last.timeoutMs === timeoutMs) return last.clocks;
    const clocks = { ...own, timeoutMs: Math.min(timeoutMs, own.timeoutMs ?? Infinity) };
    this.#lastClocks = { own, timeoutMs, clocks };
    return clocks;
  }

  /** Same as `close` here; a pooled invocation uses it to say "do not reuse". */
  discard(): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Closed instances are never entered again, and free what they hold (a recycled memory).
    for (const { instance } of this.#created) instance.close(INVOCATION_ENDED);
    for (const release of this.#releases.splice(0)) release();
  }

  async #create(name: string): Promise<Instance> {
    const runtime = this.#runtimes.get(name)!;
    const releaseSlot = await runtime.acquireSlot();
    this.#releases.push(releaseSlot);
    if (this.#closed) throw new InstanceClosedError(`the invocation of "${this.root}" is closed`);
    const { imports, release } = runtime.hostImports();
    const limiter = new Limiter(runtime.limits.instance);
    limiter.arm(this.#clocks(runtime));
    this.#releases.push(release, () => limiter.release());
    for (const [key, provider] of runtime.providers) {
      if (provider.kind === 'component') imports[key] = this.#linked(runtime, provider.component, provider.name);
    }
    // The workload's start checked that every import has a provider (running-workload.ts).
    const instance = await runtime.compiled.instantiate(imports, { onClose: release, limiter, importsChecked: true });
    this.#created.push({ instance, runtime });
    if (name === this.root) this.#root = instance;
    this.#bridge?.registerExports(name, instance.exports);
    return instance;
  }

  /**
   * The import object entry of `importer` for an interface `exporter` exports: functions that
   * instantiate the exporter on first call, and resource classes standing in for its own.
   */
  #linked(importer: ComponentRuntime, exporter: string, name: string): Record<string, unknown> {
    const members = importer.compiled.requiredImports.get(unversioned(name)) ?? [];
    const target = async () => {
      const instance = await this.instance(exporter);
      return { instance, members: exportedInterface(instance, name) };
    };
    const linked: Record<string, unknown> = {};
    for (const member of members) {
      linked[member] = isResourceName(member)
        ? this.#bridge!.standInClass(importer.name, exporter, name, member, target)
        : async (...args: unknown[]) => {
            const { instance, members } = await target();
            return this.#bridge!.cross(importer.name, exporter, instance, members[member] as Fn, args);
          };
    }
    return linked;
  }
}

/** jco names resources in PascalCase and functions in camelCase. */
function isResourceName(member: string): boolean {
  return /^[A-Z]/.test(member);
}

function exportedInterface(instance: Instance, name: string): Record<string, unknown> {
  const exports = instance.exports as Record<string, Record<string, unknown>>;
  const found = exports[name] ?? Object.entries(exports).find(([k]) => unversioned(k) === unversioned(name))?.[1];
  if (!found) throw new MissingExportError(`component does not export ${name}`);
  return found;
}
