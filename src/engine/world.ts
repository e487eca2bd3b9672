import type { ExportItem, FuncType, ImportItem, Plan } from './component/plan.ts';
import { parseInterfaceName, type InterfaceName } from './interface-name.ts';

/** One import or export of a component's world. */
export interface WorldItem {
  /** As written in WIT: `wasi:cli/environment@0.2.3`, or a bare function name such as `add`. */
  name: string;
  kind: 'interface' | 'function';
  /** Set for interfaces named `ns:pkg/iface[@version]`. */
  interfaceName?: InterfaceName;
  /** A function's type; an interface's functions by name. */
  type?: FuncType;
  functions?: ReadonlyMap<string, FuncType>;
}

export interface World {
  imports: WorldItem[];
  exports: WorldItem[];
}

/** The world a plan imports and exports, as the host links and lists it. */
export function worldOf(plan: Plan): World {
  return {
    imports: plan.imports.filter((i) => i.kind !== 'resource').map(importItem),
    exports: [...plan.exports].filter(([, e]) => e.kind !== 'resource').map(([name, e]) => exportItem(name, e)),
  };
}

function interfaceItem(name: string, functions: ReadonlyMap<string, FuncType>): WorldItem {
  const interfaceName = parseInterfaceName(name);
  return interfaceName ? { name, kind: 'interface', interfaceName, functions } : { name, kind: 'interface', functions };
}

function importItem(i: ImportItem): WorldItem {
  if (i.kind === 'func') return { name: i.name, kind: 'function', type: i.type };
  return interfaceItem(i.name, i.kind === 'instance' ? i.funcs : new Map());
}

function exportItem(name: string, e: ExportItem): WorldItem {
  if (e.kind === 'func') return { name, kind: 'function', type: e.lift.type };
  const functions = new Map<string, FuncType>();
  if (e.kind === 'instance') for (const [n, it] of e.items) if (it.kind === 'func') functions.set(n, it.lift.type);
  return interfaceItem(name, functions);
}
