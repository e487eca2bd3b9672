/**
 * One workload brought to life (the reference's resolution): compile every component and the
 * service, prepare volumes, bind plugins (the HTTP server among them), link components, notify
 * plugins, then run the service. `stop` undoes all of it, and so does a start that fails half way.
 */
import type { Logger } from 'pino';
import type { CompiledComponent, ImportObject } from '../engine/component.ts';
import type { Engine } from '../engine/engine.ts';
import { unversioned, versionsCompatible } from '../engine/interface-name.ts';
import type { WorldItem } from '../engine/world.ts';
import { MissingExportError, WasmhostError } from '../errors.ts';
import type { Invocation, Plugin, PluginComponent, PluginWorkload, ResolvedWorkload } from '../plugin/plugin.ts';
import { pluginCall } from '../telemetry/channels.ts';
import { tracePluginCalls } from '../telemetry/plugin-calls.ts';
import { WasiContext, type OutputOption, type WasiOptions } from '../wasi/context.ts';
import { createWasiImports, lazyWasiImports } from '../wasi/imports.ts';
import type { Component, Service, Workload } from '../workload/types.ts';
import { PluginBinder, type BindUnit, type BoundReplicas } from './bind.ts';
import { InstancePool } from './instance-pool.ts';
import { InvocationScope, type ComponentRuntime, type InvocationOptions } from './invocation.ts';
import type { HostGuards } from './limits.ts';
import { planLinks, type HostProviders } from './link-plan.ts';
import { ServiceRunner, type ServiceOutcome } from './service.ts';
import { loadSource, type ImageFetcher } from './sources.ts';
import { PreparedVolumes } from './volumes.ts';

/** What the host lends a workload. */
export interface HostServices {
  engine: Engine;
  plugins: readonly Plugin[];
  /** Which plugins each workload identity holds bound, host-wide (for `lastReplica`). */
  replicas: BoundReplicas;
  fetcher?: ImageFetcher;
  logger: Logger;
  /** Where guests' stdout and stderr go: the host log (one entry per write), the host's own, or nowhere. */
  guestOutput: 'log' | 'inherit' | 'ignore';
  /** The host's limits: memory budget, instance slots, defaults. */
  guards: HostGuards;
  /** Whether components' `allowedHostLoopbackPorts` count: the host's half of that grant. */
  allowHostLoopback: boolean;
}

/** The name the service has in logs, plugin binds and link errors. */
export const SERVICE_NAME = 'service';

type Unit = {
  name: string;
  spec: Component | Service;
  isService: boolean;
  compiled: CompiledComponent;
  info: PluginComponent;
  /** What each of its instances gets from WASI: worked out once, a fresh context per instance. */
  wasi: WasiOptions;
};

export class RunningWorkload {
  readonly id: string;
  readonly workload: Workload;
  readonly #services: HostServices;
  readonly #binder: PluginBinder;
  #volumes: PreparedVolumes | undefined;
  #runtimes = new Map<string, ComponentRuntime>();
  /** Per component (not the service): where its invocations come from. */
  #pools = new Map<string, InstancePool>();
  #service: ServiceRunner | undefined;
  #stopped = false;

  private constructor(id: string, workload: Workload, services: HostServices) {
    this.id = id;
    this.workload = workload;
    this.#services = services;
    this.#binder = new PluginBinder(services.plugins, services.replicas);
  }

  /** Resolves and starts a workload; throws (after cleaning up) naming what failed. */
  static async start(
    id: string,
    workload: Workload,
    services: HostServices,
    onServiceEnd: (outcome: ServiceOutcome) => void,
  ): Promise<RunningWorkload> {
    const running = new RunningWorkload(id, workload, services);
    try {
      await running.#resolve(onServiceEnd);
      return running;
    } catch (err) {
      await running.stop();
      throw err;
    }
  }

  get componentCount(): number {
    return this.workload.witWorld.components.length + (this.workload.service ? 1 : 0);
  }

  /** A fresh invocation of one component (instances created on demand). */
  invocation(component: string): InvocationScope {
    return new InvocationScope(this.#runtimes, component, this.id);
  }

  async #resolve(onServiceEnd: (outcome: ServiceOutcome) => void): Promise<void> {
    const { workload } = this;
    const log = this.#services.logger.child({ workload: `${workload.namespace}/${workload.name}`, workloadId: this.id });
    const pluginWorkload: PluginWorkload = {
      id: this.id,
      namespace: workload.namespace,
      name: workload.name,
      annotations: workload.annotations,
      interfaces: workload.witWorld.hostInterfaces,
      logger: log,
    };

    // 1. Initialize: compile everything (in parallel) and prepare volumes.
    const specs: [string, Component | Service][] = workload.witWorld.components.map((c) => [c.name, c]);
    if (workload.service) specs.push([SERVICE_NAME, workload.service]);
    const compiled = await Promise.all(specs.map(([name, spec]) => this.#compile(name, spec)));
    this.#volumes = await PreparedVolumes.prepare(workload.volumes, workload.name);
    const volumes = this.#volumes;
    // Volume mounts are checked here, before anything is bound.
    const units: Unit[] = specs.map(([name, spec], i) => ({
      name,
      spec,
      isService: spec === workload.service,
      compiled: compiled[i],
      info: {
        workload: pluginWorkload,
        name,
        config: spec.localResources.config,
        environment: spec.localResources.environment,
        allowedHosts: spec.localResources.allowedHosts,
        interfaces: [],
        imports: compiled[i].imports.map((x) => x.name),
        exports: compiled[i].exports.map((x) => x.name),
        logger: log.child({ component: name }),
      },
      wasi: {
        args: [name],
        env: spec.localResources.environment,
        preopens: volumes.preopens(spec.localResources.volumeMounts),
        stdout: this.#output(name, 'stdout'),
        stderr: this.#output(name, 'stderr'),
        // No general sockets: only the names it may resolve and, where the host agrees, loopback ports.
        network: {
          ipNameLookup: spec.localResources.allowedIpNameLookups,
          hostLoopbackPorts: this.#services.allowHostLoopback ? spec.localResources.allowedHostLoopbackPorts : [],
        },
      },
    }));

    // 2. Bind plugins.
    const bindUnits: BindUnit[] = units.map((u) => ({ info: u.info, imports: u.compiled.imports, exports: u.compiled.exports }));
    const bindings = await this.#binder.bind(pluginWorkload, workload.witWorld.hostInterfaces, bindUnits);
    units.forEach((u, i) => (u.info = { ...u.info, interfaces: bindings[i].interfaces }));

    // 3. Link: who serves every import, in dependency order; a gap, cycle or ambiguity fails here.
    const byName = new Map(units.map((u, i) => [u.name, { unit: u, binding: bindings[i] }]));
    const providers: HostProviders = {
      plugin: (component, item) => {
        const served = byName.get(component)!.binding.servedBy.get(unversioned(item.name));
        return served && versionsCompatible(item.interfaceName?.version ?? '', served.version) ? served.pluginId : undefined;
      },
      hint: (component, item) => this.#undeclaredHint(item),
    };
    const plan = planLinks(
      units.map((u) => ({ name: u.name, imports: u.compiled.imports, exports: u.compiled.exports, linkable: !u.isService })),
      providers,
    );

    for (const name of plan.order) {
      const { unit, binding } = byName.get(name)!;
      const own = plan.providers.get(name)!;
      // With telemetry listening, every plugin call is published (telemetry/plugin-calls.ts), except
      // those of a plugin serving undeclared interfaces: like WASI's, and the HTTP server traces its requests itself.
      const traced = (key: string) => {
        const pluginId = binding.servedBy.get(key)?.pluginId;
        return this.#services.plugins.find((p) => p.id === pluginId)?.servesUndeclared ? undefined : pluginId;
      };
      const hostOwned: ImportObject = pluginCall.start.hasSubscribers
        ? tracePluginCalls(binding.implementations, traced, { workloadId: this.id, component: name })
        : { ...binding.implementations };
      const { guards } = this.#services;
      const slotKey = `${this.id}/${name}`;
      const runtime: ComponentRuntime = {
        name,
        compiled: unit.compiled,
        providers: own,
        hostImports: () => this.#hostImports(unit, hostOwned),
        limits: guards.forComponent(unit.spec.localResources, unit.isService),
        acquireSlot: () => guards.acquire(slotKey, name),
      };
      checkComplete(unit, runtime, hostOwned);
      this.#runtimes.set(name, runtime);
    }

    // Warm instances for components with a pool, before the first request can arrive.
    for (const component of workload.witWorld.components) {
      const pool = new InstancePool(() => this.invocation(component.name), component);
      this.#pools.set(component.name, pool);
      await pool.warm();
    }

    // 4. Notify plugins: triggers subscribe here, the HTTP server adds the workload's route.
    const resolved = this.#resolved(pluginWorkload, units.filter((u) => !u.isService));
    await this.#binder.resolved({ ...resolved, interfaces: pluginWorkload.interfaces });
    log.info({ components: plan.order }, 'workload resolved');

    // 5. Run the service.
    if (workload.service) {
      this.#service = new ServiceRunner({
        start: () => this.invocation(SERVICE_NAME),
        maxRestarts: workload.service.maxRestarts,
        workloadId: this.id,
        logger: log.child({ component: SERVICE_NAME }),
        onEnd: onServiceEnd,
      });
      this.#service.start();
    }
  }

  async #compile(name: string, spec: Component | Service): Promise<CompiledComponent> {
    const what = spec === this.workload.service ? 'the service' : `component "${name}"`;
    try {
      const bytes = await loadSource(spec, this.#services.fetcher);
      return await this.#services.engine.compile(bytes, spec.file ?? name);
    } catch (err) {
      const e = err as WasmhostError;
      throw new WasmhostError(`${what}: ${e.message}`, { cause: err, hint: e.hint });
    }
  }

  /** WASI with a fresh context for one instance, plus the host-owned implementations. */
  #hostImports(unit: Unit, hostOwned: ImportObject): { imports: ImportObject; release: () => void } {
    const ctx = new WasiContext(unit.wasi);
    return { imports: Object.assign(lazyWasiImports(ctx), hostOwned), release: () => ctx.dispose() };
  }

  #output(component: string, stream: 'stdout' | 'stderr'): OutputOption {
    const mode = this.#services.guestOutput;
    if (mode !== 'log') return mode;
    const log = this.#services.logger.child({ workloadId: this.id, component, stream });
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    return (chunk: Uint8Array) => log.info(decoder.decode(chunk).replace(/\n$/, ''));
  }

  /** For an import nothing serves: a plugin would, had the workload declared it. */
  #undeclaredHint(item: WorldItem): string | undefined {
    const n = item.interfaceName;
    if (!n) return undefined;
    const plugin = this.#services.plugins.find((p) =>
      p.imports.some((i) => i.namespace === n.namespace && i.package === n.package && i.interfaces.includes(n.interface) && versionsCompatible(n.version, i.version)),
    );
    return plugin && `plugin "${plugin.id}" serves it: declare "${item.name}" in witWorld.hostInterfaces`;
  }

  #resolved(workload: PluginWorkload, units: Unit[]): ResolvedWorkload {
    return {
      ...workload,
      components: units.map((u) => u.info),
      instantiate: async (component, options) => this.#pooledInvocation(component, options),
      invoke: async (component, target, ...args) => {
        const invocation = this.#pooledInvocation(component);
        try {
          return await invocation.call(target, ...args);
        } finally {
          await invocation.close();
        }
      },
    };
  }

  #pooledInvocation(component: string, options?: InvocationOptions): Invocation {
    if (this.#stopped) throw new WasmhostError(`workload ${this.id} is stopped`);
    const pool = this.#pools.get(component);
    if (!pool) throw new MissingExportError(`no component named "${component}" in workload ${this.id}`);
    return pool.take(options);
  }

  /** Stops the service, unbinds plugins (the HTTP route goes with the server's), removes empty dirs. Idempotent. */
  async stop(): Promise<Error[]> {
    if (this.#stopped) return [];
    this.#stopped = true;
    const errors: Error[] = [];
    await this.#service?.stop();
    errors.push(...(await this.#binder.unbind()));
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
    await this.#volumes?.release();
    this.#services.guards.forget(`${this.id}/`);
    return errors;
  }
}

/** Every import the glue needs is there (WASI, plugins, links), before any instance exists. */
function checkComplete(unit: Unit, runtime: ComponentRuntime, hostOwned: ImportObject): void {
  const probe: ImportObject = { ...WASI_PROBE, ...hostOwned };
  for (const [key, provider] of runtime.providers) {
    if (provider.kind === 'component') {
      probe[key] = Object.fromEntries((unit.compiled.requiredImports.get(key) ?? []).map((m) => [m, true]));
    }
  }
  try {
    unit.compiled.checkImports(probe);
  } catch (err) {
    const e = err as WasmhostError;
    throw new WasmhostError(`component "${unit.name}": ${e.message}`, { cause: err, hint: e.hint });
  }
}

/** WASI's import object shape, for `checkComplete` (a context with nothing granted). */
const WASI_PROBE: ImportObject = createWasiImports(new WasiContext({}));
