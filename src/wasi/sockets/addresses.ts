import { isIPv4, isIPv6 } from 'node:net';

/** `wasi:sockets/network` address types, in jco's JavaScript shapes. */
export type IpAddressFamily = 'ipv4' | 'ipv6';
export type Ipv4Address = [number, number, number, number];
export type Ipv6Address = [number, number, number, number, number, number, number, number];
export type IpAddress = { tag: 'ipv4'; val: Ipv4Address } | { tag: 'ipv6'; val: Ipv6Address };
export interface Ipv4SocketAddress {
  port: number;
  address: Ipv4Address;
}
export interface Ipv6SocketAddress {
  port: number;
  flowInfo: number;
  address: Ipv6Address;
  scopeId: number;
}
export type IpSocketAddress = { tag: 'ipv4'; val: Ipv4SocketAddress } | { tag: 'ipv6'; val: Ipv6SocketAddress };

/** The IP part of a socket address. */
export function ipOf(addr: IpSocketAddress): IpAddress {
  return addr.tag === 'ipv4' ? { tag: 'ipv4', val: addr.val.address } : { tag: 'ipv6', val: addr.val.address };
}

/** Text form Node accepts (`127.0.0.1`, `::1`); no zone, since Node resolves zones by interface name only. */
export function formatIp(ip: IpAddress): string {
  return ip.tag === 'ipv4' ? ip.val.join('.') : formatIpv6(ip.val);
}

/** RFC 5952 form: lowercase hex, longest run of two or more zero groups as `::`. */
function formatIpv6(groups: Ipv6Address): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Parses an IP literal as Node reports it (`::ffff:1.2.3.4`, `fe80::1%eth0`); undefined if it is none. */
export function parseIp(text: string): IpAddress | undefined {
  const core = text.split('%', 1)[0];
  if (isIPv4(core)) return { tag: 'ipv4', val: parseIpv4(core) };
  if (!isIPv6(core)) return undefined;
  // Node validated the syntax; rewrite an embedded IPv4 tail as two groups, then expand `::`.
  let hex = core;
  if (hex.includes('.')) {
    const cut = hex.lastIndexOf(':') + 1;
    const [a, b, c, d] = parseIpv4(hex.slice(cut));
    hex = `${hex.slice(0, cut)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = hex.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  const groups = [...left, ...zeros, ...right].map((g) => parseInt(g, 16));
  return { tag: 'ipv6', val: groups as Ipv6Address };
}

function parseIpv4(text: string): Ipv4Address {
  return text.split('.').map(Number) as Ipv4Address;
}

/** A socket address from Node's text address and port (flow info and scope id are not reported by Node). */
export function socketAddress(ip: string, port: number): IpSocketAddress {
  const parsed = parseIp(ip);
  if (!parsed) throw new TypeError(`not an IP address: ${ip}`);
  return parsed.tag === 'ipv4'
    ? { tag: 'ipv4', val: { port, address: parsed.val } }
    : { tag: 'ipv6', val: { port, flowInfo: 0, address: parsed.val, scopeId: 0 } };
}

/** An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as the IPv4 address it stands for; others unchanged. */
export function canonicalIp(ip: IpAddress): IpAddress {
  if (ip.tag === 'ipv6' && isIpv4Mapped(ip.val)) {
    const [hi, lo] = [ip.val[6], ip.val[7]];
    return { tag: 'ipv4', val: [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff] };
  }
  return ip;
}

function isIpv4Mapped(g: Ipv6Address): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
}

/** `::a.b.c.d`, deprecated since 2006 and handled inconsistently by operating systems (`::` and `::1` excepted). */
function isDeprecatedIpv4Compatible(g: Ipv6Address): boolean {
  return g.slice(0, 6).every((x) => x === 0) && !(g[6] === 0 && (g[7] === 0 || g[7] === 1));
}

export function isUnspecified(ip: IpAddress): boolean {
  return canonicalIp(ip).val.every((x) => x === 0);
}

/** Neither multicast nor (IPv4) broadcast, looking through IPv4-mapped addresses. */
export function isUnicast(ip: IpAddress): boolean {
  const c = canonicalIp(ip);
  if (c.tag === 'ipv4') return !(c.val[0] >= 224 && c.val[0] <= 239) && !c.val.every((x) => x === 255);
  return c.val[0] >> 8 !== 0xff;
}

/**
 * Whether the address suits a socket of `family`. IPv6 sockets are IPv6-only, so IPv4-mapped and
 * IPv4-compatible addresses are refused (as in wasmtime).
 */
export function matchesFamily(ip: IpAddress, family: IpAddressFamily): boolean {
  if (ip.tag !== family) return false;
  return ip.tag === 'ipv4' || (!isIpv4Mapped(ip.val) && !isDeprecatedIpv4Compatible(ip.val));
}

/** A usable remote: a real address and a non-zero port. */
export function isValidRemote(addr: IpSocketAddress): boolean {
  return addr.val.port !== 0 && !isUnspecified(ipOf(addr));
}

export function sameSocketAddress(a: IpSocketAddress, b: IpSocketAddress): boolean {
  return a.tag === b.tag && a.val.port === b.val.port && a.val.address.every((x, i) => x === b.val.address[i]);
}
