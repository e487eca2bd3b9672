import { IoError } from '../io/error.ts';
import { ERROR_CODES, type ErrorCode } from './errors.ts';
import type { AddressCheck, TcpRoute } from './policy.ts';

/** What holding a `network` lets a guest do; built once per instance from its policy. */
export interface NetworkAccess {
  readonly check: AddressCheck;
  /** Where a TCP connect to ip:port goes (the host's loopback for its reserved name), or undefined: refused. */
  readonly tcpRoute: TcpRoute;
  /** May this name (as the guest wrote it) be resolved? */
  readonly mayResolve: (name: string) => boolean;
}

/** `wasi:sockets/network.network`: the capability passed to bind, connect and name lookup. */
export class Network {
  readonly #access: NetworkAccess;

  constructor(access: NetworkAccess) {
    this.#access = access;
  }

  /** @internal */
  static access(network: Network): NetworkAccess {
    if (!(network instanceof Network)) throw new TypeError('not a wasi:sockets/network resource');
    return network.#access;
  }
}

/** `network-error-code`: the socket error code behind a stream's `error`, if it came from a socket. */
export function networkErrorCode(err: IoError): ErrorCode | undefined {
  const code = err instanceof IoError ? err.code : undefined;
  return code !== undefined && ERROR_CODES.has(code) ? (code as ErrorCode) : undefined;
}
