import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { HOST_SENTINEL, loopbackPortCheck, nameLookupCheck } from '../../network-grants.ts';
import type { NetworkPolicy } from '../context.ts';
import { canonicalIp, formatIp, parseIp } from './addresses.ts';

/** What an address is about to be used for (wasmtime's `SocketAddrUse`). */
export type AddressUse = 'tcp-bind' | 'tcp-connect' | 'udp-bind' | 'udp-connect' | 'udp-send';

/** The one network policy check: may this IP address (text form) be used so? */
export type AddressCheck = (ip: string, use: AddressUse) => boolean;

/**
 * Compiles a policy once (per instance) into its check: the protocol switch for `use` must be on,
 * and the address must fall in `allowedAddresses` when that list is given. A malformed CIDR is a
 * configuration error and throws here, not at the guest's first connect.
 */
export function addressCheck(policy: Readonly<NetworkPolicy>): AddressCheck {
  const tcp = policy.tcp === true;
  const udp = policy.udp === true;
  const allowed = policy.allowedAddresses && compileAllowList(policy.allowedAddresses);
  return (ip, use) => {
    if (!(use.startsWith('tcp-') ? tcp : udp)) return false;
    if (!allowed) return true;
    const parsed = parseIp(ip);
    if (!parsed) return false;
    // Judge an IPv4-mapped IPv6 address as the IPv4 address it reaches.
    const canonical = canonicalIp(parsed);
    return allowed.check(formatIp(canonical), canonical.tag);
  };
}

/** Where a TCP connect to `ip:port` really goes, or undefined when it is refused. */
export type TcpRoute = (ip: string, port: number) => string | undefined;

/**
 * The address check plus the one way around it: `host.wasmcloud.internal` (its sentinel address)
 * reaches the machine's loopback on a granted port, and nothing else does (the reference's order).
 */
export function tcpRoute(policy: Readonly<NetworkPolicy>, check: AddressCheck): TcpRoute {
  const granted = loopbackPortCheck(policy.hostLoopbackPorts ?? []);
  return (ip, port) => {
    if (ip === HOST_SENTINEL) return granted(port, 'tcp') ? '127.0.0.1' : undefined;
    return check(ip, 'tcp-connect') ? ip : undefined;
  };
}

/** May the guest resolve this name? From `ipNameLookup`: true (any), a list of grants, or none. */
export function nameCheck(grants: NetworkPolicy['ipNameLookup']): (name: string) => boolean {
  if (grants === true) return () => true;
  if (!grants || grants.length === 0) return () => false;
  return nameLookupCheck(grants);
}

function compileAllowList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const { network, prefix, family } = parseCidr(entry);
    list.addSubnet(network, prefix, family);
  }
  return list;
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a single host). */
export function parseCidr(entry: string): { network: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const slash = entry.indexOf('/');
  const network = (slash < 0 ? entry : entry.slice(0, slash)).trim();
  // Zones (`fe80::1%eth0`) name an interface, not a range: refused.
  const family = network.includes('%') ? undefined : isIPv4(network) ? 'ipv4' : isIPv6(network) ? 'ipv6' : undefined;
  const max = family === 'ipv4' ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : entry.slice(slash + 1).trim();
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!family || !(prefix >= 0 && prefix <= max)) {
    throw new TypeError(`network.allowedAddresses: "${entry}" is not an IP address or CIDR range`);
  }
  return { network, prefix, family };
}
