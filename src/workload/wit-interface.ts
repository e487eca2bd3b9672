/**
 * The string form of a host interface, `ns:pkg/iface1,iface2@version`
 * (`wasi:keyvalue/store,atomics@0.2.0-draft`), to and from `WitInterface`. Names are checked
 * with the engine's own parser, so the host and the engine never disagree on what is valid.
 */
import { parseInterfaceName } from '../engine/interface-name.ts';
import { UsageError } from '../errors.ts';
import type { WitInterface } from './types.ts';

type WitInterfaceName = Pick<WitInterface, 'namespace' | 'package' | 'interfaces' | 'version'>;

export interface FieldError {
  /** Relative to the interface: `['version']`, `['interfaces', 1]`. */
  path: (string | number)[];
  message: string;
}

/** Only cuts the text into its parts; `witInterfaceErrors` judges them. */
const PARTS = /^([^:/@]*):([^/@]*)\/([^@]*)(?:@(.*))?$/;

/** The parsed interface, or why the text is not one. */
export function checkWitInterface(text: string): { value: WitInterface } | { error: string } {
  const fail = (why: string) => ({ error: `${JSON.stringify(text)} is not a host interface: ${why}` });
  const m = PARTS.exec(text);
  if (!m) return fail('expected ns:pkg/iface1,iface2@version such as wasi:keyvalue/store,atomics@0.2.0-draft');
  if (m[4] === '') return fail('expected a version after "@" (or no "@")');
  const value: WitInterface = { namespace: m[1], package: m[2], interfaces: m[3].split(','), version: m[4] ?? '', config: {} };
  const errors = witInterfaceErrors(value);
  return errors.length ? fail(errors.map((e) => e.message).join('; ')) : { value };
}

/** Throws a UsageError for text that is not `ns:pkg/iface1,iface2@version`. */
export function parseWitInterface(text: string): WitInterface {
  const result = checkWitInterface(text);
  if ('error' in result) throw new UsageError(result.error);
  return result.value;
}

/** The string form; `config` has no place in it and is left out. */
export function formatWitInterface(w: WitInterfaceName): string {
  return `${w.namespace}:${w.package}/${w.interfaces.join(',')}${w.version ? `@${w.version}` : ''}`;
}

// Each part is checked by placing it in an otherwise valid name and reading it back unchanged.
const isNamespace = (s: string) => parseInterfaceName(`${s}:x/x`)?.namespace === s;
const isPackage = (s: string) => parseInterfaceName(`x:${s}/x`)?.package === s;
const isInterface = (s: string) => parseInterfaceName(`x:x/${s}`)?.interface === s;
const isVersion = (s: string) => s === '' || parseInterfaceName(`x:x/x@${s}`)?.version === s;

/** What is wrong with each part of an interface, part by part. */
export function witInterfaceErrors(w: WitInterfaceName): FieldError[] {
  const errors: FieldError[] = [];
  const bad = (path: FieldError['path'], expected: string, got: string) =>
    errors.push({ path, message: `expected ${expected}, got ${JSON.stringify(got)}` });
  if (!isNamespace(w.namespace)) bad(['namespace'], 'a WIT namespace such as "wasi"', w.namespace);
  if (!isPackage(w.package)) bad(['package'], 'a WIT package name such as "keyvalue"', w.package);
  if (!isVersion(w.version)) bad(['version'], 'a version such as "0.2.0-draft" or none', w.version);
  if (w.interfaces.length === 0) errors.push({ path: ['interfaces'], message: 'expected at least one interface name' });
  w.interfaces.forEach((iface, i) => {
    if (!isInterface(iface)) bad(['interfaces', i], 'a WIT interface name such as "store"', iface);
    else if (w.interfaces.indexOf(iface) !== i) errors.push({ path: ['interfaces', i], message: `"${iface}" is listed twice` });
  });
  return errors;
}
