/**
 * Resources crossing component boundaries. jco's glue checks every resource it receives with
 * `instanceof` against the class it was given at instantiation, and an importer is instantiated
 * before the exporter exists (linking is lazy), so each importer gets stand-in classes: objects
 * that forward to the exporter's real resource. Values crossing a boundary are converted for
 * the receiving side: the exporter's own objects for the exporter, a stand-in for an importer.
 */
import type { Instance } from '../engine/instance.ts';

type Fn = (...args: unknown[]) => unknown;
type Class = new (...args: unknown[]) => object;

/** The real resource behind a stand-in. */
const REAL = Symbol('wasmhost.real');

interface ResourceInfo {
  owner: string;
  iface: string;
  name: string;
}

interface Target {
  instance: Instance;
  members: Record<string, unknown>;
}

export class ResourceBridge {
  /** Real resource class -> which component exports it, under which name. */
  readonly #owners = new Map<Function, ResourceInfo>();
  /** `importer|owner|iface|name` -> the importer's stand-in class. */
  readonly #standIns = new Map<string, Class>();
  /** Stand-in class -> real object -> its stand-in (one per real object, so identity holds). */
  readonly #wrapped = new Map<Class, WeakMap<object, object>>();

  /** Records the resource classes of a new instance's exported interfaces. */
  registerExports(component: string, exports: Readonly<Record<string, unknown>>): void {
    for (const [iface, members] of Object.entries(exports)) {
      if (!iface.includes('/') || members === null || typeof members !== 'object') continue;
      for (const [name, value] of Object.entries(members)) {
        if (typeof value === 'function' && /^[A-Z]/.test(name)) this.#owners.set(value, { owner: component, iface, name });
      }
    }
  }

  /** Calls `fn` of `exporter` for `importer`, converting arguments, results and `result` errors. */
  async cross(importer: string, exporter: string, instance: Instance, fn: Fn, args: unknown[]): Promise<unknown> {
    try {
      const result = await instance.guard(() => fn(...(this.#convert(exporter, args) as unknown[])));
      return this.#convert(importer, result);
    } catch (err) {
      throw err instanceof Error ? err : this.#convert(importer, err);
    }
  }

  /** The class `importer` is given for resource `name` of `iface`, exported by `owner`. */
  standInClass(importer: string, owner: string, iface: string, name: string, target: () => Promise<Target>): Class {
    const key = `${importer}|${owner}|${iface}|${name}`;
    let standIn = this.#standIns.get(key);
    if (!standIn) {
      standIn = this.#makeStandIn(importer, owner, name, target);
      this.#standIns.set(key, standIn);
      this.#wrapped.set(standIn, new WeakMap());
    }
    return standIn;
  }

  #makeStandIn(importer: string, owner: string, name: string, target: () => Promise<Target>): Class {
    const bridge = this;
    const forward = (pick: (members: Record<string, unknown>, self: unknown) => Fn, self?: unknown) =>
      async (...args: unknown[]) => {
        const { instance, members } = await target();
        const real = self === undefined ? undefined : (self as Record<symbol, unknown>)[REAL];
        return bridge.cross(importer, owner, instance, pick(members, real), args);
      };

    // A constructor may return a promise: the importer's glue awaits what `new` gives it.
    const StandIn = function (...args: unknown[]) {
      return (async () => {
        const { instance, members } = await target();
        const Real = members[name] as Class;
        const real = await instance.guard(() => new Real(...(bridge.#convert(owner, args) as unknown[])));
        return bridge.#convert(importer, real);
      })();
    } as unknown as Class;
    Object.defineProperty(StandIn, 'name', { value: name });

    const methods = new Map<string, Fn>();
    const method = (prop: string) => {
      let fn = methods.get(prop);
      if (!fn) {
        fn = function (this: unknown, ...args: unknown[]) {
          return forward((_, real) => {
            const m = (real as Record<string, unknown>)[prop];
            return typeof m === 'function' ? (m as Fn).bind(real) : missing(name, prop);
          }, this)(...args);
        };
        methods.set(prop, fn);
      }
      return fn;
    };
    // Method names are only known once the exporter exists: a trap on the prototype chain
    // answers any name. Symbols and `then` stay undefined (glue symbols; `await` must not
    // mistake a resource for a promise).
    const trap = new Proxy(Object.create(null) as object, {
      get: (_, prop) => (typeof prop === 'string' && prop !== 'then' ? method(prop) : undefined),
    });
    const proto = Object.create(trap) as Record<PropertyKey, unknown>;
    proto.constructor = StandIn;
    proto[Symbol.dispose] = function (this: Record<symbol, { [Symbol.dispose]?: () => void }>) {
      this[REAL]?.[Symbol.dispose]?.();
    };
    StandIn.prototype = proto;

    // Static functions of the resource, forwarded the same way.
    return new Proxy(StandIn, {
      get: (cls, prop, receiver) =>
        typeof prop !== 'string' || prop in cls
          ? Reflect.get(cls, prop, receiver)
          : forward((members) => {
              const fn = (members[name] as unknown as Record<string, unknown>)[prop];
              return typeof fn === 'function' ? (fn as Fn) : missing(name, prop);
            }),
    });
  }

  /** A value as `component` must see it: its own resources real, others as its stand-ins. */
  #convert(component: string, value: unknown): unknown {
    if (this.#owners.size === 0 || value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
    const real = ((value as Record<symbol, unknown>)[REAL] ?? value) as object;
    const info = this.#owners.get(real.constructor);
    if (info) {
      if (info.owner === component) return real;
      const standIn = this.#standIns.get(`${component}|${info.owner}|${info.iface}|${info.name}`);
      return standIn ? this.#wrap(standIn, real) : real;
    }
    if (Array.isArray(value)) return value.map((v) => this.#convert(component, v));
    if (Object.getPrototypeOf(value) !== Object.prototype) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.#convert(component, v);
    return out;
  }

  #wrap(standIn: Class, real: object): object {
    const cache = this.#wrapped.get(standIn)!;
    let wrapper = cache.get(real);
    if (!wrapper) {
      wrapper = Object.create(standIn.prototype) as object;
      Object.defineProperty(wrapper, REAL, { value: real });
      cache.set(real, wrapper);
    }
    return wrapper;
  }
}

function missing(resource: string, member: string): never {
  throw new TypeError(`resource ${resource} has no member ${member}`);
}
