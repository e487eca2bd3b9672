/**
 * What a component's exports look like to the host, in jco's shapes: world-level functions by
 * their camelCase names, interfaces as objects of functions (under the full name and the short
 * one), guest-defined resources as classes whose `new` calls the constructor and whose methods
 * and statics call their exports. The shape (every name) is worked out once per component; an
 * instance only fills it with functions bound to its lifetime.
 */
import type { ExportItem, LiftPlan, Plan } from '../component/plan.ts';
import { camel, pascal, unversioned } from '../interface-name.ts';
import { GuestResource } from './handles.ts';

type Fn = (...args: unknown[]) => unknown;

/** One exported function: where it goes, which lift (its index in the blueprint) it calls. */
export interface FunctionShape {
  key: string;
  lift: number;
  /** Its result is a `result`: the host sees the ok value, and the err payload thrown. */
  resultType: boolean;
}

export interface ResourceShape {
  className: string;
  slot: number;
  constructor: FunctionShape | undefined;
  methods: FunctionShape[];
  statics: FunctionShape[];
}

export interface ExportShape {
  functions: FunctionShape[];
  resources: ResourceShape[];
  interfaces: { names: string[]; functions: FunctionShape[]; resources: ResourceShape[] }[];
}

const MEMBER = /^\[(constructor|method|static)\]([^.]+)(?:\.(.+))?$/;

/** The shape of a plan's exports; `liftIndex` numbers its lifted functions. */
export function exportShape(plan: Plan, liftIndex: (lift: LiftPlan) => number): ExportShape {
  const fn = (key: string, lift: LiftPlan): FunctionShape => ({ key, lift: liftIndex(lift), resultType: lift.type.result?.kind === 'result' });
  const resources = (items: Map<string, ExportItem>): ResourceShape[] => {
    const out: ResourceShape[] = [];
    for (const [name, item] of items) {
      if (item.kind !== 'resource') continue;
      const shape: ResourceShape = { className: pascal(name), slot: item.resource.slot, constructor: undefined, methods: [], statics: [] };
      for (const [n, it] of items) {
        const m = MEMBER.exec(n);
        if (!m || m[2] !== name || it.kind !== 'func') continue;
        if (m[1] === 'constructor') shape.constructor = fn('', it.lift);
        else (m[1] === 'method' ? shape.methods : shape.statics).push(fn(camel(m[3]), it.lift));
      }
      out.push(shape);
    }
    return out;
  };
  const functions = (items: Map<string, ExportItem>): FunctionShape[] =>
    [...items].filter(([n, it]) => it.kind === 'func' && !n.startsWith('[')).map(([n, it]) => fn(camel(n), (it as Extract<ExportItem, { kind: 'func' }>).lift));

  const shape: ExportShape = { functions: functions(plan.exports), resources: resources(plan.exports), interfaces: [] };
  for (const [name, item] of plan.exports) {
    if (item.kind !== 'instance') continue;
    // Also under its short name (`incomingHandler`), unless something took that name first.
    const short = camel(unversioned(name).split('/').pop() ?? name);
    shape.interfaces.push({ names: [name, short], functions: functions(item.items), resources: resources(item.items) });
  }
  return shape;
}

/** What the export object is built from: one instance's functions, and a place to put a resource's class. */
export interface ExportBinding {
  function(shape: FunctionShape): Fn;
  setClass(slot: number, cls: { prototype: object }): void;
}

export function buildExports(shape: ExportShape, bind: ExportBinding): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of shape.functions) out[f.key] = bind.function(f);
  for (const r of shape.resources) out[r.className] = resourceClass(r, bind);
  for (const iface of shape.interfaces) {
    const obj: Record<string, unknown> = {};
    for (const f of iface.functions) obj[f.key] = bind.function(f);
    for (const r of iface.resources) obj[r.className] = resourceClass(r, bind);
    for (const name of iface.names) out[name] ??= obj;
  }
  return out;
}

function resourceClass(shape: ResourceShape, bind: ExportBinding): Function {
  const ctor = shape.constructor && bind.function(shape.constructor);
  // A constructor answers a promise of the resource: the call runs in the guest (JSPI).
  const cls = function (...args: unknown[]) {
    if (!ctor) throw new TypeError(`${shape.className} has no constructor`);
    return ctor(...args);
  } as unknown as Fn & { prototype: Record<PropertyKey, unknown> } & Record<string, unknown>;
  Object.defineProperty(cls, 'name', { value: shape.className });
  cls.prototype = Object.create(GuestResource.prototype);
  cls.prototype.constructor = cls;
  for (const m of shape.methods) {
    const call = bind.function(m);
    cls.prototype[m.key] = function (this: unknown, ...args: unknown[]) {
      return call(this, ...args);
    };
  }
  for (const s of shape.statics) cls[s.key] = bind.function(s);
  bind.setClass(shape.slot, cls);
  return cls;
}
