/**
 * How an import is found in the host's import object, by jco's conventions (DESIGN.md: host code
 * and plugins are written against them): interfaces keyed by name without version, functions in
 * camelCase, resources as PascalCase classes with their constructor, static functions and methods.
 */
import { camel, pascal, unversioned } from '../interface-name.ts';

export interface HostCall {
  /** The import object's key: `wasi:cli/stdout`, or a world-level function's name. */
  key: string;
  /** The member of that entry: `getStdout`, `Descriptor`; for a world-level function, its camelCase name. */
  member: string;
  form: 'function' | 'constructor' | 'static' | 'method' | 'world';
  /** The static function or method, camelCase. */
  method: string;
}

type Fn = (...args: unknown[]) => unknown;

/** `name` is the function's name inside the interface `iface`, or undefined for a world-level function named `iface`. */
export function hostCall(iface: string, name: string | undefined): HostCall {
  const key = unversioned(iface);
  if (name === undefined) return { key, member: camel(key), form: 'world', method: '' };
  const m = /^\[(constructor|method|static)\]([^.]+)(?:\.(.+))?$/.exec(name);
  if (!m) return { key, member: camel(name), form: 'function', method: '' };
  return { key, member: pascal(m[2]), form: m[1] as HostCall['form'], method: m[3] === undefined ? '' : camel(m[3]) };
}

/** The host's function or class for a call, from an import object entry. */
export function hostTarget(call: HostCall, entry: unknown): unknown {
  // A world-level function is the entry itself, or its camelCase member.
  if (call.form === 'world' && typeof entry === 'function') return entry;
  return (entry as Record<string, unknown> | undefined)?.[call.member];
}

/** Calls the host: `args` are the lifted arguments (a method's receiver first). */
export function invokeHost(call: HostCall, target: unknown, args: unknown[]): unknown {
  switch (call.form) {
    case 'function':
    case 'world':
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
