/**
 * The listener's defence against connections that hold a slot and do nothing (a flood of idle
 * connections used up the process's file descriptors, and other clients were refused): every
 * connection is counted; one with no request under way is closed after `idleTimeoutMs`; and at
 * `maxConnections` a new connection takes the place of the one idle the longest (only when every
 * connection has a request under way is the new one refused). A client that keeps its connection
 * busy is never cut by this (between two of its requests it is idle for an instant, so it is the
 * last to go); its requests have their own time limits (route.ts). An HTTP/2 connection counts
 * the same way, idle when none of its streams has a request under way; Node has no keep-alive
 * timer for those, so the guard keeps one itself.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Listeners } from './h2-incoming.ts';

export interface ConnectionLimits {
  /** Connections open at once (default 4096: well under the usual file-descriptor limit; Infinity: no cap). */
  maxConnections?: number;
  /** How long a connection may stay without a request under way (default 10 s; 0: no limit). */
  idleTimeoutMs?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 4096;
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

const ACTIVE = Symbol('wasmhost.requests');
/** An HTTP/2 connection's idle timer (HTTP/1.1 ones use Node's keep-alive timer). */
const IDLE_TIMER = Symbol('wasmhost.idle-timer');

/** The socket itself, readable through the proxy an HTTP/2 request has for its `socket`. */
const SELF = Symbol('wasmhost.socket');

type Tracked = Socket & { [ACTIVE]?: number; [IDLE_TIMER]?: NodeJS.Timeout; [SELF]?: Tracked };

export class ConnectionGuard {
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  /** Open connections. */
  readonly #open = new Set<Tracked>();
  /** Those with no request under way, in the order they became idle (a Set keeps insertion order). */
  readonly #idle = new Set<Tracked>();
  /** Connections closed to make room or because they were idle too long (for tests and logs). */
  evicted = 0;

  constructor(limits: ConnectionLimits = {}) {
    this.maxConnections = limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.idleTimeoutMs = limits.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  get open(): number {
    return this.#open.size;
  }

  attach({ listener, http1, http2 }: Listeners): void {
    // Between requests on a keep-alive connection, Node's own idle timer applies (no longer).
    if (this.idleTimeoutMs > 0) http1.keepAliveTimeout = Math.min(http1.keepAliveTimeout ?? Infinity, this.idleTimeoutMs);
    listener.on('connection', (socket: Tracked) => this.#admit(socket));
    // With TLS, requests see the TLS socket over the admitted one: make it lead there.
    listener.on('secureConnection', (socket: Tracked & { _parent?: Tracked }) => {
      if (socket._parent?.[SELF]) socket[SELF] = socket._parent;
    });
    http1.on('request', this.#track);
    if ((http2 as unknown) !== http1) {
      http2.on('request', this.#track);
      // Handed over by the cleartext listener: from now on the guard's own timer says when it is idle.
      http2.on('connection', (socket: Tracked) => {
        socket.setTimeout(0);
        this.#armIdle(socket);
      });
    }
    // Node emits its sockets' timeouts here (a listener keeps it from destroying them itself):
    // only a connection with no request under way is idle.
    http1.on('timeout', (socket: Tracked) => {
      if (socket[ACTIVE]) return;
      this.evicted++;
      socket.destroy();
    });
  }

  readonly #track = (req: IncomingMessage, res: ServerResponse): void => {
    // An HTTP/2 request's socket is a proxy, whose unknown properties are the connection's socket's.
    const socket = (req.socket as Tracked)[SELF] ?? (req.socket as Tracked);
    const h2 = req.httpVersionMajor === 2;
    socket[ACTIVE] = (socket[ACTIVE] ?? 0) + 1;
    this.#idle.delete(socket);
    if (h2) clearTimeout(socket[IDLE_TIMER]);
    res.once('close', () => {
      socket[ACTIVE] = (socket[ACTIVE] ?? 1) - 1;
      if (socket[ACTIVE] === 0 && this.#open.has(socket)) this.#idle.add(socket);
      if (socket[ACTIVE] === 0 && h2) this.#armIdle(socket);
    });
  };

  #armIdle(socket: Tracked): void {
    if (this.idleTimeoutMs <= 0) return;
    clearTimeout(socket[IDLE_TIMER]);
    socket[IDLE_TIMER] = setTimeout(() => {
      if (socket[ACTIVE] || socket.destroyed) return;
      this.evicted++;
      socket.destroy();
    }, this.idleTimeoutMs).unref();
  }

  #admit(socket: Tracked): void {
    if (this.#open.size >= this.maxConnections && !this.#evictIdle()) {
      socket.destroy();
      return;
    }
    socket[SELF] = socket;
    this.#open.add(socket);
    this.#idle.add(socket);
    socket.once('close', () => {
      this.#open.delete(socket);
      this.#idle.delete(socket);
      clearTimeout(socket[IDLE_TIMER]);
    });
    // Until its first request; Node sets its own timers from then on (none while a request runs).
    socket.setTimeout(this.idleTimeoutMs);
  }

  /** Closes every connection with no request under way (when the server stops). */
  closeIdle(): void {
    for (const socket of this.#idle) socket.destroy();
  }

  /** Closes every connection (when the server stops and its grace time is over). */
  closeAll(): void {
    for (const socket of this.#open) socket.destroy();
  }

  /** Closes the connection idle the longest; false when every one has a request under way. */
  #evictIdle(): boolean {
    const [socket] = this.#idle;
    if (!socket) return false;
    this.#open.delete(socket);
    this.#idle.delete(socket);
    this.evicted++;
    socket.destroy();
    return true;
  }
}
