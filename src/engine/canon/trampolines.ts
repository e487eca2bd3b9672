/**
 * The core functions a plan's trampolines stand for, one set per instance group (made once and
 * reused with it, see group.ts):
 *
 * - a host import lowered into a component instance: lift the guest's arguments, call the host,
 *   lower its answer; a host function may answer with a promise, and the guest is suspended
 *   (JSPI) until it settles;
 * - a function of one component instance lowered into another (a fused adapter): lift from the
 *   caller, call the callee on a stack of its own (it may suspend), lower its answer back;
 * - `resource.new`, `resource.rep` and `resource.drop` of a component instance's handles.
 */
import type { TrampolinePlan } from '../component/plan.ts';
import { trap, type Cx } from './cx.ts';
import type { InstanceGroup } from './group.ts';
import { invokeHost, type HostCall } from './host-call.ts';
import type { ComponentInstanceState, RuntimeResource } from './handles.ts';
import type { Signature } from './signature.ts';

/** JSPI (Node 24): TypeScript's DOM typings do not declare it yet. */
const Suspending = (WebAssembly as unknown as { Suspending: new (fn: Fn) => unknown }).Suspending;

type Fn = (...args: unknown[]) => unknown;

export function makeTrampoline(group: InstanceGroup, plan: TrampolinePlan, index: number): unknown {
  switch (plan.kind) {
    case 'host':
      return hostTrampoline(group, group.cxs[plan.options], group.blueprint.hostCalls[index]!, group.blueprint.lowered[index]!, index, `${plan.func.import}#${plan.func.name ?? ''}`);
    case 'fused':
      return fusedTrampoline(group, group.cxs[plan.options], group.blueprint.fusedLifts[index]!, group.blueprint.lowered[index]!);
    case 'resource.new': {
      const inst = group.states[plan.instance];
      const slot = plan.resource.slot;
      return (rep: number) => {
        checkMayLeave(inst);
        group.hostCalls++; // handles made while instantiating are state a restore would not put back
        return inst.handles.add(group.rts[slot], rep, true);
      };
    }
    case 'resource.rep': {
      const inst = group.states[plan.instance];
      const slot = plan.resource.slot;
      return (handle: number) => inst.handles.get(handle >>> 0, group.rts[slot]);
    }
    case 'resource.drop':
      return dropTrampoline(group, group.states[plan.instance], plan.resource.slot, plan.resource.host);
  }
}

function checkMayLeave(inst: ComponentInstanceState): void {
  if (!inst.mayLeave) trap('the guest called out of its instance while it may not (from cabi_realloc or a post-return function)');
}

/** A `result` error thrown by a host function is its payload; anything else is a host failure. */
function errorPayload(e: unknown): unknown {
  if (e && typeof e === 'object' && Object.hasOwn(e, 'payload')) return (e as { payload: unknown }).payload;
  if (e instanceof Error) throw e;
  return e;
}

/** Lowers a function's answer into the caller: as its flat result, or through the return pointer. `i` is the case of a `result` (0 ok, 1 err), -1 for any other type. */
function lowerResult(cx: Cx, sig: Signature, core: unknown[], retptrAt: number, i: number, value: unknown): unknown {
  const { result, resultInMemory } = sig;
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
}

function liftParams(cx: Cx, sig: Signature, core: unknown[]): unknown[] {
  return (sig.paramsInMemory ? sig.params.load(cx, (core[0] as number) >>> 0) : sig.params.liftFlat(cx, core, 0)) as unknown[];
}

function hostTrampoline(group: InstanceGroup, cx: Cx, call: HostCall, sig: Signature, index: number, name: string): unknown {
  const retptrAt = sig.paramsInMemory ? 1 : sig.params.flat.length;
  const OK = sig.resultType ? 0 : -1;
  const resultType = sig.resultType;
  const finish = (core: unknown[], i: number, value: unknown) => lowerResult(cx, sig, core, retptrAt, i, value);
  const inst = cx.inst;
  const adapter = function (...core: unknown[]): unknown {
    checkMayLeave(inst);
    const limiter = group.limiter;
    // A guest may loop through host calls (an output flood, a streamed body) with few fuel checks
    // between: its clocks are read every few host calls too, and once its time slice is used it
    // waits for the next turn of the event loop before the call (Limiter.enterHost).
    if (limiter?.enterHost()) return limiter.nextTurn().then(() => perform(core, limiter));
    return perform(core, limiter);
  };
  const perform = (core: unknown[], limiter: InstanceGroup['limiter']): unknown => {
    group.hostCalls++;
    const args = liftParams(cx, sig, core);
    let value: unknown;
    try {
      value = invokeHost(call, group.targets[index] ?? group.target(index), args);
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
  Object.defineProperty(adapter, 'name', { value: name });
  return new Suspending(adapter);
}

function fusedTrampoline(group: InstanceGroup, cx: Cx, lift: number, sig: Signature): unknown {
  const retptrAt = sig.paramsInMemory ? 1 : sig.params.flat.length;
  const caller = cx.inst;
  return new Suspending(async (...core: unknown[]) => {
    checkMayLeave(caller);
    group.hostCalls++;
    const args = liftParams(cx, sig, core);
    const value = await group.callLifted(lift, args, false);
    return lowerResult(cx, sig, core, retptrAt, -1, value);
  });
}

/**
 * Drops a handle. An owned host resource is disposed (`Symbol.dispose`); an owned guest resource
 * runs its destructor in the instance that defines it, on a stack of its own (it may suspend); a
 * borrowed handle only ends the borrow.
 */
function dropTrampoline(group: InstanceGroup, inst: ComponentInstanceState, slot: number, host: boolean): unknown {
  if (host) {
    return (handle: number) => {
      checkMayLeave(inst);
      const rep = inst.handles.remove(handle >>> 0, group.rts[slot]);
      if (!inst.handles.removedOwn) return void inst.borrows--;
      (rep as { [Symbol.dispose]?: () => void })[Symbol.dispose]?.();
    };
  }
  return new Suspending((handle: unknown) => {
    checkMayLeave(inst);
    const rt: RuntimeResource = group.rts[slot];
    const rep = inst.handles.remove((handle as number) >>> 0, rt);
    if (!inst.handles.removedOwn) return void inst.borrows--;
    if (!rt.dtor) return undefined;
    if (rt.impl !== inst && rt.impl!.entered) trap(`cannot run the destructor of ${rt.label}: its instance is already running (reentrance)`);
    return rt.dtor(rep as number);
  });
}
