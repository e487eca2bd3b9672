/**
 * Plugin binding, the reference's rules: a component needs a host interface of its workload when
 * every interface named there appears among its imports or exports; each plugin serving such an
 * interface hears `onWorkloadBind` once per workload and `onComponentBind` once per component,
 * which returns the implementations. When a bind fails, every plugin bound so far is unbound.
 *
 * The binder keeps each plugin's per-workload state (what `onWorkloadBind` answered) and hands it
 * to every later hook of the workload: the host owns that bookkeeping, so plugins keep none.
 */
import { parseInterfaceName, unversioned, versionsCompatible } from '../engine/interface-name.ts';
import type { WorldItem } from '../engine/world.ts';
import { MissingImportError, WasmhostError } from '../errors.ts';
import type { Implementations, Plugin, PluginComponent, PluginInterface, PluginWorkload, ResolvedWorkload } from '../plugin/plugin.ts';
import type { WitInterface } from '../workload/types.ts';
import { formatWitInterface } from '../workload/wit-interface.ts';

/** A component (or the service) about to be bound: what it is and what it imports and exports. */
export interface BindUnit {
  info: PluginComponent;
  imports: readonly WorldItem[];
  exports: readonly WorldItem[];
}

/** The result for one unit: implementations keyed as jco wants them, and who serves each key. */
export interface UnitBinding {
  implementations: Record<string, Record<string, unknown>>;
  /** Unversioned interface -> id of the plugin serving it to this unit. */
  servedBy: Map<string, { pluginId: string; version: string }>;
  /** The workload's host interfaces this unit needs (every plugin's), with their config. */
  interfaces: WitInterface[];
}

export class PluginBindError extends WasmhostError {
  override readonly code = 'WASMHOST_PLUGIN_BIND_ERROR';
}

/**
 * A declared `wasi:http` interface on a host without an HTTP server is left unserved rather than
 * refused (as the reference does): a cluster host without `--http-addr` still runs the workload.
 */
function isHttpInterface(w: Pick<WitInterface, 'namespace' | 'package'>): boolean {
  return w.namespace === 'wasi' && w.package === 'http';
}

/** The interface an import or export names, as a host interface (for plugins that serve undeclared). */
function asHostInterface(item: WorldItem): WitInterface | undefined {
  const n = item.interfaceName;
  return n && { namespace: n.namespace, package: n.package, interfaces: [n.interface], version: n.version, config: {} };
}

/** Whether a unit needs `host`: all its interfaces among the unit's imports or exports. */
export function needs(unit: Pick<BindUnit, 'imports' | 'exports'>, host: WitInterface): boolean {
  const items = [...unit.imports, ...unit.exports];
  return host.interfaces.every((iface) =>
    items.some((item) => {
      const n = item.interfaceName;
      return n && n.namespace === host.namespace && n.package === host.package && n.interface === iface && versionsCompatible(n.version, host.version);
    }),
  );
}

/** Whether a plugin serves (or calls) every interface of `host`. */
export function covers(plugin: Plugin, host: Pick<WitInterface, 'namespace' | 'package' | 'interfaces' | 'version'>): boolean {
  const mine = [...plugin.imports, ...(plugin.exports ?? [])].filter(
    (p) => p.namespace === host.namespace && p.package === host.package && versionsCompatible(host.version, p.version),
  );
  return host.interfaces.every((iface) => mine.some((p) => p.interfaces.includes(iface)));
}

/** The version a plugin serves an interface at, if it serves it to components. */
function servedVersion(plugin: Plugin, name: string): string | undefined {
  const n = parseInterfaceName(name);
  return n && plugin.imports.find((p: PluginInterface) => p.namespace === n.namespace && p.package === n.package && p.interfaces.includes(n.interface))?.version;
}

/**
 * Host-wide: how many running workloads of each identity (`namespace/name`) each plugin has bound,
 * so that a plugin's unbind learns whether it was the last replica (`PluginUnbind.lastReplica`).
 */
export class BoundReplicas {
  readonly #count = new Map<string, number>();

  static #key(plugin: Plugin, workload: Pick<PluginWorkload, 'namespace' | 'name'>): string {
    return `${plugin.id}\0${workload.namespace}/${workload.name}`;
  }

  hold(plugin: Plugin, workload: PluginWorkload): void {
    const key = BoundReplicas.#key(plugin, workload);
    this.#count.set(key, (this.#count.get(key) ?? 0) + 1);
  }

  /** Answers whether no other workload of this identity holds the plugin any more. */
  release(plugin: Plugin, workload: PluginWorkload): boolean {
    const key = BoundReplicas.#key(plugin, workload);
    const left = (this.#count.get(key) ?? 1) - 1;
    if (left > 0) this.#count.set(key, left);
    else this.#count.delete(key);
    return left <= 0;
  }
}

/** One plugin bound to the workload, with the state its `onWorkloadBind` answered. */
interface Bound {
  plugin: Plugin;
  workload: PluginWorkload;
  state: unknown;
}

export class PluginBinder {
  readonly #plugins: readonly Plugin[];
  readonly #replicas: BoundReplicas;
  readonly #bound: Bound[] = [];

  constructor(plugins: readonly Plugin[], replicas: BoundReplicas = new BoundReplicas()) {
    this.#plugins = plugins;
    this.#replicas = replicas;
  }

  /** Plugins that heard `onWorkloadBind` (in bind order). */
  get bound(): readonly Plugin[] {
    return this.#bound.map((b) => b.plugin);
  }

  /** `onWorkloadResolved` on every bound plugin, in bind order, each with its state. */
  async resolved(workload: ResolvedWorkload): Promise<void> {
    for (const { plugin, state } of this.#bound) await plugin.onWorkloadResolved?.({ ...workload }, state);
  }

  /** Binds every unit; on failure unbinds what was bound and throws naming what failed. */
  async bind(workload: PluginWorkload, hostInterfaces: readonly WitInterface[], units: readonly BindUnit[]): Promise<UnitBinding[]> {
    try {
      return await this.#bind(workload, hostInterfaces, units);
    } catch (err) {
      await this.unbind();
      throw err;
    }
  }

  async #bind(workload: PluginWorkload, hostInterfaces: readonly WitInterface[], units: readonly BindUnit[]): Promise<UnitBinding[]> {
    // Which plugin serves each needed interface of each unit.
    const plan = units.map((unit) => {
      const perPlugin = new Map<Plugin, WitInterface[]>();
      for (const host of hostInterfaces) {
        if (!needs(unit, host)) continue;
        const plugin = this.#plugins.find((p) => covers(p, host));
        if (!plugin) {
          if (isHttpInterface(host)) continue;
          throw new MissingImportError(
            formatWitInterface(host),
            `component "${unit.info.name}" needs ${formatWitInterface(host)}, which no plugin of this host serves`,
            { hint: `plugins on this host: ${this.#plugins.map((p) => p.id).join(', ') || 'none'}` },
          );
        }
        perPlugin.set(plugin, [...(perPlugin.get(plugin) ?? []), host]);
      }
      // Plugins that serve undeclared interfaces (as WASI is): bound to every unit that uses one.
      for (const item of [...unit.imports, ...unit.exports]) {
        const used = asHostInterface(item);
        const plugin = used && this.#plugins.find((p) => p.servesUndeclared && covers(p, used));
        if (plugin && !perPlugin.has(plugin)) perPlugin.set(plugin, []);
      }
      return perPlugin;
    });

    const states = new Map<Plugin, unknown>();
    for (const plugin of this.#plugins) {
      const interfaces = [...new Set(plan.flatMap((p) => p.get(plugin) ?? []))];
      const used = plan.some((p) => p.has(plugin)) || (plugin.servesUndeclared && hostInterfaces.some((h) => covers(plugin, h)));
      if (!used) continue;
      const seen = { ...workload, interfaces };
      const state = await guarded(plugin, 'onWorkloadBind', () => plugin.onWorkloadBind?.(seen));
      this.#bound.push({ plugin, workload: seen, state });
      this.#replicas.hold(plugin, seen);
      states.set(plugin, state);
    }

    const bindings: UnitBinding[] = [];
    for (const [i, unit] of units.entries()) {
      const binding: UnitBinding = { implementations: {}, servedBy: new Map(), interfaces: [...plan[i].values()].flat() };
      for (const [plugin, interfaces] of plan[i]) {
        const info = { ...unit.info, interfaces, workload: { ...unit.info.workload, interfaces } };
        const provided = await guarded(plugin, 'onComponentBind', () => plugin.onComponentBind?.(info, states.get(plugin)), unit.info.name);
        for (const [name, members] of Object.entries((provided ?? {}) as Implementations)) {
          const key = unversioned(name);
          binding.implementations[key] = { ...binding.implementations[key], ...members };
          binding.servedBy.set(key, { pluginId: plugin.id, version: servedVersion(plugin, name) ?? '' });
        }
      }
      bindings.push(binding);
    }
    return bindings;
  }

  /** `onWorkloadUnbind` on every bound plugin, once, with its state; failures are collected, never thrown. */
  async unbind(): Promise<Error[]> {
    const errors: Error[] = [];
    for (const { plugin, workload, state } of this.#bound.splice(0).reverse()) {
      try {
        const lastReplica = this.#replicas.release(plugin, workload);
        await plugin.onWorkloadUnbind?.({ ...workload, lastReplica }, state);
      } catch (err) {
        errors.push(new PluginBindError(`plugin "${plugin.id}": onWorkloadUnbind failed: ${(err as Error).message}`, { cause: err }));
      }
    }
    return errors;
  }
}

async function guarded<T>(plugin: Plugin, hook: string, body: () => T | Promise<T>, component?: string): Promise<T> {
  try {
    return await body();
  } catch (err) {
    const where = component === undefined ? '' : ` for component "${component}"`;
    throw new PluginBindError(`plugin "${plugin.id}": ${hook}${where} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}
