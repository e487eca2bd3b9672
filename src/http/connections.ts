/**
 * The listener's defence against connections that hold a slot and do nothing (a flood of idle
 * connections used up the process's file descriptors, and other clients were refused): every
 * connection is counted; one with no request under way is closed after `idleTimeoutMs`; and at
 * `maxConnections` a new connection takes the place of the one idle the longest (only when every
 * connection has a request under way is the new one refused). A client that keeps its connection
 * busy is never cut by this (between two of its requests it is idle for an instant, so it is the
 * last to go); its requests have their own time limits (route.ts).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** Connections open at once (default 4096: well under the usual file-descriptor limit; Infinity: no cap). */
  maxConnections?: number;
  /** How long a connection may stay without a request under way (default 10 s; 0: no limit). */
  idleTimeoutMs?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 4096;
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

const ACTIVE = Symbol('wasmhost.requests');

type Tracked = Socket & { [ACTIVE]?: number };

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

  attach(server: Server): void {
    // Between requests on a keep-alive connection, Node's own idle timer applies (no longer).
    if (this.idleTimeoutMs > 0) server.keepAliveTimeout = Math.min(server.keepAliveTimeout, this.idleTimeoutMs);
    server.on('connection', (socket: Tracked) => this.#admit(socket));
    server.on('request', (req, res) => {
      const socket = req.socket as Tracked;
      socket[ACTIVE] = (socket[ACTIVE] ?? 0) + 1;
      this.#idle.delete(socket);
      res.once('close', () => {
        socket[ACTIVE] = (socket[ACTIVE] ?? 1) - 1;
        if (socket[ACTIVE] === 0 && this.#open.has(socket)) this.#idle.add(socket);
      });
    });
    // Node emits its sockets' timeouts here (a listener keeps it from destroying them itself):
    // only a connection with no request under way is idle.
    server.on('timeout', (socket: Tracked) => {
      if (socket[ACTIVE]) return;
      this.evicted++;
      socket.destroy();
    });
  }

  #admit(socket: Tracked): void {
    if (this.#open.size >= this.maxConnections && !this.#evictIdle()) {
      socket.destroy();
      return;
    }
    this.#open.add(socket);
    this.#idle.add(socket);
    socket.once('close', () => {
      this.#open.delete(socket);
      this.#idle.delete(socket);
    });
    // Until its first request; Node sets its own timers from then on (none while a request runs).
    socket.setTimeout(this.idleTimeoutMs);
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
