/**
 * Who serves each import of each component of a workload: the host's WASI, a bound plugin (the
 * HTTP server among them), or another component's export of the identical `ns:pkg/iface@version`. Pure:
 * it reads compiled worlds and answers a plan or the first problem, deterministically (components
 * in workload order, imports in world order).
 */
import { unversioned, versionsCompatible, type InterfaceName } from '../engine/interface-name.ts';
import type { WorldItem } from '../engine/world.ts';
import { LinkError, MissingImportError } from '../errors.ts';

export type ImportProvider =
  | { kind: 'wasi' }
  | { kind: 'plugin'; pluginId: string }
  | { kind: 'component'; component: string; name: string };

export interface PlanComponent {
  name: string;
  imports: readonly WorldItem[];
  exports: readonly WorldItem[];
  /** Whether other components may link to its exports (the service may not). */
  linkable: boolean;
}

/** Interfaces served by something other than components, as the host knows them. */
export interface HostProviders {
  /** The plugin bound to this component that serves this import, if any. */
  plugin(component: string, item: WorldItem): string | undefined;
  /** Why nothing serves this import, beyond the plain fact (e.g. a plugin exists but is not declared). */
  hint(component: string, item: WorldItem): string | undefined;
}

export interface LinkPlan {
  /** Component name -> unversioned import key (jco's) -> provider. */
  providers: Map<string, Map<string, ImportProvider>>;
  /** Components in dependency order: every component after those it imports from. */
  order: string[];
}

const WASI_PACKAGES = new Set(['cli', 'clocks', 'io', 'random', 'filesystem', 'sockets']);

/** WASI 0.2.x interfaces the host implements itself (and the preview1 adapter's exit hook). */
export function isWasiInterface(name: InterfaceName | undefined): boolean {
  if (!name) return false;
  if (name.namespace === 'wasmhost' && name.package === 'preview1') return true;
  return name.namespace === 'wasi' && WASI_PACKAGES.has(name.package) && versionsCompatible(name.version, '0.2.0');
}

export function planLinks(components: readonly PlanComponent[], host: HostProviders): LinkPlan {
  const exporters = new Map<string, string[]>();
  for (const c of components) {
    if (!c.linkable) continue;
    for (const e of c.exports) {
      if (e.kind !== 'interface') continue;
      exporters.set(e.name, [...(exporters.get(e.name) ?? []), c.name]);
    }
  }

  const providers = new Map<string, Map<string, ImportProvider>>();
  const edges = new Map<string, string[]>();
  for (const c of components) {
    const own = new Map<string, ImportProvider>();
    const deps: string[] = [];
    for (const item of c.imports) {
      const provider = providerOf(c, item, exporters, host);
      own.set(unversioned(item.name), provider);
      if (provider.kind === 'component' && !deps.includes(provider.component)) deps.push(provider.component);
    }
    providers.set(c.name, own);
    edges.set(c.name, deps);
  }
  return { providers, order: dependencyOrder(components.map((c) => c.name), edges) };
}

function providerOf(
  c: PlanComponent,
  item: WorldItem,
  exporters: Map<string, string[]>,
  host: HostProviders,
): ImportProvider {
  if (isWasiInterface(item.interfaceName)) return { kind: 'wasi' };
  const pluginId = host.plugin(c.name, item);
  if (pluginId) return { kind: 'plugin', pluginId };
  const candidates = (exporters.get(item.name) ?? []).filter((n) => n !== c.name);
  if (candidates.length > 1) {
    throw new LinkError(
      `component "${c.name}" imports ${item.name}, which ${candidates.length} components export: ${candidates.map((n) => `"${n}"`).join(', ')}`,
      { hint: 'keep exactly one exporter of an interface that another component imports' },
    );
  }
  if (candidates.length === 1) return { kind: 'component', component: candidates[0], name: item.name };
  const nearMiss = [...exporters.keys()].find((n) => unversioned(n) === unversioned(item.name));
  const hint =
    host.hint(c.name, item) ??
    (nearMiss ? `component "${exporters.get(nearMiss)![0]}" exports ${nearMiss}: linked components must use the identical version` : undefined);
  throw new MissingImportError(
    item.name,
    `component "${c.name}" imports ${item.name}, which nothing serves (no plugin, no component of the workload)`,
    { hint },
  );
}

/** Depth-first topological order; a cycle is an error naming its members in order. */
function dependencyOrder(names: string[], edges: Map<string, string[]>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      throw new LinkError(`components import each other in a cycle: ${cycle.map((n) => `"${n}"`).join(' -> ')}`, {
        hint: 'a component can only be linked to components it does not (indirectly) serve',
      });
    }
    state.set(name, 'visiting');
    path.push(name);
    for (const dep of edges.get(name) ?? []) visit(dep);
    path.pop();
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of names) visit(name);
  return order;
}
