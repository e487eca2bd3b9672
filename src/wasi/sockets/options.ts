/**
 * Socket options. For TCP, Node applies keep-alive on/off and idle time to connected sockets; it has
 * no API for the others (interval, count, hop limit, buffer sizes): they are validated and clamped
 * as in wasmtime, then remembered, so a guest reads back what it set.
 */
export interface TcpOptions {
  backlog: number;
  keepAlive: boolean;
  keepAliveIdleTime: bigint;
  keepAliveInterval: bigint;
  keepAliveCount: number;
  hopLimit: number;
  receiveBufferSize: bigint;
  sendBufferSize: bigint;
}

export const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

/** Reported before a guest sets its own: usual Linux values (Node cannot read the OS's). */
export const DEFAULT_HOP_LIMIT = 64;
export const DEFAULT_BUFFER_SIZE = 65536n;

/** Linux's keep-alive defaults, and Rust's listen backlog (wasmtime's choice). */
export const TCP_DEFAULTS: Readonly<TcpOptions> = Object.freeze({
  backlog: 128,
  keepAlive: false,
  keepAliveIdleTime: 7200n * NS_PER_S,
  keepAliveInterval: 75n * NS_PER_S,
  keepAliveCount: 9,
  hopLimit: DEFAULT_HOP_LIMIT,
  receiveBufferSize: DEFAULT_BUFFER_SIZE,
  sendBufferSize: DEFAULT_BUFFER_SIZE,
});

/** Ranges the values are silently clamped to (wasmtime's, from the tightest OS limits). */
const RANGES = {
  backlog: [1n, 2n ** 31n - 1n],
  keepAliveIdleTime: [NS_PER_S, 32767n * NS_PER_S],
  keepAliveInterval: [NS_PER_S, 32767n * NS_PER_S],
  keepAliveCount: [1n, 127n],
  hopLimit: [1n, 255n],
  bufferSize: [1n, 2n ** 31n - 1n],
} as const;

/** The WIT refuses 0 for all of these with `invalid-argument`; other values are clamped. */
export function clampOption(option: keyof typeof RANGES, value: bigint): bigint {
  if (value <= 0n) throw 'invalid-argument';
  const [min, max] = RANGES[option];
  return value < min ? min : value > max ? max : value;
}
