/** A parsed `namespace:package/interface@version` name. */
export interface InterfaceName {
  namespace: string;
  package: string;
  interface: string;
  /** Empty when unversioned. */
  version: string;
}

const NAME = /^([a-z][a-z0-9-]*):([a-z][a-z0-9-]*(?::[a-z][a-z0-9-]*)*)\/([a-z][a-z0-9-]*)(?:@([0-9A-Za-z.+-]+))?$/;

export function parseInterfaceName(text: string): InterfaceName | undefined {
  const m = NAME.exec(text);
  if (!m) return undefined;
  return { namespace: m[1], package: m[2], interface: m[3], version: m[4] ?? '' };
}

export function formatInterfaceName(n: InterfaceName): string {
  return `${n.namespace}:${n.package}/${n.interface}${n.version ? `@${n.version}` : ''}`;
}

/** `wasi:cli/environment@0.2.3` -> `wasi:cli/environment`: how jco keys its import object. */
export function unversioned(name: string): string {
  const at = name.indexOf('@');
  return at === -1 ? name : name.slice(0, at);
}

interface SemVer {
  major: number;
  minor: number;
  patch: number;
  pre: string;
}

function parseSemver(v: string): SemVer | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$/.exec(v);
  return m ? { major: +m[1], minor: +m[2], patch: +m[3], pre: m[4] ?? '' } : undefined;
}

/**
 * Whether a host serving `provided` can satisfy a guest importing `wanted`, by the
 * component model's semver rules: same major (for 0.x: same minor) and no pre-release
 * mismatch. An empty version on either side matches anything.
 */
export function versionsCompatible(wanted: string, provided: string): boolean {
  if (!wanted || !provided || wanted === provided) return true;
  const a = parseSemver(wanted);
  const b = parseSemver(provided);
  if (!a || !b) return false;
  if (a.pre || b.pre) return a.major === b.major && a.minor === b.minor && a.patch === b.patch && a.pre === b.pre;
  if (a.major !== b.major) return false;
  if (a.major === 0) return a.minor === b.minor;
  return true;
}

const camelNames = new Map<string, string>();

/** `get-stdout` -> `getStdout`: jco's JavaScript name for a WIT function or field (remembered: it runs on every call by name). */
export function camel(name: string): string {
  let c = camelNames.get(name);
  if (c === undefined) {
    c = name.replace(/-([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
    // Names come from components and callers: keep the table bounded.
    if (camelNames.size < 10_000) camelNames.set(name, c);
  }
  return c;
}

/** `output-stream` -> `OutputStream`: jco's JavaScript name for a WIT resource. */
export function pascal(name: string): string {
  const c = camel(name);
  return c[0].toUpperCase() + c.slice(1);
}
