/**
 * wasmhost's own canonical ABI: a component decoded once into a plan (value codecs compiled into
 * closures, imports and exports resolved by name), then instantiated any number of times by
 * instantiating its one core module with adapters around the host's functions. It stands in for
 * jco's generated glue behind `CompiledComponent.instantiate`, for the components
 * `decodeComponent` accepts.
 *
 * Why: jco 1.35's glue builds its whole runtime per instance (~0.5-0.9 ms) and keeps task and
 * subtask bookkeeping on every call (~12 us per host call); a plan instantiates in tens of
 * microseconds and calls the host through one closure. DESIGN.md keeps this door open.
 *
 * An instance is released (`RELEASE`, called by `Instance.close`) when its invocation ends. Once
 * no call into it is running or suspended either, it can never run again: its import set and its
 * memory (when the module imports it, see wasm/import-memory.ts) go to the plan's next instance,
 * or, when its whole state can be restored (wasm/export-state.ts) and it ended cleanly, the core
 * instance itself does, restored to its initial state (initial-state.ts).
 */
import type { Limiter } from '../limits/limiter.ts';
import { InstanceClosedError } from '../../errors.ts';
import { RELEASE } from '../instance.ts';
import { camel, unversioned } from '../interface-name.ts';
import type { ComponentShape, LiftedExport } from './decode.ts';
import { Unsupported } from './decode.ts';
import type { ImportObject } from '../component.ts';
import { hostCall, ImportSet, type ImportPlan } from './import-set.ts';
import type { GlobalsSnapshot, InitialState } from './initial-state.ts';
import type { MemoryPool } from './memory-pool.ts';
import { MAX_FLAT_PARAMS, type Signature } from './signature.ts';
import type { FuncType, ResourceType } from './types.ts';
import { alloc, codec, type Cx } from './values.ts';

/** JSPI (Node 24): TypeScript's DOM typings do not declare it yet. */
const promising = (WebAssembly as unknown as { promising: (fn: Fn) => (...args: unknown[]) => Promise<unknown> }).promising;

/** Idle import sets kept per plan: about the instances that run at once. */
const MAX_IDLE_SETS = 64;

type Fn = (...args: unknown[]) => unknown;

/** The payload of a `result` error returned by a guest export (jco's `ComponentError` shape). */
export class ComponentError extends Error {
  readonly payload: unknown;
  constructor(payload: unknown) {
    super(typeof payload === 'string' ? payload : `${String((payload as { tag?: string })?.tag ?? payload)} (see error.payload)`);
    this.payload = payload;
  }
}

export interface Plan {
  shape: ComponentShape;
  /** Import object key -> the members the component uses (for `checkImports`). */
  requiredImports: Map<string, string[]>;
  /**
   * Instantiates the core module with adapters around `imports`, its limits enforced by
   * `limiter` (when its module is instrumented). When the module imports its memory
   * (wasm/import-memory.ts), `recycling` supplies it and takes it back once the instance is done.
   */
  instantiate(module: WebAssembly.Module, imports: ImportObject, limiter?: Limiter, recycling?: Recycling): Promise<Record<string, unknown>>;
}

/** What a module that imports its memory is recycled with. */
export interface Recycling {
  memories: MemoryPool;
  /** When the module's whole state can be restored (wasm/export-state.ts): finished instances serve as new ones. */
  initial?: InitialState;
}

/** A core instance with what it is bound through, kept whole between invocations when it can be restored. */
interface CoreInstance {
  set: ImportSet;
  instance: WebAssembly.Instance;
  memory: WebAssembly.Memory | undefined;
  initial: GlobalsSnapshot | undefined;
  /** Per export plan: the core function, callable with JSPI. */
  calls: ((...args: unknown[]) => Promise<unknown>)[];
}

/** Whether an instance may still run guest code: export calls under way, and whether it was released. */
interface Lifetime {
  active: number;
  released: boolean;
  /** A call into it failed (trap, limit, exit, a value the ABI refused): it is never recycled whole. */
  failed: boolean;
  /** Runs once the instance is released and idle. */
  onIdle: () => void;
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
  const importPlans: ImportPlan[] = [];
  for (const [module, fields] of shape.imports) {
    for (const [name, binding] of fields) {
      if (binding.kind === 'drop') {
        importPlans.push({ module, name, binding, table: tableOf(binding.resource) });
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
  const idleSets: ImportSet[] = [];
  const idleCores: CoreInstance[] = [];

  return {
    shape,
    requiredImports: required,
    async instantiate(module, imports, limiter, recycling) {
      const idle = idleCores.pop();
      let core: CoreInstance;
      if (idle) {
        recycling!.memories.unhold();
        core = idle;
        core.set.bind(imports, limiter, core.memory);
        limiter?.adopt(core.instance);
      } else {
        const set = idleSets.pop() ?? new ImportSet(importPlans, resources);
        // A memory or set that instantiation fails on may hold the start function's writes or
        // handles: neither is reused.
        const memory = recycling?.memories.take();
        set.bind(imports, limiter, memory);
        const instance = limiter ? await limiter.instantiateCore(module, set.core as WebAssembly.Imports) : new WebAssembly.Instance(module, set.core as WebAssembly.Imports);
        const { exports } = instance;
        core = {
          set,
          instance,
          memory,
          initial: recycling?.initial && memory ? recycling.initial.capture(exports, memory) : undefined,
          calls: exportPlans.map(({ e }) => {
            const fn = exports[e.coreName] as Fn | undefined;
            if (typeof fn !== 'function') throw new Unsupported(`the core module does not export ${e.coreName}`);
            return promising(fn);
          }),
        };
      }
      const { set, instance, memory } = core;
      const { exports } = instance;
      const { cx } = set;
      const life: Lifetime = {
        active: 0,
        released: false,
        failed: false,
        onIdle: () => {
          set.unbind();
          // A fresh instance for the next invocation: this one, as it started, when its whole
          // state can be put back (and it ended cleanly); else its memory and import set.
          const initial = recycling?.initial;
          if (initial && core.initial && memory && !life.failed && recycling!.memories.hold()) {
            if (initial.restore(core.initial, memory)) return void idleCores.push(core);
            recycling!.memories.unhold();
          }
          if (memory) recycling!.memories.give(memory);
          if (idleSets.length < MAX_IDLE_SETS) idleSets.push(set);
        },
      };
      cx.memory = memoryName ? (exports[memoryName] as WebAssembly.Memory) : undefined;
      cx.realloc = reallocName ? (exports[reallocName] as Cx['realloc']) : undefined;
      const out: Record<string, Record<string, unknown> | unknown> = {};
      exportPlans.forEach(({ e, sig, member, short }, i) => {
        const fn = exportAdapter(cx, life, core.calls[i], sig, e.options.postReturn ? (exports[e.options.postReturn] as Fn) : undefined);
        if (e.iface === undefined) out[member] = fn;
        else {
          const obj = (out[e.iface] ??= {}) as Record<string, unknown>;
          obj[member] = fn;
          out[short!] ??= obj;
        }
      });
      Object.defineProperty(out, RELEASE, {
        value: () => {
          if (life.released) return;
          life.released = true;
          if (life.active === 0) life.onIdle();
        },
      });
      return out as Record<string, unknown>;
    },
  };
}

function exportAdapter(cx: Cx, life: Lifetime, call: (...args: unknown[]) => Promise<unknown>, sig: Signature, postReturn: Fn | undefined): Fn {
  const { params, result, paramsInMemory, resultInMemory, resultType } = sig;
  return async (...args: unknown[]) => {
    // A released instance never runs again: its memory may belong to another instance by now.
    if (life.released) throw new InstanceClosedError('instance is closed');
    life.active++;
    try {
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
    } catch (err) {
      // A guest error result is a clean end; a trap, a limit or a bad value is not.
      if (!(err instanceof ComponentError)) life.failed = true;
      throw err;
    } finally {
      if (--life.active === 0 && life.released) life.onIdle();
    }
  };
}

function shortName(iface: string): string {
  return unversioned(iface).split('/').pop() ?? iface;
}
