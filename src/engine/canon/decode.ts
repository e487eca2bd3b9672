/**
 * Reads a component's binary into the shape wasmhost's own canonical ABI runs: one core module
 * holding the code, whose imports are lowered functions of imported interfaces (or drops of
 * their resources) and whose exports are lifted, plus the shim and fixup modules wit-component
 * adds to break the memory/realloc cycle (bypassed here: the imports are bound by name after the
 * module is instantiated). Anything else (several code modules, guest-defined resources, async
 * lifts, non-UTF-8 strings, world-level function imports) is `Unsupported` and runs on jco.
 *
 * Written by hand: jco exposes a component only as generated JavaScript or WIT text, and the
 * component binary format needs only a small decoder for the sections read here.
 */
import { Reader } from '../wasm/codec.ts';
import type { FuncType, ResourceType, ValType } from './types.ts';

export class Unsupported extends Error {}

export interface CanonOptions {
  /** Names of the main module's exports the options refer to. */
  memory?: string;
  realloc?: string;
  postReturn?: string;
}

export type CoreImport =
  | { kind: 'call'; iface: string; name: string; type: FuncType; options: CanonOptions }
  | { kind: 'drop'; resource: ResourceType };

export interface LiftedExport {
  /** `wasi:http/incoming-handler@0.2.12`, or undefined for a world-level function. */
  iface: string | undefined;
  name: string;
  /** The main module's export that implements it. */
  coreName: string;
  type: FuncType;
  options: CanonOptions;
}

export interface ComponentShape {
  /** Main module's imports: module name -> field name -> binding. */
  imports: Map<string, Map<string, CoreImport>>;
  exports: LiftedExport[];
  /** Names of the imported instances (interfaces), in order. */
  interfaces: string[];
  /** Index of the main module among the component's core modules (in binary order). */
  mainModule: number;
  /** How many core modules the component holds. */
  moduleCount: number;
}

type TypeEntry = ValType | FuncType | ResourceType | InstanceType | { kind: 'other' };
interface InstanceType {
  kind: 'instance';
  exports: Map<string, TypeEntry>;
  resources: ResourceType[];
}

type CoreFunc =
  | { kind: 'export'; instance: number; name: string }
  | { kind: 'lower'; func: number; options: RawOptions }
  | { kind: 'drop'; type: number }
  | { kind: 'other' };
type CoreInstance = { kind: 'instantiate'; module: number } | { kind: 'exports'; exports: Map<string, number> };
type Func = { kind: 'import-export'; instance: number; name: string } | { kind: 'lift'; core: number; type: number; options: RawOptions };
type Instance = { kind: 'import'; name: string; type: InstanceType } | { kind: 'shim'; args: Map<string, number> } | { kind: 'other' };
interface RawOptions {
  memory?: number;
  realloc?: number;
  postReturn?: number;
}

const PRIMITIVES: Record<number, ValType['kind']> = {
  0x7f: 'bool', 0x7e: 's8', 0x7d: 'u8', 0x7c: 's16', 0x7b: 'u16', 0x7a: 's32', 0x79: 'u32',
  0x78: 's64', 0x77: 'u64', 0x76: 'f32', 0x75: 'f64', 0x74: 'char', 0x73: 'string',
};

export function decodeComponent(bytes: Uint8Array): ComponentShape {
  const r = new Reader(bytes, 8);
  if (bytes[6] !== 0x01 || bytes[7] !== 0x00) throw new Unsupported('not a component');
  const types: TypeEntry[] = [];
  const coreFuncs: CoreFunc[] = [];
  const coreMemories: { instance: number; name: string }[] = [];
  const coreInstances: CoreInstance[] = [];
  const funcs: Func[] = [];
  const instances: Instance[] = [];
  const exports: { name: string; sort: number; index: number }[] = [];
  let moduleCount = 0;

  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.uleb();
    const end = r.pos + size;
    const s = new Reader(bytes.subarray(0, end), r.pos);
    switch (id) {
      case 0: // custom
        break;
      case 1:
        moduleCount++;
        break;
      case 2:
        for (let n = s.uleb(); n > 0; n--) coreInstances.push(readCoreInstance(s));
        break;
      case 4:
        checkReexportShim(bytes.subarray(s.pos, end));
        break;
      case 5:
        for (let n = s.uleb(); n > 0; n--) instances.push(readInstance(s));
        break;
      case 6:
        for (let n = s.uleb(); n > 0; n--) readAlias(s, { types, coreFuncs, coreMemories, funcs, instances });
        break;
      case 7:
        for (let n = s.uleb(); n > 0; n--) types.push(readDefType(s, types));
        break;
      case 8:
        for (let n = s.uleb(); n > 0; n--) readCanon(s, coreFuncs, funcs);
        break;
      case 10:
        for (let n = s.uleb(); n > 0; n--) {
          const name = externName(s);
          const desc = s.byte();
          if (desc === 0x03 && s.byte() === 0x00) {
            // A type the world `use`s: an alias of a type of an imported interface.
            types.push(types[s.uleb()] ?? { kind: 'other' });
            continue;
          }
          if (desc !== 0x05) throw new Unsupported(`import ${name} is not an interface`);
          const type = types[s.uleb()];
          if (type?.kind !== 'instance') throw new Unsupported(`import ${name} has no instance type`);
          if (type.resources.some((res) => res.iface)) throw new Unsupported('an instance type imported twice');
          for (const res of type.resources) res.iface = name;
          instances.push({ kind: 'import', name, type });
        }
        break;
      case 11:
        for (let n = s.uleb(); n > 0; n--) {
          const name = externName(s);
          const sort = readSort(s);
          const index = s.uleb();
          if (s.byte() === 0x01) skipExternDesc(s);
          exports.push({ name, sort, index });
          if (sort === SORT.type) types.push({ kind: 'other' });
          else if (sort === SORT.func) funcs.push(funcs[index]);
          else if (sort === SORT.instance) instances.push(instances[index]);
        }
        break;
      default:
        throw new Unsupported(`component section ${id}`);
    }
    r.pos = end;
  }

  // The main module: the one instance whose exports are lifted.
  const lifted = funcs.filter((f): f is Extract<Func, { kind: 'lift' }> => f?.kind === 'lift');
  const mainInstances = new Set(lifted.map((f) => coreExportOf(coreFuncs, f.core).instance));
  if (mainInstances.size > 1) throw new Unsupported('exports lifted from several core instances');
  const instantiations = coreInstances.filter((c) => c.kind === 'instantiate');
  const main = [...mainInstances][0] ?? coreInstances.findIndex((c) => c.kind === 'instantiate');
  const mainInstance = coreInstances[main];
  if (mainInstance?.kind !== 'instantiate') throw new Unsupported('no core module instantiated');
  if (instantiations.length > 3) throw new Unsupported('several code modules');

  const optionNames = (o: RawOptions): CanonOptions => ({
    memory: o.memory === undefined ? undefined : mainExport(coreMemories[o.memory], main, 'memory'),
    realloc: o.realloc === undefined ? undefined : mainExport(coreExportOf(coreFuncs, o.realloc), main, 'realloc'),
    postReturn: o.postReturn === undefined ? undefined : mainExport(coreExportOf(coreFuncs, o.postReturn), main, 'post-return'),
  });

  // Lowered imports, by (interface, function name): the main module imports them under these names.
  const imports = new Map<string, Map<string, CoreImport>>();
  const importedInstances = instances.filter((i): i is Extract<Instance, { kind: 'import' }> => i.kind === 'import');
  for (const cf of coreFuncs) {
    if (cf.kind === 'lower') {
      const f = funcs[cf.func];
      if (f?.kind !== 'import-export') throw new Unsupported('a lowered function that is not imported');
      const inst = instances[f.instance] as Extract<Instance, { kind: 'import' }>;
      const type = inst.type.exports.get(f.name);
      if (type?.kind !== 'func') throw new Unsupported(`${inst.name} ${f.name} is not a function`);
      bind(imports, inst.name, f.name, { kind: 'call', iface: inst.name, name: f.name, type, options: optionNames(cf.options) });
    } else if (cf.kind === 'drop') {
      const res = types[cf.type];
      if (res?.kind !== 'resource' || !res.iface) throw new Unsupported('a drop of a resource the component defines');
      bind(imports, res.iface, `[resource-drop]${res.name}`, { kind: 'drop', resource: res });
    }
  }

  const lifts: LiftedExport[] = [];
  for (const e of exports) {
    if (e.sort === SORT.func) lifts.push(liftedExport(funcs[e.index], undefined, e.name));
    else if (e.sort === SORT.instance) {
      const inst = instances[e.index];
      if (inst?.kind !== 'shim') throw new Unsupported(`export ${e.name} is not a re-export of lifted functions`);
      for (const [argName, fi] of inst.args) {
        if (!argName.startsWith('import-func-')) continue;
        lifts.push(liftedExport(funcs[fi], e.name, argName.slice('import-func-'.length)));
      }
    } else if (e.sort !== SORT.type) throw new Unsupported(`export ${e.name} of sort ${e.sort}`);
  }

  function liftedExport(f: Func | undefined, iface: string | undefined, name: string): LiftedExport {
    if (f?.kind !== 'lift') throw new Unsupported(`export ${name} is not a lifted function`);
    const type = types[f.type];
    if (type?.kind !== 'func') throw new Unsupported(`export ${name} has no function type`);
    const coreName = mainExport(coreExportOf(coreFuncs, f.core), main, 'export');
    return { iface, name, coreName, type, options: optionNames(f.options) };
  }

  return {
    imports,
    exports: lifts,
    interfaces: importedInstances.map((i) => i.name),
    mainModule: mainInstance.module,
    moduleCount,
  };
}

function bind(imports: Map<string, Map<string, CoreImport>>, module: string, name: string, binding: CoreImport): void {
  let m = imports.get(module);
  if (!m) imports.set(module, (m = new Map()));
  m.set(name, binding);
}

function coreExportOf(coreFuncs: CoreFunc[], index: number): { instance: number; name: string } {
  const cf = coreFuncs[index];
  if (cf?.kind !== 'export') throw new Unsupported('a lifted function that is not a core export');
  return cf;
}

function mainExport(ref: { instance: number; name: string } | undefined, main: number, what: string): string {
  if (!ref || ref.instance !== main) throw new Unsupported(`${what} is not an export of the main module`);
  return ref.name;
}

const SORT = { coreFunc: 0x00_00, coreTable: 0x00_01, coreMemory: 0x00_02, coreGlobal: 0x00_03, coreType: 0x00_10, coreModule: 0x00_11, coreInstance: 0x00_12, func: 0x101, value: 0x102, type: 0x103, component: 0x104, instance: 0x105 };

function readSort(s: Reader): number {
  const b = s.byte();
  return b === 0x00 ? s.byte() : 0x100 | b;
}

function externName(s: Reader): string {
  const tag = s.byte();
  if (tag !== 0x00 && tag !== 0x01) throw new Unsupported(`extern name form ${tag}`);
  return s.name();
}

function readCoreInstance(s: Reader): CoreInstance {
  const tag = s.byte();
  if (tag === 0x00) {
    const module = s.uleb();
    for (let n = s.uleb(); n > 0; n--) {
      s.name();
      if (s.byte() !== 0x12) throw new Unsupported('a core instantiation argument that is not an instance');
      s.uleb();
    }
    return { kind: 'instantiate', module };
  }
  if (tag !== 0x01) throw new Unsupported(`core instance form ${tag}`);
  const exports = new Map<string, number>();
  for (let n = s.uleb(); n > 0; n--) {
    const name = s.name();
    s.byte();
    exports.set(name, s.uleb());
  }
  return { kind: 'exports', exports };
}

function readInstance(s: Reader): Instance {
  const tag = s.byte();
  if (tag === 0x00) {
    s.uleb(); // the nested component: checked to be a re-export shim when read
    const args = new Map<string, number>();
    for (let n = s.uleb(); n > 0; n--) {
      const name = s.name();
      const sort = readSort(s);
      const index = s.uleb();
      if (sort === SORT.func) args.set(name, index);
    }
    return { kind: 'shim', args };
  }
  if (tag !== 0x01) throw new Unsupported(`instance form ${tag}`);
  for (let n = s.uleb(); n > 0; n--) {
    externName(s);
    readSort(s);
    s.uleb();
  }
  return { kind: 'other' };
}

function readAlias(
  s: Reader,
  spaces: { types: TypeEntry[]; coreFuncs: CoreFunc[]; coreMemories: { instance: number; name: string }[]; funcs: Func[]; instances: Instance[] },
): void {
  const sort = readSort(s);
  const target = s.byte();
  if (target === 0x00) {
    const instance = s.uleb();
    const name = s.name();
    const inst = spaces.instances[instance];
    if (sort === SORT.func) spaces.funcs.push({ kind: 'import-export', instance, name });
    else if (sort === SORT.type) spaces.types.push((inst?.kind === 'import' && inst.type.exports.get(name)) || { kind: 'other' });
    else throw new Unsupported(`alias of an instance export of sort ${sort}`);
  } else if (target === 0x01) {
    const instance = s.uleb();
    const name = s.name();
    if (sort === SORT.coreFunc) spaces.coreFuncs.push({ kind: 'export', instance, name });
    else if (sort === SORT.coreMemory) spaces.coreMemories.push({ instance, name });
    else if (sort !== SORT.coreTable && sort !== SORT.coreGlobal) throw new Unsupported(`alias of a core export of sort ${sort}`);
  } else throw new Unsupported('an outer alias at the top level');
}

function readCanon(s: Reader, coreFuncs: CoreFunc[], funcs: Func[]): void {
  const tag = s.byte();
  if (tag === 0x00) {
    if (s.byte() !== 0x00) throw new Unsupported('canon lift form');
    const core = s.uleb();
    const options = readOptions(s);
    funcs.push({ kind: 'lift', core, type: s.uleb(), options });
  } else if (tag === 0x01) {
    if (s.byte() !== 0x00) throw new Unsupported('canon lower form');
    const func = s.uleb();
    coreFuncs.push({ kind: 'lower', func, options: readOptions(s) });
  } else if (tag === 0x03) {
    coreFuncs.push({ kind: 'drop', type: s.uleb() });
  } else {
    throw new Unsupported(`canonical built-in ${tag}`);
  }
}

function readOptions(s: Reader): RawOptions {
  const o: RawOptions = {};
  for (let n = s.uleb(); n > 0; n--) {
    const tag = s.byte();
    if (tag === 0x00) continue; // UTF-8
    else if (tag === 0x03) o.memory = s.uleb();
    else if (tag === 0x04) o.realloc = s.uleb();
    else if (tag === 0x05) o.postReturn = s.uleb();
    else throw new Unsupported(`canonical option ${tag} (only UTF-8 strings and synchronous calls)`);
  }
  return o;
}

/** A type index or a primitive (one byte 0x40-0x7f, which as a non-negative s33 index cannot occur). */
function readValType(s: Reader, types: TypeEntry[]): ValType {
  const b = s.peek();
  if (b >= 0x40 && b < 0x80) {
    s.byte();
    const kind = PRIMITIVES[b];
    if (!kind) throw new Unsupported(`value type 0x${b.toString(16)}`);
    return { kind } as ValType;
  }
  const t = types[s.uleb()];
  if (!t || t.kind === 'func' || t.kind === 'instance' || t.kind === 'resource' || t.kind === 'other') {
    throw new Unsupported('a value type that refers to no value type');
  }
  return t;
}

function resourceAt(types: TypeEntry[], index: number): ResourceType {
  const t = types[index];
  if (t?.kind !== 'resource') throw new Unsupported('a handle to something that is not a resource');
  return t;
}

function readDefType(s: Reader, types: TypeEntry[]): TypeEntry {
  const tag = s.byte();
  const label = () => s.name();
  const vec = <T>(f: () => T): T[] => Array.from({ length: s.uleb() }, f);
  const opt = <T>(f: () => T): T | undefined => (s.byte() === 0x01 ? f() : undefined);
  const val = () => readValType(s, types);
  switch (tag) {
    case 0x72:
      return { kind: 'record', fields: vec(() => ({ name: label(), type: val() })) };
    case 0x71:
      return {
        kind: 'variant',
        cases: vec(() => {
          const c = { name: label(), type: opt(val) };
          if (s.byte() !== 0x00) throw new Unsupported('variant case refinement');
          return c;
        }),
      };
    case 0x70:
      return { kind: 'list', elem: val() };
    case 0x6f:
      return { kind: 'tuple', types: vec(val) };
    case 0x6e:
      return { kind: 'flags', names: vec(label) };
    case 0x6d:
      return { kind: 'enum', names: vec(label) };
    case 0x6b:
      return { kind: 'option', type: val() };
    case 0x6a:
      return { kind: 'result', ok: opt(val), err: opt(val) };
    case 0x69:
      return { kind: 'own', resource: resourceAt(types, s.uleb()) };
    case 0x68:
      return { kind: 'borrow', resource: resourceAt(types, s.uleb()) };
    case 0x40: {
      const params = vec(() => ({ name: label(), type: val() }));
      const form = s.byte();
      let result: ValType | undefined;
      if (form === 0x00) result = val();
      else if (s.uleb() !== 0) throw new Unsupported('named results');
      return { kind: 'func', params, result };
    }
    case 0x42:
      return readInstanceType(s, types);
    default:
      if (PRIMITIVES[tag]) return { kind: PRIMITIVES[tag] } as ValType;
      throw new Unsupported(`type form 0x${tag.toString(16)}`);
  }
}

function readInstanceType(s: Reader, outer: TypeEntry[]): InstanceType {
  const local: TypeEntry[] = [];
  const exports = new Map<string, TypeEntry>();
  const resources: ResourceType[] = [];
  for (let n = s.uleb(); n > 0; n--) {
    const tag = s.byte();
    if (tag === 0x01) local.push(readDefType(s, local));
    else if (tag === 0x02) {
      const sort = readSort(s);
      if (sort !== SORT.type || s.byte() !== 0x02) throw new Unsupported('an alias in an instance type');
      const ct = s.uleb();
      const idx = s.uleb();
      if (ct !== 1) throw new Unsupported('an outer alias beyond the enclosing component');
      local.push(outer[idx] ?? { kind: 'other' });
    } else if (tag === 0x04) {
      const name = externName(s);
      const desc = s.byte();
      if (desc === 0x01) exports.set(name, local[s.uleb()] ?? { kind: 'other' });
      else if (desc === 0x03) {
        const bound = s.byte();
        let t: TypeEntry;
        if (bound === 0x00) t = local[s.uleb()] ?? { kind: 'other' };
        else {
          t = { kind: 'resource', iface: '', name } satisfies ResourceType;
          resources.push(t);
        }
        local.push(t);
        exports.set(name, t);
      } else throw new Unsupported(`instance type export ${name} of kind ${desc}`);
    } else throw new Unsupported(`instance type declaration ${tag}`);
  }
  return { kind: 'instance', exports, resources };
}

function skipExternDesc(s: Reader): void {
  const desc = s.byte();
  if (desc === 0x00) s.byte();
  if (desc === 0x03) s.byte();
  s.uleb();
}

/** A nested component may only import functions and types and export them again (wit-component's export shim). */
function checkReexportShim(bytes: Uint8Array): void {
  const r = new Reader(bytes, 8);
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.uleb();
    if (![0, 6, 7, 10, 11].includes(id)) throw new Unsupported(`a nested component with section ${id}`);
    r.pos += size;
  }
}
