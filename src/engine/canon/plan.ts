/**
 * wasmhost's own canonical ABI: a component decoded once into a plan (value codecs compiled into
 * closures, imports and exports resolved by name), then instantiated any number of times by
 * instantiating its one core module with adapters around the host's functions. It stands in for
 * jco's generated glue behind the same `instantiate(getCoreModule, imports, instantiateCore)`
 * signature, for the components `decodeComponent` accepts.
 *
 * Why: jco 1.35's glue builds its whole runtime per instance (~0.5-0.9 ms) and keeps task and
 * subtask bookkeeping on every call (~12 us per host call); a plan instantiates in tens of
 * microseconds and calls the host through one closure. DESIGN.md keeps this door open.
 */
import { LIMITS_IMPORT, type Limiter } from '../limits/limiter.ts';
import type { ComponentShape, CoreImport, LiftedExport } from './decode.ts';
import { Unsupported } from './decode.ts';
import { HandleTable } from './handles.ts';
import { camel, pascal, unversioned } from '../interface-name.ts';
import { alloc, codec, type Codec, type Cx } from './values.ts';
import type { FuncType, ResourceType } from './types.ts';

const MAX_FLAT_PARAMS = 16;

/** JSPI (Node 24): TypeScript's DOM typings do not declare it yet. */
const JSPI = WebAssembly as unknown as {
  Suspending: new (fn: Fn) => unknown;
  promising: (fn: Fn) => (...args: unknown[]) => Promise<unknown>;
};

type Fn = (...args: unknown[]) => unknown;
type ImportObject = Record<string, Record<string, unknown>>;
type CoreInstantiate = (module: WebAssembly.Module, imports: WebAssembly.Imports) => Promise<WebAssembly.Instance>;
export type PlanInstantiate = (getCoreModule: (name: string) => WebAssembly.Module, imports: ImportObject, instantiateCore?: CoreInstantiate) => Promise<Record<string, unknown>>;

/** The payload of a `result` error returned by a guest export (jco's `ComponentError` shape). */
export class ComponentError extends Error {
  readonly payload: unknown;
  constructor(payload: unknown) {
    super(typeof payload === 'string' ? payload : `${String((payload as { tag?: string })?.tag ?? payload)} (see error.payload)`);
    this.payload = payload;
  }
}

interface Signature {
  /** The params as one tuple: its layout is the canonical ABI's for params, flat or in memory. */
  params: Codec;
  result: Codec | undefined;
  /** The params travel in memory: more than 16 flat values. */
  paramsInMemory: boolean;
  /** The result travels in memory: more than one flat value. */
  resultInMemory: boolean;
  /** The top-level result is a `result`: host functions throw its error. */
  resultType: boolean;
}

export interface Plan {
  shape: ComponentShape;
  /** Import object key -> the members the component uses (for `checkImports`). */
  requiredImports: Map<string, string[]>;
  instantiate(module: WebAssembly.Module, imports: ImportObject, instantiateCore?: CoreInstantiate): Promise<Record<string, unknown>>;
}

export function buildPlan(shape: ComponentShape): Plan {
  const resources: ResourceType[] = [];
  const tableOf = (r: ResourceType) => {
    let i = resources.indexOf(r);
    if (i === -1) i = resources.push(r) - 1;
    return i;
  };
  const cache = new Map();
  const signature = (type: FuncType): Signature => {
    const params = codec({ kind: 'tuple', types: type.params.map((p) => p.type) }, tableOf, cache);
    const result = type.result ? codec(type.result, tableOf, cache) : undefined;
    return {
      params,
      result,
      paramsInMemory: params.flat.length > MAX_FLAT_PARAMS,
      resultInMemory: (result?.flat.length ?? 0) > 1,
      resultType: type.result?.kind === 'result',
    };
  };

  const memoryNames = new Set<string>();
  const reallocNames = new Set<string>();
  const noteOptions = (o: { memory?: string; realloc?: string }) => {
    if (o.memory) memoryNames.add(o.memory);
    if (o.realloc) reallocNames.add(o.realloc);
  };
  const required = new Map<string, string[]>();
  const importPlans: { module: string; name: string; binding: CoreImport; sig?: Signature; call?: HostCall }[] = [];
  for (const [module, fields] of shape.imports) {
    for (const [name, binding] of fields) {
      if (binding.kind === 'drop') {
        tableOf(binding.resource);
        importPlans.push({ module, name, binding });
        continue;
      }
      noteOptions(binding.options);
      const call = hostCall(module, name);
      const list = required.get(call.key) ?? [];
      if (!list.includes(call.member)) list.push(call.member);
      required.set(call.key, list);
      importPlans.push({ module, name, binding, sig: signature(binding.type), call });
    }
  }
  const exportPlans = shape.exports.map((e) => {
    noteOptions(e.options);
    return { e, sig: signature(e.type), member: camel(e.name), short: e.iface && camel(shortName(e.iface)) };
  });
  if (memoryNames.size > 1 || reallocNames.size > 1) throw new Unsupported('functions with different memories or allocators');
  const memoryName = [...memoryNames][0];
  const reallocName = [...reallocNames][0];

  return {
    shape,
    requiredImports: required,
    async instantiate(module, imports, instantiateCore = WebAssembly.instantiate as unknown as CoreInstantiate) {
      const limiter = imports[LIMITS_IMPORT] as unknown as Limiter | undefined;
      const cap = limiter?.maxResourceHandles;
      const cx: Cx = {
        memory: undefined,
        realloc: undefined,
        tables: resources.map((r) => new HandleTable(r.name, cap === undefined ? undefined : (live) => live > cap && limiter!.tooManyHandles())),
        lent: [],
        view: new DataView(new ArrayBuffer(0)),
      };
      const core: Record<string, Record<string, unknown>> = {};
      for (const p of importPlans) {
        const fn = p.binding.kind === 'drop' ? dropAdapter(cx, tableOf(p.binding.resource)) : callAdapter(cx, p.binding, p.sig!, hostFunction(imports, p.call!), limiter);
        (core[p.module] ??= {})[p.name] = fn;
      }
      const instance = await instantiateCore(module, core as WebAssembly.Imports);
      const exports = instance.exports;
      cx.memory = memoryName ? (exports[memoryName] as WebAssembly.Memory) : undefined;
      cx.realloc = reallocName ? (exports[reallocName] as Cx['realloc']) : undefined;
      const out: Record<string, Record<string, unknown> | unknown> = {};
      for (const { e, sig, member, short } of exportPlans) {
        const fn = exportAdapter(cx, e, sig, exports);
        if (e.iface === undefined) out[member] = fn;
        else {
          const obj = (out[e.iface] ??= {}) as Record<string, unknown>;
          obj[member] = fn;
          out[short!] ??= obj;
        }
      }
      return out as Record<string, unknown>;
    },
  };
}

/** How jco's glue calls the host for a core import: a function, or a class's constructor, static or method. */
interface HostCall {
  key: string;
  member: string;
  form: 'function' | 'constructor' | 'static' | 'method';
  method: string;
}

function hostCall(module: string, name: string): HostCall {
  const m = /^\[(constructor|method|static)\]([^.]+)(?:\.(.+))?$/.exec(name);
  const key = unversioned(module);
  if (!m) return { key, member: camel(name), form: 'function', method: '' };
  return { key, member: pascal(m[2]), form: m[1] as HostCall['form'], method: m[3] === undefined ? '' : camel(m[3]) };
}

function hostFunction(imports: ImportObject, call: HostCall): Fn {
  const target = (imports[call.key] ?? {})[call.member] as Fn & (new (...args: unknown[]) => unknown);
  const method = call.method;
  switch (call.form) {
    case 'function':
      return target;
    case 'constructor':
      return (...args) => new target(...args);
    case 'static':
      return (...args) => (target as unknown as Record<string, Fn>)[method](...args);
    case 'method':
      return (self, ...args) => (self as Record<string, Fn>)[method](...args);
  }
}

function dropAdapter(cx: Cx, table: number): Fn {
  return (handle) => {
    const value = cx.tables[table].take((handle as number) >>> 0) as { [Symbol.dispose]?: () => void };
    value[Symbol.dispose]?.();
  };
}

/** A `result` error thrown by a host function is its payload; anything else is a host failure. */
function errorPayload(e: unknown): unknown {
  if (e && typeof e === 'object' && Object.hasOwn(e, 'payload')) return (e as { payload: unknown }).payload;
  if (e instanceof Error) throw e;
  return e;
}

function callAdapter(cx: Cx, binding: Extract<CoreImport, { kind: 'call' }>, sig: Signature, host: Fn, limiter: Limiter | undefined): unknown {
  const { params, result, paramsInMemory, resultInMemory, resultType } = sig;
  const liftArgs = (core: unknown[]): unknown[] =>
    (paramsInMemory ? params.load(cx, (core[0] as number) >>> 0) : params.liftFlat(cx, core, 0)) as unknown[];
  const retptrAt = paramsInMemory ? 1 : params.flat.length;
  const finish = (core: unknown[], value: unknown): unknown => {
    if (!result) return undefined;
    if (resultInMemory) {
      const ptr = (core[retptrAt] as number) >>> 0;
      result.store(cx, ptr, value);
      return undefined;
    }
    const out: unknown[] = [];
    result.lowerFlat(cx, value, out);
    return out[0];
  };
  const adapter = function (...core: unknown[]): unknown {
    const args = liftArgs(core);
    let value: unknown;
    try {
      value = host(...args);
    } catch (e) {
      if (!resultType) throw e;
      return finish(core, { tag: 'err', val: errorPayload(e) });
    }
    if (value instanceof Promise) {
      return value.then(
        (v) => finish(core, resultType ? { tag: 'ok', val: v } : v),
        (e) => {
          if (!resultType) throw e;
          return finish(core, { tag: 'err', val: errorPayload(e) });
        },
      );
    }
    return finish(core, resultType ? { tag: 'ok', val: value } : value);
  };
  Object.defineProperty(adapter, 'name', { value: `${binding.iface}#${binding.name}` });
  // Any host function may answer with a promise: the guest is suspended (JSPI) until it settles.
  return new JSPI.Suspending(limiter ? limiter.timed(adapter) : adapter);
}

function exportAdapter(cx: Cx, e: LiftedExport, sig: Signature, exports: WebAssembly.Exports): Fn {
  const coreFn = exports[e.coreName] as Fn | undefined;
  if (typeof coreFn !== 'function') throw new Unsupported(`the core module does not export ${e.coreName}`);
  const call = JSPI.promising(coreFn);
  const postReturn = e.options.postReturn ? (exports[e.options.postReturn] as Fn) : undefined;
  const { params, result, paramsInMemory, resultInMemory, resultType } = sig;
  return async (...args: unknown[]) => {
    const core: unknown[] = [];
    // Borrows this call lends (pushed while its params are lowered, synchronously); calls that
    // overlap on one instance each return their own.
    const lent: Cx['lent'] = (cx.lent = []);
    if (paramsInMemory) {
      const base = alloc(cx, params.align, params.size);
      params.store(cx, base, args);
      core.push(base);
    } else {
      params.lowerFlat(cx, args, core);
    }
    let ret: unknown;
    try {
      ret = await call(...core);
    } finally {
      for (const { table, handle } of lent) table.take(handle);
    }
    let value: unknown;
    if (result) value = resultInMemory ? result.load(cx, (ret as number) >>> 0) : result.liftFlat(cx, [ret], 0);
    if (postReturn) postReturn(ret);
    if (!resultType) return value;
    const r = value as { tag: string; val?: unknown };
    if (r.tag === 'err') throw new ComponentError(r.val);
    return r.val;
  };
}

function shortName(iface: string): string {
  return unversioned(iface).split('/').pop() ?? iface;
}
