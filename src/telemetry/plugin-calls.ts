/**
 * Plugin calls as `wasmhost:plugin.call` events. The host passes the implementations a plugin
 * gave a component through `tracePluginCalls` only when someone listens at bind time, so a
 * workload bound without telemetry calls the plugin's functions untouched.
 *
 * Functions and a resource's static functions are wrapped in new objects. A resource's methods
 * are called on the plugin's own objects (`bucket.get(key)`: the runtime calls `self[method]`),
 * so they can only be wrapped where the objects find them: on the class's prototype, once per
 * class (the class may be shared by every component the plugin serves). Those wrappers ask
 * `hasSubscribers` on every call, and their events name no workload or component (the
 * subscriber takes them from the invocation the call happens in). Constructors are not traced.
 */
import { pluginCall, type PluginCallEvent } from './channels.ts';

type Fn = (this: unknown, ...args: unknown[]) => unknown;
type Implementations = Record<string, Record<string, unknown>>;

/** Marks a class whose prototype (and statics) carry wrappers already. */
const WRAPPED = Symbol.for('wasmhost.telemetry.wrapped');

/**
 * The implementations with every function published as a plugin call. `pluginOf` answers the
 * plugin serving an (unversioned) interface key, or undefined to leave it as it is.
 */
export function tracePluginCalls(
  implementations: Implementations,
  pluginOf: (key: string) => string | undefined,
  where: { workloadId: string; component: string },
): Implementations {
  const out: Implementations = {};
  for (const [key, members] of Object.entries(implementations)) {
    const pluginId = pluginOf(key);
    if (pluginId === undefined) {
      out[key] = members;
      continue;
    }
    const wrapped: Record<string, unknown> = {};
    for (const [member, value] of Object.entries(members)) {
      if (typeof value !== 'function') wrapped[member] = value;
      else if (/^[A-Z]/.test(member)) {
        // jco's conventions: resources are PascalCase classes, functions camelCase.
        wrapClass(value as Function, member, { pluginId, interface: key });
        wrapped[member] = value;
      } else {
        wrapped[member] = traced(value as Fn, { pluginId, interface: key, function: kebab(member), ...where });
      }
    }
    out[key] = wrapped;
  }
  return out;
}

function wrapClass(cls: Function, member: string, base: { pluginId: string; interface: string }): void {
  if (Object.hasOwn(cls, WRAPPED)) return;
  const resource = kebab(member);
  const patch = (target: object, name: string, fn: Fn, label: string) => {
    try {
      Object.defineProperty(target, name, {
        value: traced(fn, { ...base, function: `${label}${resource}.${kebab(name)}`, workloadId: '', component: '' }),
        writable: true,
        configurable: true,
        enumerable: false,
      });
    } catch {
      // A frozen class: its calls stay untraced.
    }
  };
  for (const name of Object.getOwnPropertyNames(cls)) {
    if (name === 'length' || name === 'name' || name === 'prototype') continue;
    const d = Object.getOwnPropertyDescriptor(cls, name);
    if (typeof d?.value === 'function') patch(cls, name, d.value as Fn, '[static]');
  }
  const seen = new Set<string>();
  for (let proto = cls.prototype as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || seen.has(name)) continue;
      seen.add(name);
      const d = Object.getOwnPropertyDescriptor(proto, name);
      if (typeof d?.value === 'function') patch(cls.prototype as object, name, d.value as Fn, '[method]');
    }
  }
  try {
    Object.defineProperty(cls, WRAPPED, { value: true });
  } catch {
    // frozen: see above
  }
}

/** `fn` publishing each call; a promise it answers settles the event when it settles. */
function traced(fn: Fn, base: PluginCallEvent): Fn {
  return function (this: unknown, ...args: unknown[]): unknown {
    if (!pluginCall.start.hasSubscribers) return fn.apply(this, args);
    const event: PluginCallEvent = { ...base };
    return pluginCall.start.runStores(event, () => {
      try {
        const result = fn.apply(this, args);
        if (result instanceof Promise) {
          event.async = true;
          return result.then(
            (value) => {
              event.result = value;
              pluginCall.asyncStart.publish(event);
              pluginCall.asyncEnd.publish(event);
              return value;
            },
            (err: unknown) => {
              event.error = err;
              pluginCall.error.publish(event);
              pluginCall.asyncStart.publish(event);
              pluginCall.asyncEnd.publish(event);
              throw err;
            },
          );
        }
        event.result = result;
        return result;
      } catch (err) {
        event.error = err;
        pluginCall.error.publish(event);
        throw err;
      } finally {
        pluginCall.end.publish(event);
      }
    });
  };
}

/** `getMany` -> `get-many`, `Bucket` -> `bucket`: WIT's names back from jco's. */
function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? '' : '-') + c.toLowerCase());
}
