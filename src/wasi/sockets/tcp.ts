import { Server, Socket, type AddressInfo } from 'node:net';
import type { NetworkPolicy } from '../context.ts';
import { Pollable } from '../io/poll.ts';
import type { InputStream, OutputStream } from '../io/streams.ts';
import {
  formatIp,
  ipOf,
  isUnicast,
  isValidRemote,
  matchesFamily,
  socketAddress,
  type IpAddressFamily,
  type IpSocketAddress,
} from './addresses.ts';
import { errorCode, type ErrorCode } from './errors.ts';
import { Network } from './network.ts';
import type { OpenSockets } from './open-sockets.ts';
import { Notifier } from './readiness.ts';
import { closeGracefully, tcpStreams, type TcpStreams } from './tcp-streams.ts';
import { clampOption, NS_PER_MS, TCP_DEFAULTS, type TcpOptions } from './options.ts';

export type ShutdownType = 'receive' | 'send' | 'both';

/** An outgoing connection in flight; `outcome` is set once it settles. */
interface Connect {
  socket?: Socket;
  outcome?: 'ok' | ErrorCode;
}

/**
 * wasmtime's TCP states. Node has no bare `bind`, so a bound socket holds a listening `net.Server`
 * as its reservation of the address: it becomes the listener, or is closed just before connecting
 * from the same local address. Connections reaching it before `finish-listen` are reset.
 */
type State =
  | { kind: 'unbound' }
  | { kind: 'binding' }
  | { kind: 'bind-started'; server: Server }
  | { kind: 'bound'; server: Server }
  | { kind: 'listen-started'; server: Server }
  | { kind: 'listening'; server: Server }
  | { kind: 'connecting'; connect: Connect }
  | { kind: 'connected'; socket: Socket; streams: TcpStreams }
  | { kind: 'closed' };

/** Socket errors surface through `finish-connect` and the streams; this listener only keeps Node from throwing. */
const ignoreError = () => {};

/** `wasi:sockets/tcp.tcp-socket`. */
export class TcpSocket {
  readonly #family: IpAddressFamily;
  readonly #open: OpenSockets;
  readonly #changed = new Notifier();
  readonly #options: TcpOptions;
  #state: State = { kind: 'unbound' };
  /** Connections accepted by Node, waiting for the guest's `accept`. */
  readonly #pending: Socket[] = [];
  #acceptError: ErrorCode | undefined;

  /** @internal Made by `create-tcp-socket` and `accept`, never by the guest. */
  constructor(family: IpAddressFamily, open: OpenSockets, options: TcpOptions = { ...TCP_DEFAULTS }, accepted?: Socket) {
    this.#family = family;
    this.#open = open;
    this.#options = options;
    if (accepted) {
      this.#state = { kind: 'connected', socket: accepted, streams: tcpStreams(accepted) };
      this.#applyKeepAlive();
    }
    open.add(this);
  }

  startBind(network: Network, localAddress: IpSocketAddress): Promise<void> {
    const ip = ipOf(localAddress);
    if (!Network.access(network).check(formatIp(ip), 'tcp-bind')) throw 'access-denied';
    if (!isUnicast(ip) || !matchesFamily(ip, this.#family)) throw 'invalid-argument';
    if (this.#state.kind !== 'unbound') throw 'invalid-state';
    this.#state = { kind: 'binding' };
    // The bind itself is asynchronous in Node: the guest is suspended until it is done, so
    // `address-in-use` comes from `start-bind` as in wasmtime and `finish-bind` never blocks.
    return this.#bind(formatIp(ip), localAddress.val.port);
  }

  finishBind(): void {
    if (this.#state.kind !== 'bind-started') throw 'not-in-progress';
    this.#state = { kind: 'bound', server: this.#state.server };
  }

  startConnect(network: Network, remoteAddress: IpSocketAddress): void {
    const ip = ipOf(remoteAddress);
    const target = Network.access(network).tcpRoute(formatIp(ip), remoteAddress.val.port);
    if (target === undefined) throw 'access-denied';
    const state = this.#state;
    if (state.kind === 'connecting') throw 'concurrency-conflict';
    if (state.kind !== 'unbound' && state.kind !== 'bound') throw 'invalid-state';
    if (!isUnicast(ip) || !isValidRemote(remoteAddress) || !matchesFamily(ip, this.#family)) throw 'invalid-argument';
    const connect: Connect = {};
    this.#state = { kind: 'connecting', connect };
    const reservation = state.kind === 'bound' ? state.server : undefined;
    this.#connect(connect, target, remoteAddress.val.port, reservation).catch((err: unknown) => {
      connect.outcome = errorCode(err);
      connect.socket?.destroy();
      this.#changed.notify();
    });
  }

  finishConnect(): [InputStream, OutputStream] {
    const state = this.#state;
    if (state.kind !== 'connecting') throw 'not-in-progress';
    const { outcome, socket } = state.connect;
    if (outcome === undefined) throw 'would-block';
    if (outcome !== 'ok' || !socket) {
      this.#state = { kind: 'closed' };
      throw outcome === 'ok' ? 'unknown' : outcome;
    }
    const streams = tcpStreams(socket);
    this.#state = { kind: 'connected', socket, streams };
    this.#applyKeepAlive();
    return [streams.input, streams.output];
  }

  startListen(): void {
    if (this.#state.kind !== 'bound') throw 'invalid-state';
    this.#state = { kind: 'listen-started', server: this.#state.server };
  }

  finishListen(): void {
    if (this.#state.kind !== 'listen-started') throw 'not-in-progress';
    this.#state = { kind: 'listening', server: this.#state.server };
    this.#changed.notify();
  }

  accept(): [TcpSocket, InputStream, OutputStream] {
    if (this.#state.kind !== 'listening') throw 'invalid-state';
    if (this.#acceptError !== undefined) {
      const code = this.#acceptError;
      this.#acceptError = undefined;
      throw code;
    }
    const next = this.#pending.shift();
    if (!next) throw 'would-block';
    const client = new TcpSocket(this.#family, this.#open, { ...this.#options }, next);
    const { streams } = client.#state as { streams: TcpStreams };
    return [client, streams.input, streams.output];
  }

  localAddress(): IpSocketAddress {
    const state = this.#state;
    switch (state.kind) {
      case 'bound':
      case 'listen-started':
      case 'listening': {
        const info = state.server.address();
        if (info && typeof info === 'object') return socketAddress(info.address, info.port);
        break;
      }
      case 'connected':
        if (state.socket.localAddress !== undefined && state.socket.localPort !== undefined) {
          return socketAddress(state.socket.localAddress, state.socket.localPort);
        }
    }
    throw 'invalid-state';
  }

  remoteAddress(): IpSocketAddress {
    const state = this.#state;
    if (state.kind === 'connected' && state.socket.remoteAddress !== undefined && state.socket.remotePort !== undefined) {
      return socketAddress(state.socket.remoteAddress, state.socket.remotePort);
    }
    throw 'invalid-state';
  }

  isListening(): boolean {
    return this.#state.kind === 'listening';
  }

  addressFamily(): IpAddressFamily {
    return this.#family;
  }

  setListenBacklogSize(value: bigint): void {
    if (value === 0n) throw 'invalid-argument';
    const kind = this.#state.kind;
    // Node cannot change a listener's backlog; wasmtime answers the same where the OS cannot.
    if (kind === 'listening') throw 'not-supported';
    if (kind !== 'unbound' && kind !== 'binding' && kind !== 'bound') throw 'invalid-state';
    this.#options.backlog = Number(clampOption('backlog', value));
  }

  keepAliveEnabled(): boolean {
    return this.#usable().keepAlive;
  }

  setKeepAliveEnabled(value: boolean): void {
    this.#usable().keepAlive = value;
    this.#applyKeepAlive();
  }

  keepAliveIdleTime(): bigint {
    return this.#usable().keepAliveIdleTime;
  }

  setKeepAliveIdleTime(value: bigint): void {
    this.#usable().keepAliveIdleTime = clampOption('keepAliveIdleTime', value);
    this.#applyKeepAlive();
  }

  keepAliveInterval(): bigint {
    return this.#usable().keepAliveInterval;
  }

  setKeepAliveInterval(value: bigint): void {
    this.#usable().keepAliveInterval = clampOption('keepAliveInterval', value);
  }

  keepAliveCount(): number {
    return this.#usable().keepAliveCount;
  }

  setKeepAliveCount(value: number): void {
    this.#usable().keepAliveCount = Number(clampOption('keepAliveCount', BigInt(value)));
  }

  hopLimit(): number {
    return this.#usable().hopLimit;
  }

  setHopLimit(value: number): void {
    this.#usable().hopLimit = Number(clampOption('hopLimit', BigInt(value)));
  }

  receiveBufferSize(): bigint {
    return this.#usable().receiveBufferSize;
  }

  setReceiveBufferSize(value: bigint): void {
    this.#usable().receiveBufferSize = clampOption('bufferSize', value);
  }

  sendBufferSize(): bigint {
    return this.#usable().sendBufferSize;
  }

  setSendBufferSize(value: bigint): void {
    this.#usable().sendBufferSize = clampOption('bufferSize', value);
  }

  /** Ready when a connect has settled or a connection waits to be accepted; at once in other states. */
  subscribe(): Pollable {
    return new Pollable(this.#changed.readiness(() => this.#ready()));
  }

  shutdown(shutdownType: ShutdownType): void {
    if (this.#state.kind !== 'connected') throw 'invalid-state';
    const { streams } = this.#state;
    if (shutdownType !== 'send') streams.shutdownReceive();
    if (shutdownType !== 'receive') streams.shutdownSend();
  }

  [Symbol.dispose](): void {
    const state = this.#state;
    this.#state = { kind: 'closed' };
    this.#open.delete(this);
    if ('server' in state) state.server.close();
    if (state.kind === 'connecting') state.connect.socket?.destroy();
    if (state.kind === 'connected') closeGracefully(state.socket);
    for (const socket of this.#pending.splice(0)) socket.destroy();
    this.#changed.notify();
  }

  async #bind(host: string, port: number): Promise<void> {
    const server = new Server({ pauseOnConnect: true, allowHalfOpen: true });
    try {
      await listen(server, { host, port, backlog: this.#options.backlog, ipv6Only: this.#family === 'ipv6', exclusive: true });
    } catch (err) {
      server.close();
      if (this.#state.kind === 'binding') this.#state = { kind: 'unbound' };
      // An address of the wrong family slipped past validation: the guest's mistake, as in wasmtime.
      throw (err as { code?: string }).code === 'EAFNOSUPPORT' ? 'invalid-argument' : errorCode(err);
    }
    if (this.#state.kind !== 'binding') {
      server.close(); // dropped while binding
      throw 'invalid-state';
    }
    server.on('connection', (socket: Socket) => this.#queue(socket));
    server.on('error', (err) => {
      this.#acceptError = errorCode(err);
      this.#changed.notify();
    });
    this.#state = { kind: 'bind-started', server };
    this.#changed.notify();
  }

  async #connect(connect: Connect, host: string, port: number, reservation: Server | undefined): Promise<void> {
    let local: AddressInfo | undefined;
    if (reservation) {
      const info = reservation.address();
      local = info && typeof info === 'object' ? info : undefined;
      await new Promise((resolve) => reservation.close(resolve));
    }
    if (this.#state.kind !== 'connecting' || this.#state.connect !== connect) return; // dropped meanwhile
    const socket = new Socket({ allowHalfOpen: true });
    socket.on('error', ignoreError);
    connect.socket = socket;
    await new Promise<void>((resolve, reject) => {
      // 'close' without 'error' means the socket was dropped mid-connect: settle all the same.
      socket.once('connect', resolve).once('error', reject).once('close', () => reject(new Error('socket closed')));
      socket.connect({ host, port, localAddress: local?.address, localPort: local?.port });
    });
    connect.outcome = 'ok';
    this.#changed.notify();
  }

  /** A connection reached the reserved address: queued while listening, reset before (nothing listens yet). */
  #queue(socket: Socket): void {
    socket.on('error', ignoreError);
    const kind = this.#state.kind;
    if ((kind === 'listen-started' || kind === 'listening') && this.#pending.length < this.#options.backlog) {
      this.#pending.push(socket);
      this.#changed.notify();
    } else {
      socket.resetAndDestroy();
    }
  }

  #ready(): boolean {
    const state = this.#state;
    if (state.kind === 'connecting') return state.connect.outcome !== undefined;
    if (state.kind === 'listening') return this.#pending.length > 0 || this.#acceptError !== undefined;
    return state.kind !== 'binding';
  }

  /** Socket options can be read and set in every state but connecting and closed (as in wasmtime). */
  #usable(): TcpOptions {
    if (this.#state.kind === 'connecting' || this.#state.kind === 'closed') throw 'invalid-state';
    return this.#options;
  }

  #applyKeepAlive(): void {
    if (this.#state.kind !== 'connected') return;
    const { keepAlive, keepAliveIdleTime } = this.#options;
    this.#state.socket.setKeepAlive(keepAlive, Number(keepAliveIdleTime / NS_PER_MS));
  }
}

function listen(server: Server, options: Parameters<Server['listen']>[0]): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: Error) => {
      server.off('listening', listening);
      reject(err);
    };
    const listening = () => {
      server.off('error', failed);
      resolve();
    };
    server.once('error', failed).once('listening', listening);
    server.listen(options);
  });
}

/** `wasi:sockets/tcp-create-socket.create-tcp-socket`. */
export function createTcpSocket(policy: Readonly<NetworkPolicy>, open: OpenSockets, family: IpAddressFamily): TcpSocket {
  // A grant of host loopback ports needs a socket to use it; the connect check still applies.
  if (policy.tcp !== true && !policy.hostLoopbackPorts?.length) throw 'access-denied';
  return new TcpSocket(family, open);
}
