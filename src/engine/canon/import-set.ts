/**
 * The core imports of one live instance: an adapter per imported function (lifting the guest's
 * arguments, calling the host, lowering the result) over the instance's context (memory, handle
 * tables), and the limiter's hooks.
 *
 * A set is built once and reused: when its instance is done (released, no call running or
 * suspended: see plan.ts), it is unbound and bound to the plan's next instance. Why: a core
 * instance is collected only by a full GC, and until then keeps its imports and all they reach
 * alive. Per-instance adapters were promoted out of the young generation by the thousand under
 * load (most of a fresh instance's GC time, measured). The old instance never runs again, so
 * the functions it still references may serve a new one.
 */
import type { ImportObject } from '../component.ts';
import type { Limiter } from '../limits/limiter.ts';
import { wasmHooks } from '../limits/hooks.ts';
import { MEMORY_IMPORT } from '../wasm/import-memory.ts';
import { camel, pascal, unversioned } from '../interface-name.ts';
import type { CoreImport } from './decode.ts';
import { HandleTable } from './handles.ts';
import type { Signature } from './signature.ts';
import type { ResourceType } from './types.ts';
import type { Cx } from './values.ts';

/** JSPI (Node 24): TypeScript's DOM typings do not declare it yet. */
const Suspending = (WebAssembly as unknown as { Suspending: new (fn: Fn) => unknown }).Suspending;

type Fn = (...args: unknown[]) => unknown;

/** One core import of the plan: a host function to call (`sig`, `call`) or a handle to drop (`table`). */
export interface ImportPlan {
  module: string;
  name: string;
  binding: CoreImport;
  sig?: Signature;
  call?: HostCall;
  table?: number;
}

/** How jco's glue calls the host for a core import: a function, or a class's constructor, static or method. */
export interface HostCall {
  key: string;
  member: string;
  form: 'function' | 'constructor' | 'static' | 'method';
  method: string;
}

export function hostCall(module: string, name: string): HostCall {
  const m = /^\[(constructor|method|static)\]([^.]+)(?:\.(.+))?$/.exec(name);
  const key = unversioned(module);
  if (!m) return { key, member: camel(name), form: 'function', method: '' };
  return { key, member: pascal(m[2]), form: m[1] as HostCall['form'], method: m[3] === undefined ? '' : camel(m[3]) };
}

const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

export class ImportSet {
  readonly cx: Cx;
  /** The import object for `WebAssembly.Instance`. */
  readonly core: ImportObject = {};
  limiter: Limiter | undefined;
  /** Per import plan: the host's function or class, from the bound import object. */
  readonly targets: unknown[] = [];
  readonly #plans: readonly ImportPlan[];
  #hooks: unknown[] | undefined;

  constructor(plans: readonly ImportPlan[], resources: readonly ResourceType[]) {
    this.#plans = plans;
    this.cx = {
      memory: undefined,
      realloc: undefined,
      tables: resources.map((r) => new HandleTable(r.name, (live) => this.#admit(live))),
      lent: [],
      view: EMPTY_VIEW,
    };
    plans.forEach((p, i) => {
      (this.core[p.module] ??= {})[p.name] = p.table !== undefined ? dropAdapter(this.cx, p.table) : callAdapter(this, p, i);
    });
  }

  /** Binds the set to a new instance: the host's functions, its limiter and its memory (if imported). */
  bind(imports: ImportObject, limiter: Limiter | undefined, memory: WebAssembly.Memory | undefined): void {
    this.limiter = limiter;
    this.#plans.forEach((p, i) => {
      this.targets[i] = p.call && (imports[p.call.key] ?? {})[p.call.member];
    });
    if (memory) this.core[MEMORY_IMPORT.module] = { [MEMORY_IMPORT.name]: memory };
    limiter?.shareHooks(this.#makeHooks);
  }

  /** The limiter's hooks, made once per set: they act on whichever limiter the set is bound to. */
  readonly #makeHooks = (): unknown[] =>
    (this.#hooks ??= wasmHooks({
      check: () => this.limiter!.check(),
      growMemory: (delta) => this.limiter!.growMemory(delta),
      growTable: (delta) => this.limiter!.growTable(delta),
    }));

  /** Lets go of the instance: host functions, handles, memory. */
  unbind(): void {
    this.limiter = undefined;
    this.targets.length = 0;
    delete this.core[MEMORY_IMPORT.module];
    for (const table of this.cx.tables) table.clear();
    Object.assign(this.cx, { memory: undefined, realloc: undefined, lent: [], view: EMPTY_VIEW });
  }

  #admit(live: number): void {
    const limiter = this.limiter;
    const cap = limiter?.maxResourceHandles;
    if (cap !== undefined && live > cap) limiter!.tooManyHandles();
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

function invoke(call: HostCall, target: unknown, args: unknown[]): unknown {
  switch (call.form) {
    case 'function':
      return (target as Fn)(...args);
    case 'constructor':
      return new (target as new (...a: unknown[]) => unknown)(...args);
    case 'static':
      return (target as Record<string, Fn>)[call.method](...args);
    case 'method': {
      const self = args.shift() as Record<string, Fn>;
      return self[call.method](...args);
    }
  }
}

function callAdapter(set: ImportSet, plan: ImportPlan, index: number): unknown {
  const { cx } = set;
  const call = plan.call!;
  const { params, result, paramsInMemory, resultInMemory, resultType } = plan.sig!;
  const liftArgs = (core: unknown[]): unknown[] =>
    (paramsInMemory ? params.load(cx, (core[0] as number) >>> 0) : params.liftFlat(cx, core, 0)) as unknown[];
  const retptrAt = paramsInMemory ? 1 : params.flat.length;
  /** Lowers what the host answered; `i` is the case of a `result` (0 ok, 1 err), -1 for any other type. */
  const finish = (core: unknown[], i: number, value: unknown): unknown => {
    if (!result) return undefined;
    if (resultInMemory) {
      const ptr = (core[retptrAt] as number) >>> 0;
      if (i < 0) result.store(cx, ptr, value);
      else result.storeCase!(cx, ptr, i, value);
      return undefined;
    }
    const out: unknown[] = [];
    if (i < 0) result.lowerFlat(cx, value, out);
    else result.lowerFlatCase!(cx, i, value, out);
    return out[0];
  };
  const OK = resultType ? 0 : -1;
  const adapter = function (...core: unknown[]): unknown {
    const limiter = set.limiter;
    // A guest may loop through host calls (an output flood) with few fuel checks between: its
    // clocks are read every few host calls too (Limiter.enterHost).
    limiter?.enterHost();
    const args = liftArgs(core);
    let value: unknown;
    try {
      value = invoke(call, set.targets[index], args);
    } catch (e) {
      if (!resultType) throw e;
      return finish(core, 1, errorPayload(e));
    }
    if (!(value instanceof Promise)) return finish(core, OK, value);
    const settled = value.then(
      (v) => finish(core, OK, v),
      (e) => {
        if (!resultType) throw e;
        return finish(core, 1, errorPayload(e));
      },
    );
    return limiter ? limiter.suspendedUntil(settled) : settled;
  };
  const binding = plan.binding as Extract<CoreImport, { kind: 'call' }>;
  Object.defineProperty(adapter, 'name', { value: `${binding.iface}#${binding.name}` });
  // Any host function may answer with a promise: the guest is suspended (JSPI) until it settles.
  return new Suspending(adapter);
}
