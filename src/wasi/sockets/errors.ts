/** `wasi:sockets/network.error-code`. Guest-visible failures are these strings, thrown as plain values. */
export type ErrorCode =
  | 'unknown'
  | 'access-denied'
  | 'not-supported'
  | 'invalid-argument'
  | 'out-of-memory'
  | 'timeout'
  | 'concurrency-conflict'
  | 'not-in-progress'
  | 'would-block'
  | 'invalid-state'
  | 'new-socket-limit'
  | 'address-not-bindable'
  | 'address-in-use'
  | 'remote-unreachable'
  | 'connection-refused'
  | 'connection-reset'
  | 'connection-aborted'
  | 'datagram-too-large'
  | 'name-unresolvable'
  | 'temporary-resolver-failure'
  | 'permanent-resolver-failure';

/** Node's errno names to WASI codes (wasmtime's table in `crates/wasi/src/p2/host/network.rs`). */
const BY_ERRNO: Readonly<Record<string, ErrorCode>> = {
  EWOULDBLOCK: 'would-block',
  EAGAIN: 'would-block',
  EINTR: 'would-block',
  EPERM: 'access-denied',
  EACCES: 'access-denied',
  EADDRINUSE: 'address-in-use',
  EADDRNOTAVAIL: 'address-not-bindable',
  EALREADY: 'concurrency-conflict',
  ETIMEDOUT: 'timeout',
  ECONNREFUSED: 'connection-refused',
  ECONNRESET: 'connection-reset',
  ECONNABORTED: 'connection-aborted',
  EINVAL: 'invalid-argument',
  EHOSTUNREACH: 'remote-unreachable',
  EHOSTDOWN: 'remote-unreachable',
  ENETDOWN: 'remote-unreachable',
  ENETUNREACH: 'remote-unreachable',
  ENONET: 'remote-unreachable',
  EISCONN: 'invalid-state',
  ENOTCONN: 'invalid-state',
  EDESTADDRREQ: 'invalid-state',
  ENFILE: 'new-socket-limit',
  EMFILE: 'new-socket-limit',
  EMSGSIZE: 'datagram-too-large',
  ENOMEM: 'out-of-memory',
  ENOBUFS: 'out-of-memory',
  EOPNOTSUPP: 'not-supported',
  ENOTSUP: 'not-supported',
  ENOPROTOOPT: 'not-supported',
  EPFNOSUPPORT: 'not-supported',
  EPROTONOSUPPORT: 'not-supported',
  EPROTOTYPE: 'not-supported',
  ESOCKTNOSUPPORT: 'not-supported',
  EAFNOSUPPORT: 'not-supported',
};

/** Every code, to tell socket errors from others that reach `network-error-code`. */
export const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'unknown', 'access-denied', 'not-supported', 'invalid-argument', 'out-of-memory', 'timeout',
  'concurrency-conflict', 'not-in-progress', 'would-block', 'invalid-state', 'new-socket-limit',
  'address-not-bindable', 'address-in-use', 'remote-unreachable', 'connection-refused',
  'connection-reset', 'connection-aborted', 'datagram-too-large', 'name-unresolvable',
  'temporary-resolver-failure', 'permanent-resolver-failure',
]);

/** The WASI code for a Node socket error (`err.code` is the errno name). */
export function errorCode(err: unknown): ErrorCode {
  const code = (err as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && BY_ERRNO[code]) || 'unknown';
}

/** A socket stream failure; `wasiCode` makes `wasi:io` report it as an `error` that `network-error-code` reads back. */
export class SocketStreamError extends Error {
  readonly wasiCode: ErrorCode;
  constructor(cause: Error) {
    super(cause.message, { cause });
    this.wasiCode = errorCode(cause);
  }
}
