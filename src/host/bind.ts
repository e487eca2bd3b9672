/**
 * Plugin binding, the reference's rules: a component needs a host interface of its workload when
 * every interface named there appears among its imports or exports; each plugin serving such an
 * interface hears `onWorkloadBind` once per workload and `onComponentBind` once per component,
 * which returns the implementations. When a bind fails, every plugin bound so far is unbound.
 */
import { parseInterfaceName, unversioned, versionsCompatible } from '../engine/interface-name.ts';
import type { WorldItem } from '../engine/world.ts';
import { MissingImportError, WasmhostError } from '../errors.ts';
import type { Implementations, Plugin, PluginComponent, PluginInterface, PluginWorkload } from '../plugin/plugin.ts';
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

/** HTTP interfaces are the HTTP handler's, never a plugin's (as in the reference). */
export function isHttpInterface(w: Pick<WitInterface, 'namespace' | 'package'>): boolean {
  return w.namespace === 'wasi' && w.package === 'http';
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

export class PluginBinder {
  readonly #plugins: readonly Plugin[];
  readonly #bound: Plugin[] = [];
  readonly #workloadId: string;

  constructor(plugins: readonly Plugin[], workloadId: string) {
    this.#plugins = plugins;
    this.#workloadId = workloadId;
  }

  /** Plugins that heard `onWorkloadBind` (in bind order). */
  get bound(): readonly Plugin[] {
    return this.#bound;
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
        if (isHttpInterface(host) || !needs(unit, host)) continue;
        const plugin = this.#plugins.find((p) => covers(p, host));
        if (!plugin) {
          throw new MissingImportError(
            formatWitInterface(host),
            `component "${unit.info.name}" needs ${formatWitInterface(host)}, which no plugin of this host serves`,
            { hint: `plugins on this host: ${this.#plugins.map((p) => p.id).join(', ') || 'none'}` },
          );
        }
        perPlugin.set(plugin, [...(perPlugin.get(plugin) ?? []), host]);
      }
      return perPlugin;
    });

    for (const plugin of this.#plugins) {
      const interfaces = [...new Set(plan.flatMap((p) => p.get(plugin) ?? []))];
      if (interfaces.length === 0) continue;
      this.#bound.push(plugin);
      await guarded(plugin, 'onWorkloadBind', () => plugin.onWorkloadBind?.({ ...workload, interfaces }));
    }

    const bindings: UnitBinding[] = [];
    for (const [i, unit] of units.entries()) {
      const binding: UnitBinding = { implementations: {}, servedBy: new Map(), interfaces: [...plan[i].values()].flat() };
      for (const [plugin, interfaces] of plan[i]) {
        const info = { ...unit.info, interfaces, workload: { ...unit.info.workload, interfaces } };
        const provided = await guarded(plugin, 'onComponentBind', () => plugin.onComponentBind?.(info), unit.info.name);
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

  /** `onWorkloadUnbind` on every bound plugin; failures are collected, never thrown. */
  async unbind(): Promise<Error[]> {
    const errors: Error[] = [];
    for (const plugin of this.#bound.splice(0).reverse()) {
      try {
        await plugin.onWorkloadUnbind?.(this.#workloadId);
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
