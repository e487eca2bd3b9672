/**
 * A plan made ready to run, once per compiled component: its core modules compiled, a codec
 * and a signature per function it lifts or lowers, the host call behind every host import, and
 * which canonical options can be resolved once each core instance exists.
 */
import type { CoreDef, LiftPlan, Plan } from '../component/plan.ts';
import { exportShape, type ExportShape } from './exports.ts';
import { hostCall, type HostCall } from './host-call.ts';
import type { Recycling } from './recycling.ts';
import { InitialImages } from './restore.ts';
import { signature, type Signature } from './signature.ts';
import { CodecCache } from './values.ts';

export interface Blueprint {
  readonly plan: Plan;
  /** By module index (the binary's order), as the engine prepared them. */
  readonly modules: readonly WebAssembly.Module[];
  /** Per trampoline: the signature on the lowering side (host and fused trampolines). */
  readonly lowered: readonly (Signature | undefined)[];
  /** Per trampoline: the host call (host trampolines). */
  readonly hostCalls: readonly (HostCall | undefined)[];
  /** Import object key -> the members the component uses (for `checkImports`). */
  readonly required: ReadonlyMap<string, readonly string[]>;
  /** Per core instance: the options whose memory, realloc and post-return exist once it does. */
  readonly optionsAfter: readonly (readonly number[])[];
  /** How instances are made cheaply: pooled memories, restored groups (recycling.ts). */
  readonly recycling: Recycling | undefined;
  /** The pooled memories' bytes right after instantiation, for restoring groups. */
  readonly images: InitialImages;
  /** Every function the plan lifts (exports and fused callees), with its signature on the lifting side. */
  readonly lifts: readonly { lift: LiftPlan; sig: Signature }[];
  /** Per trampoline: the lift a fused trampoline calls (its index in `lifts`). */
  readonly fusedLifts: readonly (number | undefined)[];
  readonly exports: ExportShape;
}

export function makeBlueprint(plan: Plan, modules: readonly WebAssembly.Module[], recycling?: Recycling): Blueprint {
  const codecs = new CodecCache();
  const lifts: { lift: LiftPlan; sig: Signature }[] = [];
  const liftIndex = new Map<LiftPlan, number>();
  const lifted = (lift: LiftPlan): number => {
    let i = liftIndex.get(lift);
    if (i === undefined) {
      liftIndex.set(lift, (i = lifts.length));
      lifts.push({ lift, sig: signature(lift.type, plan.options[lift.options].encoding, codecs) });
    }
    return i;
  };
  const required = new Map<string, string[]>();
  const lowered: (Signature | undefined)[] = [];
  const hostCalls: (HostCall | undefined)[] = [];
  const fusedLifts: (number | undefined)[] = [];
  for (const t of plan.trampolines) {
    fusedLifts.push(t.kind === 'fused' ? lifted(t.callee) : undefined);
    if (t.kind === 'host') {
      const call = hostCall(t.func.import, t.func.name);
      const members = required.get(call.key) ?? [];
      if (!members.includes(call.member)) members.push(call.member);
      required.set(call.key, members);
      hostCalls.push(call);
      lowered.push(signature(t.func.type, plan.options[t.options].encoding, codecs));
    } else if (t.kind === 'fused') {
      hostCalls.push(undefined);
      lowered.push(signature(t.callee.type, plan.options[t.options].encoding, codecs));
    } else {
      hostCalls.push(undefined);
      lowered.push(undefined);
    }
  }
  const exports = exportShape(plan, lifted);

  const optionsAfter: number[][] = plan.coreInstances.map(() => []);
  const last = (...defs: (CoreDef | undefined)[]) => Math.max(0, ...defs.map((d) => (d?.kind === 'export' ? d.instance : 0)));
  plan.options.forEach((o, i) => {
    if (o.memory || o.realloc || o.postReturn) optionsAfter[last(o.memory, o.realloc, o.postReturn)]?.push(i);
  });
  return { plan, modules, lowered, hostCalls, required, optionsAfter, recycling, images: new InitialImages(), lifts, fusedLifts, exports };
}
