import { lookup } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { HOST_LOOPBACK_NAME, HOST_SENTINEL, INTERNAL_ZONE, normalizeName } from '../../network-grants.ts';
import { promisePollable, type Pollable } from '../io/poll.ts';
import { canonicalIp, parseIp, type IpAddress } from './addresses.ts';
import type { ErrorCode } from './errors.ts';
import { Network } from './network.ts';

/** `wasi:sockets/ip-name-lookup.resolve-address-stream`: the addresses of one lookup, in preference order. */
export class ResolveAddressStream {
  #addresses: IpAddress[] | undefined;
  #error: ErrorCode | undefined;
  readonly #done: Promise<void>;

  /** @internal */
  constructor(result: IpAddress[] | Promise<IpAddress[]>) {
    if (Array.isArray(result)) {
      this.#addresses = result;
      this.#done = Promise.resolve();
      return;
    }
    this.#done = result.then(
      (addresses) => void (this.#addresses = addresses),
      (err: unknown) => void (this.#error = typeof err === 'string' ? (err as ErrorCode) : 'permanent-resolver-failure'),
    );
  }

  resolveNextAddress(): IpAddress | undefined {
    if (this.#error !== undefined) throw this.#error;
    if (!this.#addresses) throw 'would-block';
    return this.#addresses.shift();
  }

  subscribe(): Pollable {
    return promisePollable(this.#done);
  }
}

/**
 * `resolve-addresses`: never blocks; the lookup runs on Node's resolver (the OS's getaddrinfo, so
 * `/etc/hosts` counts) and the stream answers `would-block` until it is done. The reserved zone
 * is answered first, by the host (its names never reach a resolver, so they need no grant);
 * any other name must be granted by the policy's `ipNameLookup`, else `permanent-resolver-failure`
 * (the reference's and wasmtime's code for a refusal).
 */
export function resolveAddresses(network: Network, name: string): ResolveAddressStream {
  const internal = internalName(name);
  if (internal === 'unknown') throw 'name-unresolvable';
  if (internal) return new ResolveAddressStream([internal]);
  if (!Network.access(network).mayResolve(name)) throw 'permanent-resolver-failure';
  const literal = parseLiteral(name);
  if (literal) return new ResolveAddressStream([literal]);
  const ascii = FORBIDDEN_HOST.test(name) ? '' : domainToASCII(name);
  if (!ascii) throw 'invalid-argument';
  return new ResolveAddressStream(
    lookup(ascii, { all: true, order: 'verbatim' }).then(
      (found) => found.map((a) => canonicalIp(parseIp(a.address)!)),
      (err: unknown) => Promise.reject(lookupErrorCode(err)),
    ),
  );
}

/**
 * A name in the reserved zone: `host.wasmcloud.internal` is the sentinel that connect turns into
 * the machine's loopback; any other name there is 'unknown' (it must fail rather than reach a
 * real resolver, which could answer for it). Undefined outside the zone.
 */
function internalName(name: string): IpAddress | 'unknown' | undefined {
  const normalized = normalizeName(name);
  if (normalized !== INTERNAL_ZONE && !normalized.endsWith(`.${INTERNAL_ZONE}`)) return undefined;
  return normalized === HOST_LOOPBACK_NAME ? parseIp(HOST_SENTINEL)! : 'unknown';
}

/** WHATWG's forbidden domain code points: `url` would cut the name at them or refuse it. */
const FORBIDDEN_HOST = /[\u0000-\u0020#%/:<>?@[\\\]^|\u007f]/;

/** An IP literal is returned as is, without a lookup (`[::1]` accepted like a URL host). */
function parseLiteral(name: string): IpAddress | undefined {
  const bare = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  if (bare !== name && !isIPv6(bare)) return undefined;
  if (bare.includes('%')) return undefined;
  const ip = parseIp(bare);
  return ip && canonicalIp(ip);
}

function lookupErrorCode(err: unknown): ErrorCode {
  switch ((err as { code?: string } | null)?.code) {
    case 'EAI_AGAIN':
      return 'temporary-resolver-failure';
    case 'EAI_FAIL':
      return 'permanent-resolver-failure';
    default:
      return 'name-unresolvable';
  }
}
