/**
 * Turns a decoded component into a plan (plan.ts) by evaluating its definitions at compile time:
 * each index space holds what its entries stand for (an export of a core instance the plan will
 * make, a host function, a function lifted by a component instance, a resolved value type, a
 * resource type), nested components are evaluated where they are instantiated (once per
 * instantiation: their resource types are new each time), and outer aliases read the index
 * spaces of the enclosing definition. What is left is a list of core instantiations with their
 * arguments, the trampolines between them, and what the root imports and exports.
 *
 * Anything the runtime cannot run (the async ABI, values, a start function) is refused here,
 * at compile time, with an error that names it.
 */
import { InvalidComponentError, UnsupportedComponentError } from '../../errors.ts';
import type { Alias, CanonOpts, ComponentAst, Decl, DefValType, ExternDesc, Sort, SortIndex, TypeDef, ValTypeRef } from './ast.ts';
import type { DecodedComponent } from './decode.ts';
import type { CoreArg, CoreDef, ExportItem, FuncType, HostFunc, LiftPlan, OptionsPlan, Plan, ResourcePlan, ResourceType, TrampolinePlan, ValType } from './plan.ts';

type CoreInstanceVal = { kind: 'instance'; instance: number } | { kind: 'bag'; items: Map<string, CoreDef> };
type FuncVal = { kind: 'host'; func: HostFunc } | { kind: 'lifted'; lift: LiftPlan; instance: number };
type TypeVal =
  | { kind: 'value'; type: ValType }
  | { kind: 'func'; type: FuncType }
  | { kind: 'resource'; resource: ResourceType }
  /** Instance and component types are evaluated only where a root import needs them. */
  | { kind: 'instance type' | 'component type'; decls: Decl[]; scope: TypeScope };
type InstanceVal = { items: Map<string, Item> };
type ComponentVal = { ast: ComponentAst; scope: Scope };
type Item =
  | { sort: 'func'; value: FuncVal }
  | { sort: 'type'; value: TypeVal }
  | { sort: 'instance'; value: InstanceVal }
  | { sort: 'component'; value: ComponentVal }
  | { sort: 'core module'; value: number };

/** Type index spaces of instance and component types, which outer aliases walk too. */
interface TypeScope {
  parent: TypeScope | undefined;
  types: TypeVal[];
}

/** One evaluation of a component definition: its index spaces. */
class Scope implements TypeScope {
  readonly parent: Scope | undefined;
  /** The runtime component instance this evaluation is. */
  readonly instance: number;
  readonly coreFuncs: CoreDef[] = [];
  readonly coreTables: CoreDef[] = [];
  readonly coreMemories: CoreDef[] = [];
  readonly coreGlobals: CoreDef[] = [];
  readonly coreTypes: null[] = [];
  readonly coreModules: number[] = [];
  readonly coreInstances: CoreInstanceVal[] = [];
  readonly funcs: FuncVal[] = [];
  readonly types: TypeVal[] = [];
  readonly components: ComponentVal[] = [];
  readonly instances: InstanceVal[] = [];
  readonly exports = new Map<string, Item>();

  constructor(parent: Scope | undefined, instance: number) {
    this.parent = parent;
    this.instance = instance;
  }
}

/** Component instances, and core instances, one component may make. */
const MAX_INSTANCES = 10_000;

const PRIMITIVE_TYPES = new Map<string, ValType>();
function primitive(name: string): ValType {
  if (name === 'error-context') throw new UnsupportedComponentError('the error-context type (WASI 0.3)');
  let t = PRIMITIVE_TYPES.get(name);
  if (!t) PRIMITIVE_TYPES.set(name, (t = { kind: name } as ValType));
  return t;
}

export function planComponent(decoded: DecodedComponent): Plan {
  return new Inliner(decoded).plan();
}

class Inliner {
  readonly #moduleCount: number;
  readonly #plan: Plan = {
    coreInstances: [],
    trampolines: [],
    options: [],
    componentInstances: 0,
    resources: [],
    imports: [],
    exports: new Map(),
  };
  readonly #root: ComponentAst;

  constructor(decoded: DecodedComponent) {
    this.#root = decoded.root;
    this.#moduleCount = decoded.modules.length;
  }

  plan(): Plan {
    const scope = this.#evaluate(this.#root, undefined, undefined);
    for (const [name, item] of scope.exports) {
      const exported = this.#exportItem(name, item, '');
      if (exported) this.#plan.exports.set(name, exported);
    }
    return this.#plan;
  }

  // --- component evaluation ------------------------------------------------------------------

  /** Evaluates a component's definitions; `args` is undefined for the root (its imports are the host's). */
  #evaluate(ast: ComponentAst, parent: Scope | undefined, args: Map<string, Item> | undefined): Scope {
    // Nested instantiations multiply (a component instantiating another twice, at every level):
    // a plan is bounded, so a small binary cannot ask for an unbounded amount of work.
    if (this.#plan.componentInstances >= MAX_INSTANCES || this.#plan.coreInstances.length >= MAX_INSTANCES) {
      throw new UnsupportedComponentError(`more than ${MAX_INSTANCES} component or core instances in one component`);
    }
    const scope = new Scope(parent, this.#plan.componentInstances++);
    for (const d of ast.definitions) {
      switch (d.kind) {
        case 'core module':
          if (d.module >= this.#moduleCount) throw new InvalidComponentError(`core module ${d.module} does not exist`);
          scope.coreModules.push(d.module);
          break;
        case 'core instance':
          scope.coreInstances.push(this.#coreInstance(scope, d.instance));
          break;
        case 'core type':
          scope.coreTypes.push(null);
          break;
        case 'component':
          scope.components.push({ ast: d.component, scope });
          break;
        case 'instance':
          scope.instances.push(this.#instance(scope, d.instance));
          break;
        case 'alias':
          this.#push(scope, d.alias.sort, this.#alias(scope, d.alias));
          break;
        case 'type':
          scope.types.push(this.#typeDef(scope, d.type));
          break;
        case 'canon':
          this.#canon(scope, d.canon);
          break;
        case 'import':
          this.#push(scope, d.desc.sort, args ? this.#nestedImport(scope, d.name, d.desc, args) : this.#rootImport(scope, d.name, d.desc));
          break;
        case 'export': {
          const item = this.#item(scope, d.item);
          scope.exports.set(d.name, item);
          this.#push(scope, d.item.sort, item);
          if (item.sort === 'type' && item.value.kind === 'resource' && !item.value.resource.name) item.value.resource.name = d.name;
          break;
        }
      }
    }
    return scope;
  }

  /** Appends an item to the index space of its sort. */
  #push(scope: Scope, sort: Sort, item: Item | CoreDef | CoreInstanceVal | null): void {
    const it = item as Item;
    switch (sort) {
      case 'core func':
        scope.coreFuncs.push(item as CoreDef);
        break;
      case 'core table':
        scope.coreTables.push(item as CoreDef);
        break;
      case 'core memory':
        scope.coreMemories.push(item as CoreDef);
        break;
      case 'core global':
        scope.coreGlobals.push(item as CoreDef);
        break;
      case 'core type':
        scope.coreTypes.push(null);
        break;
      case 'core module':
        scope.coreModules.push(it.value as number);
        break;
      case 'core instance':
        scope.coreInstances.push(item as CoreInstanceVal);
        break;
      case 'func':
        scope.funcs.push(it.value as FuncVal);
        break;
      case 'type':
        scope.types.push(it.value as TypeVal);
        break;
      case 'component':
        scope.components.push(it.value as ComponentVal);
        break;
      case 'instance':
        scope.instances.push(it.value as InstanceVal);
        break;
      case 'core tag':
        throw new UnsupportedComponentError('core exception tags in a component');
      case 'value':
        throw new UnsupportedComponentError('component values');
    }
  }

  #at<T>(space: readonly T[], index: number, what: string): T {
    if (index >= space.length) throw new InvalidComponentError(`${what} ${index} does not exist (there are ${space.length})`);
    return space[index];
  }

  /** A component-level item by sort and index. */
  #item(scope: Scope, { sort, index }: SortIndex): Item {
    switch (sort) {
      case 'func':
        return { sort, value: this.#at(scope.funcs, index, 'function') };
      case 'type':
        return { sort, value: this.#at(scope.types, index, 'type') };
      case 'instance':
        return { sort, value: this.#at(scope.instances, index, 'instance') };
      case 'component':
        return { sort, value: this.#at(scope.components, index, 'component') };
      case 'core module':
        return { sort, value: this.#at(scope.coreModules, index, 'core module') };
      case 'value':
        throw new UnsupportedComponentError('component values');
      default:
        throw new InvalidComponentError(`a ${sort} where a component-level item was expected`);
    }
  }

  #coreItem(scope: Scope, { sort, index }: SortIndex): CoreDef {
    switch (sort) {
      case 'core func':
        return this.#at(scope.coreFuncs, index, 'core function');
      case 'core table':
        return this.#at(scope.coreTables, index, 'core table');
      case 'core memory':
        return this.#at(scope.coreMemories, index, 'core memory');
      case 'core global':
        return this.#at(scope.coreGlobals, index, 'core global');
      default:
        throw new UnsupportedComponentError(`a core instance that exports a ${sort}`);
    }
  }

  #coreInstance(scope: Scope, expr: Extract<Definition, { kind: 'core instance' }>['instance']): CoreInstanceVal {
    if (expr.kind === 'exports') {
      const items = new Map<string, CoreDef>();
      for (const e of expr.exports) items.set(e.name, this.#coreItem(scope, e.item));
      return { kind: 'bag', items };
    }
    const module = this.#at(scope.coreModules, expr.module, 'core module');
    const args = new Map<string, CoreArg>();
    for (const a of expr.args) {
      const arg = this.#at(scope.coreInstances, a.instance, 'core instance');
      args.set(a.name, arg.kind === 'instance' ? { kind: 'instance', instance: arg.instance } : { kind: 'bag', items: arg.items });
    }
    const instance = this.#plan.coreInstances.push({ module, args }) - 1;
    return { kind: 'instance', instance };
  }

  #instance(scope: Scope, expr: Extract<Definition, { kind: 'instance' }>['instance']): InstanceVal {
    const items = new Map<string, Item>();
    if (expr.kind === 'exports') {
      for (const e of expr.exports) items.set(e.name, this.#item(scope, e.item));
      return { items };
    }
    const component = this.#at(scope.components, expr.component, 'component');
    const args = new Map<string, Item>();
    for (const a of expr.args) args.set(a.name, this.#item(scope, a.item));
    const nested = this.#evaluate(component.ast, component.scope, args);
    return { items: nested.exports };
  }

  #alias(scope: Scope, alias: Alias): Item | CoreDef | CoreInstanceVal | null {
    switch (alias.kind) {
      case 'core export': {
        const inst = this.#at(scope.coreInstances, alias.instance, 'core instance');
        if (inst.kind === 'instance') return { kind: 'export', instance: inst.instance, name: alias.name };
        const item = inst.items.get(alias.name);
        if (!item) throw new InvalidComponentError(`core instance ${alias.instance} has no export ${alias.name}`);
        return item;
      }
      case 'export': {
        const inst = this.#at(scope.instances, alias.instance, 'instance');
        const item = inst.items.get(alias.name);
        if (!item) throw new InvalidComponentError(`instance ${alias.instance} has no export ${alias.name}`);
        if (item.sort !== alias.sort) throw new InvalidComponentError(`export ${alias.name} of instance ${alias.instance} is a ${item.sort}, not a ${alias.sort}`);
        return item;
      }
      case 'outer': {
        let target: Scope | undefined = scope;
        for (let i = 0; i < alias.count; i++) target = target?.parent;
        if (!target) throw new InvalidComponentError(`an outer alias reaches ${alias.count} components out, past the outermost`);
        switch (alias.sort) {
          case 'type':
            return { sort: 'type', value: this.#at(target.types, alias.index, 'type') };
          case 'component':
            return { sort: 'component', value: this.#at(target.components, alias.index, 'component') };
          case 'core module':
            return { sort: 'core module', value: this.#at(target.coreModules, alias.index, 'core module') };
          case 'core type':
            return null;
          default:
            throw new InvalidComponentError(`an outer alias of a ${alias.sort}`);
        }
      }
    }
  }

  // --- imports -------------------------------------------------------------------------------

  /** An import of the root component: served by the host. */
  #rootImport(scope: Scope, name: string, desc: ExternDesc): Item {
    switch (desc.sort) {
      case 'instance': {
        const type = this.#at(scope.types, desc.type, 'type');
        if (type.kind !== 'instance type') throw new InvalidComponentError(`import ${name} is an instance without an instance type`);
        const { items, funcs, resources } = this.#hostInstance(name, type.decls, type.scope);
        this.#plan.imports.push({ kind: 'instance', name, funcs, resources });
        return { sort: 'instance', value: { items } };
      }
      case 'func': {
        const type = this.#funcType(scope, desc.type);
        this.#plan.imports.push({ kind: 'func', name, type });
        return { sort: 'func', value: { kind: 'host', func: { import: name, name: undefined, type } } };
      }
      case 'type': {
        if (desc.bound.kind === 'eq') return { sort: 'type', value: this.#at(scope.types, desc.bound.type, 'type') };
        const resource = this.#resource({ kind: 'host' }, '', name);
        this.#plan.imports.push({ kind: 'resource', name, resource });
        return { sort: 'type', value: { kind: 'resource', resource } };
      }
      case 'core module':
        throw new UnsupportedComponentError(`import ${name}: a component that imports a core module`);
      case 'component':
        throw new UnsupportedComponentError(`import ${name}: a component that imports a component`);
      case 'value':
        throw new UnsupportedComponentError(`import ${name}: a component that imports a value`);
    }
  }

  /** An imported interface: its functions are the host's, and each resource it declares is a host resource type. */
  #hostInstance(name: string, decls: Decl[], outer: TypeScope): { items: Map<string, Item>; funcs: Map<string, FuncType>; resources: Map<string, ResourceType> } {
    const scope: TypeScope = { parent: outer, types: [] };
    const items = new Map<string, Item>();
    const funcs = new Map<string, FuncType>();
    const resources = new Map<string, ResourceType>();
    for (const d of decls) {
      switch (d.kind) {
        case 'core type':
          break;
        case 'type':
          scope.types.push(this.#typeDef(scope, d.type));
          break;
        case 'alias':
          scope.types.push(this.#typeAlias(scope, d.alias));
          break;
        case 'import':
          throw new InvalidComponentError('an import declaration in an instance type');
        case 'export': {
          const desc = d.desc;
          if (desc.sort === 'type') {
            let type: TypeVal;
            if (desc.bound.kind === 'eq') type = this.#at(scope.types, desc.bound.type, 'type');
            else {
              const resource = this.#resource({ kind: 'host' }, name, d.name);
              resources.set(d.name, resource);
              type = { kind: 'resource', resource };
            }
            scope.types.push(type);
            items.set(d.name, { sort: 'type', value: type });
          } else if (desc.sort === 'func') {
            const type = this.#funcType(scope, desc.type);
            funcs.set(d.name, type);
            items.set(d.name, { sort: 'func', value: { kind: 'host', func: { import: name, name: d.name, type } } });
          } else {
            throw new UnsupportedComponentError(`import ${name}: an imported instance that exports a ${desc.sort} (${d.name})`);
          }
          break;
        }
      }
    }
    return { items, funcs, resources };
  }

  /** An import of a nested component: the argument its instantiation was given. */
  #nestedImport(scope: Scope, name: string, desc: ExternDesc, args: Map<string, Item>): Item {
    if (desc.sort === 'type' && desc.bound.kind === 'eq') return { sort: 'type', value: this.#at(scope.types, desc.bound.type, 'type') };
    const arg = args.get(name);
    if (!arg) throw new InvalidComponentError(`a nested component imports ${name}, which its instantiation does not supply`);
    if (arg.sort !== desc.sort) throw new InvalidComponentError(`argument ${name} is a ${arg.sort}, but the nested component imports a ${desc.sort}`);
    return arg;
  }

  // --- types ---------------------------------------------------------------------------------

  #resource(plan: { kind: 'host' } | { kind: 'guest'; instance: number; dtor: CoreDef | undefined }, iface: string, name: string): ResourceType {
    const type: ResourceType = { kind: 'resource', slot: this.#plan.resources.length, host: plan.kind === 'host', iface, name };
    this.#plan.resources.push({ ...plan, type } as ResourcePlan);
    return type;
  }

  #typeAlias(scope: TypeScope, alias: Alias): TypeVal {
    if (alias.kind !== 'outer') throw new UnsupportedComponentError(`an ${alias.kind} alias inside a type declaration`);
    if (alias.sort === 'core type') return { kind: 'value', type: primitive('u8') }; // never read: core types are skipped
    if (alias.sort !== 'type') throw new InvalidComponentError(`an outer alias of a ${alias.sort} inside a type declaration`);
    let target: TypeScope | undefined = scope;
    for (let i = 0; i < alias.count; i++) target = target?.parent;
    if (!target) throw new InvalidComponentError(`an outer alias reaches ${alias.count} scopes out, past the outermost`);
    return this.#at(target.types, alias.index, 'type');
  }

  #typeDef(scope: TypeScope | Scope, def: TypeDef): TypeVal {
    switch (def.kind) {
      case 'value':
        return { kind: 'value', type: this.#defValType(scope, def.type) };
      case 'func': {
        if (def.async) throw new UnsupportedComponentError('an async function type (the async ABI of WASI 0.3)');
        const params = def.params.map((p) => ({ name: p.name, type: this.#valType(scope, p.type) }));
        const type: FuncType = { kind: 'func', params, result: def.result && this.#valType(scope, def.result) };
        return { kind: 'func', type };
      }
      case 'resource': {
        if (!(scope instanceof Scope)) throw new InvalidComponentError('a resource type defined inside a type declaration');
        const dtor = def.dtor === undefined ? undefined : this.#at(scope.coreFuncs, def.dtor, 'core function');
        return { kind: 'resource', resource: this.#resource({ kind: 'guest', instance: scope.instance, dtor }, '', '') };
      }
      case 'instance':
        return { kind: 'instance type', decls: def.decls, scope };
      case 'component':
        return { kind: 'component type', decls: def.decls, scope };
    }
  }

  #valType(scope: TypeScope, ref: ValTypeRef): ValType {
    if (ref.kind === 'primitive') return primitive(ref.primitive);
    const t = this.#at(scope.types, ref.index, 'type');
    if (t.kind !== 'value') throw new InvalidComponentError(`type ${ref.index} is a ${t.kind}, not a value type`);
    return t.type;
  }

  #resourceAt(scope: TypeScope, index: number): ResourceType {
    const t = this.#at(scope.types, index, 'type');
    if (t.kind !== 'resource') throw new InvalidComponentError(`type ${index} is a ${t.kind}, not a resource`);
    return t.resource;
  }

  #defValType(scope: TypeScope, def: DefValType): ValType {
    const val = (ref: ValTypeRef) => this.#valType(scope, ref);
    switch (def.kind) {
      case 'primitive':
        return primitive(def.primitive);
      case 'record':
        if (def.fields.length === 0) throw new InvalidComponentError('a record without fields');
        return { kind: 'record', fields: def.fields.map((f) => ({ name: f.name, type: val(f.type) })) };
      case 'variant':
        if (def.cases.length === 0) throw new InvalidComponentError('a variant without cases');
        return { kind: 'variant', cases: def.cases.map((c) => ({ name: c.name, type: c.type && val(c.type) })) };
      case 'list':
        if (def.length !== undefined) throw new UnsupportedComponentError('a fixed-length list (a gated feature of the component model)');
        return { kind: 'list', elem: val(def.elem) };
      case 'tuple':
        if (def.types.length === 0) throw new InvalidComponentError('a tuple without fields');
        return { kind: 'tuple', types: def.types.map(val) };
      case 'flags':
        if (def.names.length === 0 || def.names.length > 32) throw new InvalidComponentError(`flags with ${def.names.length} labels (1 to 32 are allowed)`);
        return { kind: 'flags', names: def.names };
      case 'enum':
        if (def.names.length === 0) throw new InvalidComponentError('an enum without cases');
        return { kind: 'enum', names: def.names };
      case 'option':
        return { kind: 'option', type: val(def.type) };
      case 'result':
        return { kind: 'result', ok: def.ok && val(def.ok), err: def.err && val(def.err) };
      case 'own':
      case 'borrow':
        return { kind: def.kind, resource: this.#resourceAt(scope, def.resource) };
      case 'stream':
      case 'future':
        throw new UnsupportedComponentError(`the ${def.kind} type (the async ABI of WASI 0.3)`);
      case 'map':
        throw new UnsupportedComponentError('the map type (a gated feature of the component model)');
    }
  }

  #funcType(scope: TypeScope, index: number): FuncType {
    const t = this.#at(scope.types, index, 'type');
    if (t.kind !== 'func') throw new InvalidComponentError(`type ${index} is a ${t.kind}, not a function type`);
    return t.type;
  }

  // --- canonical definitions -----------------------------------------------------------------

  #canon(scope: Scope, canon: Extract<Definition, { kind: 'canon' }>['canon']): void {
    switch (canon.kind) {
      case 'lift': {
        if (canon.opts.async) throw new UnsupportedComponentError('an async lift (the async ABI of WASI 0.3)');
        if (canon.opts.callback !== undefined) throw new UnsupportedComponentError('a lift with a callback (the async ABI of WASI 0.3)');
        const type = this.#funcType(scope, canon.type);
        const core = this.#at(scope.coreFuncs, canon.core, 'core function');
        scope.funcs.push({ kind: 'lifted', lift: { core, type, options: this.#options(scope, canon.opts) }, instance: scope.instance });
        return;
      }
      case 'lower': {
        if (canon.opts.async) throw new UnsupportedComponentError('an async lower (the async ABI of WASI 0.3)');
        const func = this.#at(scope.funcs, canon.func, 'function');
        const options = this.#options(scope, canon.opts);
        const trampoline: TrampolinePlan =
          func.kind === 'host' ? { kind: 'host', func: func.func, options } : { kind: 'fused', callee: func.lift, options };
        scope.coreFuncs.push(this.#trampoline(trampoline));
        return;
      }
      case 'resource.new':
      case 'resource.rep':
      case 'resource.drop': {
        const resource = this.#resourceAt(scope, canon.resource);
        if (canon.kind !== 'resource.drop') {
          const plan = this.#plan.resources[resource.slot];
          if (plan.kind !== 'guest' || plan.instance !== scope.instance) {
            throw new InvalidComponentError(`${canon.kind} of a resource type this component does not define`);
          }
        }
        scope.coreFuncs.push(this.#trampoline({ kind: canon.kind, resource, instance: scope.instance }));
        return;
      }
      case 'unsupported':
        throw new UnsupportedComponentError(`the canonical built-in ${canon.name} (the async ABI of WASI 0.3)`);
    }
  }

  #trampoline(t: TrampolinePlan): CoreDef {
    return { kind: 'trampoline', index: this.#plan.trampolines.push(t) - 1 };
  }

  #options(scope: Scope, opts: CanonOpts): number {
    const plan: OptionsPlan = {
      encoding: opts.encoding,
      memory: opts.memory === undefined ? undefined : this.#at(scope.coreMemories, opts.memory, 'core memory'),
      realloc: opts.realloc === undefined ? undefined : this.#at(scope.coreFuncs, opts.realloc, 'core function'),
      postReturn: opts.postReturn === undefined ? undefined : this.#at(scope.coreFuncs, opts.postReturn, 'core function'),
      instance: scope.instance,
    };
    return this.#plan.options.push(plan) - 1;
  }

  // --- exports -------------------------------------------------------------------------------

  /** A root export as the host sees it; undefined for what the host has no use for (a type that is not a resource). */
  #exportItem(name: string, item: Item, iface: string): ExportItem | undefined {
    switch (item.sort) {
      case 'func':
        if (item.value.kind !== 'lifted') throw new UnsupportedComponentError(`export ${name}: a re-exported host function`);
        return { kind: 'func', lift: item.value.lift };
      case 'type':
        // A type the interface uses from elsewhere (a host resource it names) is no class of its own.
        if (item.value.kind !== 'resource' || item.value.resource.host) return undefined;
        item.value.resource.iface ||= iface;
        item.value.resource.name ||= name;
        return { kind: 'resource', resource: item.value.resource };
      case 'instance': {
        if (iface) throw new UnsupportedComponentError(`export ${iface}: an instance nested in an exported instance (${name})`);
        const items = new Map<string, ExportItem>();
        // Resources first: they name the resource types before the functions are seen.
        const entries = [...item.value.items].sort(([, a], [, b]) => Number(b.sort === 'type') - Number(a.sort === 'type'));
        for (const [n, it] of entries) {
          const e = this.#exportItem(n, it, name);
          if (e) items.set(n, e);
        }
        return { kind: 'instance', items };
      }
      case 'component':
      case 'core module':
        throw new UnsupportedComponentError(`export ${name}: a component that exports a ${item.sort}`);
    }
  }
}

type Definition = ComponentAst['definitions'][number];
