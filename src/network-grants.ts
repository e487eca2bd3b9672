/**
 * The grammar of two network grants of a component's local resources, shared by the workload
 * schema (which refuses a bad entry, naming it) and WASI sockets (which enforces the grant), as
 * the reference parses them (`host/allowed_ip_name.rs`, `host/allowed_loopback.rs`):
 *
 * - `allowedIpNameLookups`: names the guest may resolve through `wasi:sockets/ip-name-lookup`:
 *   `*` (any), `*.example.com` (subdomains, not the apex), `api.example.com`, or a literal IP.
 *   A name, not a URL: no scheme, port or path. Empty denies every lookup.
 * - `allowedHostLoopbackPorts`: ports on the machine's own loopback the guest may reach through
 *   `host.wasmcloud.internal`: `5432` (TCP), `5432/tcp`, `53/udp`. No ranges, no wildcards: the
 *   most privileged grant names each port. Empty denies; inert unless the host allows it too.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/** The reserved name of the machine the host runs on (Docker's `host.docker.internal` idea). */
export const HOST_LOOPBACK_NAME = 'host.wasmcloud.internal';
/** The reserved zone: names in it are answered by the host, never by a resolver. */
export const INTERNAL_ZONE = 'wasmcloud.internal';
/**
 * What `host.wasmcloud.internal` resolves to, rewritten to the real loopback at connect. Inside
 * 127/8 (as the reference's), so a connect that misses the rewrite reaches nothing.
 */
export const HOST_SENTINEL = '127.255.255.254';

export type NameGrant = { any: true } | { exact: string } | { suffix: string } | { ip: string };

export interface LoopbackPort {
  port: number;
  protocol: 'tcp' | 'udp';
}

type Parsed<T> = { value: T } | { error: string };

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/** An IP literal in one canonical text form (`::1` and `0:0::1` are the same), or undefined. */
export function canonicalIpText(text: string): string | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const family = isIP(bare);
  if (family === 0) return undefined;
  return new URL(`http://${family === 6 ? `[${bare}]` : bare}/`).hostname;
}

/** A name as matched: punycode, lowercase, without the root dot; '' when it is not a host name. */
export function normalizeName(name: string): string {
  return domainToASCII(name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}

export function parseNameGrant(entry: string): Parsed<NameGrant> {
  const text = entry.trim();
  const fail = (why: string) => ({ error: `${JSON.stringify(entry)} ${why}` });
  if (text === '') return fail('is empty (expected *, *.example.com, a name or an IP address)');
  if (text === '*') return { value: { any: true } };
  const ip = canonicalIpText(text);
  if (ip) return { value: { ip } };
  if (/[/:?#@]/.test(text)) return fail('is not a name: no scheme, port, path or query (expected *, *.example.com, a name or an IP address)');
  const wildcard = text.startsWith('*.');
  if (text.includes('*') && !(wildcard && !text.slice(2).includes('*'))) return fail('has a wildcard other than a leading "*." (write *.example.com)');
  const name = normalizeName(wildcard ? text.slice(2) : text);
  if (!DOMAIN.test(name)) return fail('is not a valid host name');
  return { value: wildcard ? { suffix: `.${name}` } : { exact: name } };
}

export function parseLoopbackPort(entry: string): Parsed<LoopbackPort> {
  const text = entry.trim();
  const fail = (why: string) => ({ error: `${JSON.stringify(entry)} ${why}` });
  if (text.includes('-') || text.includes('..')) return fail('looks like a range; list each port (5432, 5432/tcp or 53/udp)');
  if (text.includes('*')) return fail('is a wildcard; reaching the host\'s loopback must name each port (5432, 5432/tcp or 53/udp)');
  const m = /^(\d{1,5})(?:\/([a-z]+))?$/i.exec(text);
  if (!m) return fail('is not a port (expected 5432, 5432/tcp or 53/udp)');
  const protocol = (m[2] ?? 'tcp').toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp') return fail(`has the protocol "${m[2]}" (expected tcp or udp)`);
  const port = Number(m[1]);
  if (port < 1 || port > 65535) return fail('is not a port between 1 and 65535');
  return { value: { port, protocol } };
}

/**
 * The check of a list of name grants, compiled once: may `name` (as the guest asked it) be
 * resolved? A bad entry throws: the workload schema has refused it before it got here.
 */
export function nameLookupCheck(entries: readonly string[]): (name: string) => boolean {
  const grants = entries.map((entry) => {
    const parsed = parseNameGrant(entry);
    if ('error' in parsed) throw new TypeError(`allowedIpNameLookups: ${parsed.error}`);
    return parsed.value;
  });
  return (name) => {
    const ip = canonicalIpText(name);
    const host = ip ? undefined : normalizeName(name);
    return grants.some((g) => {
      if ('any' in g) return true;
      if ('ip' in g) return g.ip === ip;
      if (!host) return false;
      return 'exact' in g ? g.exact === host : host.length > g.suffix.length && host.endsWith(g.suffix);
    });
  };
}

/** The loopback ports granted, compiled once; a bad entry throws, as above. */
export function loopbackPortCheck(entries: readonly string[]): (port: number, protocol: 'tcp' | 'udp') => boolean {
  const grants = entries.map((entry) => {
    const parsed = parseLoopbackPort(entry);
    if ('error' in parsed) throw new TypeError(`allowedHostLoopbackPorts: ${parsed.error}`);
    return parsed.value;
  });
  return (port, protocol) => grants.some((g) => g.port === port && g.protocol === protocol);
}
