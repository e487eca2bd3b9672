/**
 * One instance of a component at run time: every core instance of its plan, made in order with
 * the arguments the plan names, the trampolines between them and to the host, the canonical
 * options' contexts, and a state (handles, reentrance) per component instance of the plan.
 *
 * The trampolines, contexts and states are made once per group. When an instance is done (its
 * invocation closed it and no call into it is running or suspended), its group is unbound and
 * made ready for the plan's next instance (see runtime.ts): why it pays is written there.
 */
import { InstanceClosedError, MissingImportError } from '../../errors.ts';
import { MEMORY_IMPORT } from '../wasm/import-memory.ts';
import type { CoreDef } from '../component/plan.ts';
import type { ImportObject } from '../component.ts';
import { pascal, unversioned } from '../interface-name.ts';
import { wasmHooks } from '../limits/hooks.ts';
import { coreHooks, type CoreHooks, type Limiter } from '../limits/limiter.ts';
import type { Blueprint } from './blueprint.ts';
import { alloc, EMPTY_VIEW, trap, type Cx } from './cx.ts';
import { buildExports } from './exports.ts';
import { ComponentInstanceState, RuntimeResource } from './handles.ts';
import { hostTarget } from './host-call.ts';
import { GlobalsSnapshot } from './restore.ts';
import { makeTrampoline } from './trampolines.ts';

/** JSPI (Node 24): TypeScript's DOM typings do not declare it yet. */
const promising = (WebAssembly as unknown as { promising: (fn: Fn) => (...args: unknown[]) => Promise<unknown> }).promising;

type Fn = (...args: unknown[]) => unknown;

/** The payload of a `result` error returned by a guest export (jco's `ComponentError` shape). */
export class ComponentError extends Error {
  readonly payload: unknown;
  constructor(payload: unknown) {
    super(typeof payload === 'string' ? payload : `${String((payload as { tag?: string })?.tag ?? payload)} (see error.payload)`);
    this.payload = payload;
  }
}

/** Whether an instance may still run guest code: export calls under way, and whether it was released. */
export interface Lifetime {
  active: number;
  released: boolean;
  /** A call into it failed (trap, limit, exit, a value the ABI refused): its group is never reused whole. */
  failed: boolean;
  /** Runs once the instance is released and idle. */
  onIdle: () => void;
}

export class InstanceGroup {
  readonly blueprint: Blueprint;
  readonly states: ComponentInstanceState[];
  /** Runtime resource types by slot; a guest slot gets a new one for every instance the group serves. */
  readonly rts: RuntimeResource[];
  readonly cxs: Cx[];
  readonly trampolines: unknown[];
  /** The bound import object: each host function is looked up in it at its first call. */
  imports: ImportObject | undefined;
  /** Per trampoline: the host's function or class, once looked up. */
  readonly targets: unknown[] = [];
  readonly cores: WebAssembly.Instance[] = [];
  /** Per core instance: its instrumentation's exports, read once. */
  readonly #coreHooks: CoreHooks[] = [];
  /** Per core instance: the memory it took from its module's pool, if it did. */
  readonly memories: (WebAssembly.Memory | undefined)[] = [];
  /** Its globals as instantiation left them, when the group can be restored (restore.ts). */
  snapshot: GlobalsSnapshot | undefined;
  limiter: Limiter | undefined;
  /** Calls out of the guest (host imports, fused calls, resource built-ins) since instantiation began. */
  hostCalls = 0;
  /** Memory and table growths refused since instantiation began. */
  refusedGrowths = 0;
  /** Per lift (the blueprint's): its core function made callable with JSPI, and its post-return. */
  readonly #calls: ({ call: (...args: unknown[]) => Promise<unknown>; postReturn: Fn | undefined } | undefined)[] = [];
  #hooks: unknown[] | undefined;
  #hostRts: RuntimeResource[] | undefined;

  constructor(blueprint: Blueprint) {
    this.blueprint = blueprint;
    const { plan } = blueprint;
    this.states = Array.from({ length: plan.componentInstances }, () => new ComponentInstanceState());
    for (const s of this.states) s.handles.admit = (live) => this.#admit(live);
    this.rts = plan.resources.map((r) => {
      const rt = new RuntimeResource(r.type);
      if (r.kind === 'host') rt.lookupClass = () => this.#hostClass(r.type.iface, r.type.name);
      return rt;
    });
    this.#renewResources();
    this.cxs = plan.options.map((o) => ({ memory: undefined, realloc: undefined, view: EMPTY_VIEW, inst: this.states[o.instance], rts: this.rts }));
    this.trampolines = plan.trampolines.map((t, i) => makeTrampoline(this, t, i));
  }

  /**
   * Binds the group to an instance's host functions and limiter. The functions are looked up
   * when first called: an import object may build its interfaces on first use (the host's WASI
   * does), and a component lowers many functions it never calls (the preview1 adapter's).
   */
  bind(imports: ImportObject, limiter: Limiter | undefined): void {
    this.limiter = limiter;
    this.imports = imports;
    this.targets.fill(undefined);
    for (const rt of this.#hostResources) rt.hostClass = undefined;
    if (limiter) {
      limiter.shareHooks(this.#makeHooks);
      limiter.mayYield = this.#mayYield;
    }
  }

  /** A guest may be suspended unless it runs outside JSPI: in cabi_realloc or a post-return (may-leave is false then). */
  readonly #mayYield = (): boolean => {
    for (const s of this.states) if (!s.mayLeave) return false;
    return true;
  };

  /** The class the bound import object gives for a host resource, if any. */
  #hostClass(iface: string, name: string): Function | null {
    const cls = iface ? (this.imports?.[unversioned(iface)] as Record<string, unknown> | undefined)?.[pascal(name)] : undefined;
    return typeof cls === 'function' ? cls : null;
  }

  get #hostResources(): RuntimeResource[] {
    return (this.#hostRts ??= this.rts.filter((rt) => rt.type.host));
  }

  /** The host's function or class behind host trampoline `i`. */
  target(i: number): unknown {
    const call = this.blueprint.hostCalls[i]!;
    const target = hostTarget(call, this.imports?.[call.key]);
    if (target === undefined) throw new MissingImportError(call.key, `component imports ${call.key}, but the host provides no ${call.member}`);
    return (this.targets[i] = target);
  }

  /**
   * Makes every core instance of the plan, in order; start functions run as each is made. When
   * that ran no call out of the guest and no growth was refused (the state it left is then the
   * same for every instance), the group can be restored later.
   */
  async instantiate(): Promise<void> {
    const { plan, modules, optionsAfter, recycling } = this.blueprint;
    this.#calls.length = 0;
    this.hostCalls = 0;
    this.refusedGrowths = 0;
    for (let k = 0; k < plan.coreInstances.length; k++) {
      const step = plan.coreInstances[k];
      const imports: Record<string, unknown> = {};
      const pool = recycling?.pools[step.module];
      if (pool) imports[MEMORY_IMPORT.module] = { [MEMORY_IMPORT.name]: (this.memories[k] = pool.take()) };
      for (const [name, arg] of step.args) {
        if (arg.kind === 'instance') imports[name] = this.cores[arg.instance].exports;
        else {
          const bag: Record<string, unknown> = {};
          for (const [field, def] of arg.items) bag[field] = this.resolve(def);
          imports[name] = bag;
        }
      }
      const instance = new WebAssembly.Instance(modules[step.module], imports as WebAssembly.Imports);
      const hooks = coreHooks(instance);
      this.cores[k] = instance;
      this.#coreHooks[k] = hooks;
      this.limiter?.adopt(hooks);
      for (const o of optionsAfter[k]) this.#resolveOptions(o);
      // The limits instrumentation moved the start function to an export, run once the hooks and
      // options are in place, on a stack of its own (it may call the host, which may suspend it).
      if (hooks.start) await promising(hooks.start)();
    }
    if (recycling?.restorable && this.hostCalls === 0 && this.refusedGrowths === 0) {
      this.blueprint.images.capture(this.memories);
      const globals: WebAssembly.Global[] = [];
      plan.coreInstances.forEach((step, k) => {
        for (const name of recycling.globals[step.module]!) globals.push(this.cores[k].exports[name] as WebAssembly.Global);
      });
      this.snapshot = new GlobalsSnapshot(globals);
    }
  }

  /** Bytes of the memories the group holds. */
  get memoryBytes(): number {
    let bytes = 0;
    for (const m of this.memories) if (m) bytes += m.buffer.byteLength;
    return bytes;
  }

  /** Puts the group back as instantiation left it; false when it cannot be (see restore.ts). */
  restore(): boolean {
    if (!this.snapshot || !this.blueprint.images.restore(this.memories, this.blueprint.recycling!.virtualSizes)) return false;
    this.snapshot.restore();
    return true;
  }

  /** Lets go of the core instances (they never run again), their memories back to the pools. */
  dropCores(): void {
    const { plan, recycling } = this.blueprint;
    this.memories.forEach((memory, k) => {
      if (memory) recycling!.pools[plan.coreInstances[k].module]!.give(memory);
    });
    this.memories.length = 0;
    this.cores.length = 0;
    this.#coreHooks.length = 0;
    this.snapshot = undefined;
  }

  /** A restored group's core instances handed to its new limiter. */
  adoptCores(): void {
    for (const hooks of this.#coreHooks) this.limiter?.adopt(hooks);
  }

  /** A core item of the plan: an export of a core instance made already, or a trampoline. */
  resolve(def: CoreDef): unknown {
    if (def.kind === 'trampoline') return this.trampolines[def.index];
    const value = this.cores[def.instance]?.exports[def.name];
    if (value === undefined) trap(`core instance ${def.instance} has no export ${def.name}`);
    return value;
  }

  #resolveOptions(i: number): void {
    const o = this.blueprint.plan.options[i];
    const cx = this.cxs[i];
    if (o.memory) {
      const memory = this.resolve(o.memory);
      if (!(memory instanceof WebAssembly.Memory)) trap(`canonical option memory is not a memory`);
      cx.memory = memory;
    }
    if (o.realloc) cx.realloc = this.resolve(o.realloc) as Cx['realloc'];
  }

  /** New runtime types for the guest's resource slots (each instance defines its own), and their destructors. */
  #renewResources(): void {
    const { plan } = this.blueprint;
    plan.resources.forEach((r, slot) => {
      if (r.kind === 'host') return;
      const rt = new RuntimeResource(r.type);
      rt.impl = this.states[r.instance];
      if (r.dtor) {
        const dtor = r.dtor;
        let call: ((rep: number) => Promise<unknown>) | undefined;
        rt.dtor = (rep: number) => (call ??= promising(this.resolve(dtor) as Fn) as (rep: number) => Promise<unknown>)(rep);
      }
      this.rts[slot] = rt;
    });
  }

  /** Lets go of the instance it served: host functions, handles, memories' users; ready for the next. */
  unbind(): void {
    this.limiter = undefined;
    this.imports = undefined;
    this.targets.fill(undefined);
    for (const s of this.states) s.reset();
    this.#renewResources();
  }

  /** The limiter's hooks, made once per group: they act on whichever limiter the group is bound to. */
  readonly #makeHooks = (): unknown[] =>
    (this.#hooks ??= wasmHooks({
      check: () => this.limiter!.check(),
      nextTurn: () => this.limiter!.nextTurn(),
      growMemory: (delta, memory) => this.#counted(this.limiter!.growMemory(delta, memory)),
      growTable: (delta) => this.#counted(this.limiter!.growTable(delta)),
      memorySize: (memory) => this.limiter!.memorySize(memory),
    }));

  #counted(grown: number): number {
    if (grown === -1) this.refusedGrowths++;
    return grown;
  }

  #admit(live: number): void {
    const limiter = this.limiter;
    const cap = limiter?.maxResourceHandles;
    if (cap !== undefined && live > cap) limiter!.tooManyHandles();
  }

  /**
   * Calls a lifted function (`lift`: its index in the blueprint) with lifted (JavaScript)
   * arguments and answers its lifted result (`canon_lift`): one synchronous call per component
   * instance at a time. From the host, a call waits its turn; from another instance of the group,
   * entering a busy one is reentrance and traps.
   */
  async callLifted(lift: number, args: unknown[], fromHost: boolean): Promise<unknown> {
    const { lift: plan, sig } = this.blueprint.lifts[lift];
    const cx = this.cxs[plan.options];
    const inst = cx.inst;
    if (inst.entered) {
      if (!fromHost) trap('cannot enter a component instance that is already running (reentrance)');
      while (inst.entered) await inst.turn();
    }
    const { params, result, paramsInMemory, resultInMemory } = sig;
    const { call, postReturn } = this.#calls[lift] ?? this.#callable(lift);
    inst.entered = true;
    try {
      const core: unknown[] = [];
      inst.mayLeave = false;
      if (paramsInMemory) {
        const base = alloc(cx, params.align, params.size);
        params.store(cx, base, args);
        core.push(base);
      } else {
        params.lowerFlat(cx, args, core);
      }
      inst.mayLeave = true;
      const ret = await call(...core);
      if (inst.borrows !== 0) trap('borrow handles still remain at the end of the call');
      let value: unknown;
      if (result) value = resultInMemory ? result.load(cx, (ret as number) >>> 0) : result.liftFlat(cx, [ret], 0);
      if (postReturn) {
        inst.mayLeave = false;
        postReturn(ret);
      }
      return value;
    } finally {
      inst.mayLeave = true;
      inst.borrows = 0;
      inst.exit();
    }
  }

  #callable(lift: number): { call: (...args: unknown[]) => Promise<unknown>; postReturn: Fn | undefined } {
    const plan = this.blueprint.lifts[lift].lift;
    const fn = this.resolve(plan.core);
    if (typeof fn !== 'function') trap('a lifted function is not a core function');
    const postReturn = this.blueprint.plan.options[plan.options].postReturn;
    return (this.#calls[lift] = { call: promising(fn as Fn), postReturn: postReturn && (this.resolve(postReturn) as Fn) });
  }

  /** The exports the host sees, in jco's shapes, bound to one instance's lifetime. */
  exports(life: Lifetime): Record<string, unknown> {
    return buildExports(this.blueprint.exports, {
      function: ({ lift, resultType }) => this.#exportFunction(life, lift, resultType),
      setClass: (slot, cls) => (this.rts[slot].handleClass = cls),
    });
  }

  #exportFunction(life: Lifetime, lift: number, resultType: boolean): Fn {
    return async (...args: unknown[]) => {
      // A released instance never runs again: its memory may belong to another instance by now.
      if (life.released) throw new InstanceClosedError('instance is closed');
      life.active++;
      try {
        const value = await this.callLifted(lift, args, true);
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
}
