import { createSocket, type RemoteInfo, type Socket as DgramSocket } from 'node:dgram';
import type { NetworkPolicy } from '../context.ts';
import { readyPollable, type Pollable } from '../io/poll.ts';
import {
  formatIp,
  ipOf,
  isValidRemote,
  matchesFamily,
  sameSocketAddress,
  socketAddress,
  type IpAddressFamily,
  type IpSocketAddress,
} from './addresses.ts';
import { errorCode, type ErrorCode } from './errors.ts';
import { Network } from './network.ts';
import type { OpenSockets } from './open-sockets.ts';
import type { AddressCheck } from './policy.ts';
import { Notifier } from './readiness.ts';
import { clampOption, DEFAULT_BUFFER_SIZE, DEFAULT_HOP_LIMIT } from './options.ts';
import {
  IncomingDatagramStream,
  OutgoingDatagramStream,
  type DatagramChannel,
  type IncomingDatagram,
  type OutgoingDatagram,
} from './udp-streams.ts';

/** The largest datagram payload accepted (wasmtime's figure; the real limit is lower). */
const MAX_DATAGRAM = 65535;
/**
 * Node reads datagrams eagerly; these bytes wait for a guest that is slow to receive. Beyond,
 * new datagrams are dropped, as a full kernel receive buffer would.
 */
const INBOX_BYTES = 1024 * 1024;

type State = 'unbound' | 'binding' | 'bind-started' | 'bound' | 'closed';

/** `wasi:sockets/udp.udp-socket`. "Connecting" is the `stream` call with a remote address. */
export class UdpSocket {
  readonly #family: IpAddressFamily;
  readonly #open: OpenSockets;
  #socket: DgramSocket;
  #state: State = 'unbound';
  /** The bind's network decides later connects and sends (as in wasmtime). */
  #check: AddressCheck | undefined;
  #remote: IpSocketAddress | undefined;
  /** Stream handles still alive: `stream` may not be called again until both are dropped. */
  #streams = 0;
  readonly #inbox: IncomingDatagram[] = [];
  #inboxBytes = 0;
  #error: ErrorCode | undefined;
  readonly #arrived = new Notifier();
  readonly #options: { hopLimit?: number; receiveBufferSize?: number; sendBufferSize?: number } = {};

  /** @internal Made by `create-udp-socket`, never by the guest. */
  constructor(family: IpAddressFamily, open: OpenSockets) {
    this.#family = family;
    this.#open = open;
    this.#socket = this.#newSocket();
    open.add(this);
  }

  startBind(network: Network, localAddress: IpSocketAddress): Promise<void> {
    const { check } = Network.access(network);
    const ip = ipOf(localAddress);
    if (!check(formatIp(ip), 'udp-bind')) throw 'access-denied';
    if (this.#state !== 'unbound') throw 'invalid-state';
    if (!matchesFamily(ip, this.#family)) throw 'invalid-argument';
    this.#state = 'binding';
    return this.#bind(formatIp(ip), localAddress.val.port, check);
  }

  finishBind(): void {
    if (this.#state !== 'bind-started') throw 'not-in-progress';
    this.#state = 'bound';
  }

  stream(remoteAddress: IpSocketAddress | undefined): [IncomingDatagramStream, OutgoingDatagramStream] | Promise<[IncomingDatagramStream, OutgoingDatagramStream]> {
    // wasmtime traps here too: the old streams would otherwise see a different peer.
    if (this.#streams > 0) throw new Error('wasi:sockets/udp: stream called before the previous streams were dropped');
    if (this.#state !== 'bound' || !this.#check) throw 'invalid-state';
    if (this.#remote) {
      this.#socket.disconnect();
      this.#remote = undefined;
    }
    if (!remoteAddress) return this.#streamPair();
    const ip = ipOf(remoteAddress);
    if (!this.#check(formatIp(ip), 'udp-connect')) throw 'access-denied';
    if (!matchesFamily(ip, this.#family) || !isValidRemote(remoteAddress)) throw 'invalid-argument';
    return this.#connect(remoteAddress).then(() => this.#streamPair());
  }

  localAddress(): IpSocketAddress {
    if (this.#state !== 'bound') throw 'invalid-state';
    const { address, port } = this.#socket.address();
    return socketAddress(address, port);
  }

  remoteAddress(): IpSocketAddress {
    if (!this.#remote) throw 'invalid-state';
    return this.#remote;
  }

  addressFamily(): IpAddressFamily {
    return this.#family;
  }

  /** Node sets the TTL but cannot read it: the value set (or the usual default) is reported. */
  unicastHopLimit(): number {
    return this.#options.hopLimit ?? DEFAULT_HOP_LIMIT;
  }

  setUnicastHopLimit(value: number): void {
    this.#options.hopLimit = Number(clampOption('hopLimit', BigInt(value)));
    this.#applyOptions();
  }

  receiveBufferSize(): bigint {
    return this.#bufferSize('receive');
  }

  setReceiveBufferSize(value: bigint): void {
    this.#options.receiveBufferSize = Number(clampOption('bufferSize', value));
    this.#applyOptions();
  }

  sendBufferSize(): bigint {
    return this.#bufferSize('send');
  }

  setSendBufferSize(value: bigint): void {
    this.#options.sendBufferSize = Number(clampOption('bufferSize', value));
    this.#applyOptions();
  }

  /** No socket-level operation waits (as in wasmtime). */
  subscribe(): Pollable {
    return readyPollable();
  }

  [Symbol.dispose](): void {
    this.#state = 'closed';
    this.#open.delete(this);
    closeQuietly(this.#socket);
    this.#arrived.notify();
  }

  #newSocket(): DgramSocket {
    const socket = createSocket({ type: this.#family === 'ipv4' ? 'udp4' : 'udp6', ipv6Only: this.#family === 'ipv6' });
    socket.on('message', (msg: Buffer, from: RemoteInfo) => this.#deliver(msg, from));
    socket.on('error', (err) => {
      if (this.#state === 'binding') return; // the bind reports it
      this.#error = errorCode(err);
      this.#arrived.notify();
    });
    return socket;
  }

  async #bind(address: string, port: number, check: AddressCheck): Promise<void> {
    const socket = this.#socket;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address, port, exclusive: true }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      if (this.#state === 'binding') {
        // A dgram socket whose bind failed cannot be bound again: start afresh, still unbound.
        closeQuietly(socket);
        this.#socket = this.#newSocket();
        this.#state = 'unbound';
      }
      throw (err as { code?: string }).code === 'EAFNOSUPPORT' ? 'invalid-argument' : errorCode(err);
    }
    if (this.#state !== 'binding') throw 'invalid-state'; // dropped while binding
    this.#check = check;
    this.#state = 'bind-started';
    this.#applyOptions();
  }

  /** A real OS-level connect: the kernel then filters datagrams from other peers and picks the local address. */
  async #connect(remote: IpSocketAddress): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) =>
        this.#socket.connect(remote.val.port, formatIp(ipOf(remote)), (err?: Error) => (err ? reject(err) : resolve())),
      );
    } catch (err) {
      throw (err as { code?: string }).code === 'EAFNOSUPPORT' ? 'invalid-argument' : errorCode(err);
    }
    this.#remote = remote;
    // Datagrams queued before the connect came from anyone: a connected socket would not have them.
    const kept = this.#inbox.splice(0).filter((d) => sameSocketAddress(d.remoteAddress, remote));
    this.#inbox.push(...kept);
    this.#inboxBytes = kept.reduce((n, d) => n + d.data.length, 0);
  }

  #streamPair(): [IncomingDatagramStream, OutgoingDatagramStream] {
    this.#streams = 2;
    const channel: DatagramChannel = {
      receive: (max) => this.#receive(max),
      incoming: this.#arrived.readiness(() => this.#inbox.length > 0 || this.#error !== undefined || this.#state === 'closed'),
      send: (datagram) => this.#send(datagram),
      release: () => void this.#streams--,
    };
    return [new IncomingDatagramStream(channel), new OutgoingDatagramStream(channel)];
  }

  #deliver(msg: Buffer, from: RemoteInfo): void {
    if (this.#inboxBytes + msg.length > INBOX_BYTES) return;
    const remoteAddress = socketAddress(from.address, from.port);
    if (this.#remote && !sameSocketAddress(remoteAddress, this.#remote)) return;
    this.#inbox.push({ data: new Uint8Array(msg.buffer, msg.byteOffset, msg.length), remoteAddress });
    this.#inboxBytes += msg.length;
    this.#arrived.notify();
  }

  #receive(max: number): IncomingDatagram[] {
    if (this.#state === 'closed') throw 'invalid-state';
    if (this.#inbox.length === 0 && this.#error !== undefined) {
      const code = this.#error;
      this.#error = undefined;
      throw code;
    }
    const out = this.#inbox.splice(0, max);
    for (const d of out) this.#inboxBytes -= d.data.length;
    return out;
  }

  async #send(datagram: OutgoingDatagram): Promise<void> {
    if (this.#state === 'closed' || !this.#check) throw 'invalid-state';
    if (datagram.data.length > MAX_DATAGRAM) throw 'datagram-too-large';
    const connected = this.#remote;
    const given = datagram.remoteAddress;
    let target: IpSocketAddress;
    if (!connected && given) {
      if (!this.#check(formatIp(ipOf(given)), 'udp-send')) throw 'access-denied';
      target = given;
    } else if (connected && (!given || sameSocketAddress(connected, given))) {
      target = connected;
    } else {
      throw 'invalid-argument';
    }
    if (!isValidRemote(target) || !matchesFamily(ipOf(target), this.#family)) throw 'invalid-argument';
    // Copied: the bytes must not change under Node while it sends.
    const data = Buffer.from(datagram.data);
    try {
      await new Promise<void>((resolve, reject) => {
        const done = (err: Error | null) => (err ? reject(err) : resolve());
        if (connected) this.#socket.send(data, done);
        else this.#socket.send(data, target.val.port, formatIp(ipOf(target)), done);
      });
    } catch (err) {
      throw errorCode(err);
    }
  }

  /** Options set before the bind wait for it: Node's dgram has no socket until then. */
  #applyOptions(): void {
    if (this.#state !== 'bind-started' && this.#state !== 'bound') return;
    const { hopLimit, receiveBufferSize, sendBufferSize } = this.#options;
    try {
      if (hopLimit !== undefined) this.#socket.setTTL(hopLimit);
      if (receiveBufferSize !== undefined) this.#socket.setRecvBufferSize(receiveBufferSize);
      if (sendBufferSize !== undefined) this.#socket.setSendBufferSize(sendBufferSize);
    } catch {
      // Buffer sizes are hints (the WIT's words); an OS refusal is not the guest's concern.
    }
  }

  #bufferSize(which: 'receive' | 'send'): bigint {
    const wanted = which === 'receive' ? this.#options.receiveBufferSize : this.#options.sendBufferSize;
    if (this.#state === 'bind-started' || this.#state === 'bound') {
      try {
        const actual = which === 'receive' ? this.#socket.getRecvBufferSize() : this.#socket.getSendBufferSize();
        // Linux reports double what was set (its bookkeeping): halved, as wasmtime does.
        return BigInt(process.platform === 'linux' ? Math.floor(actual / 2) : actual);
      } catch {
        // fall through to the remembered value
      }
    }
    return wanted === undefined ? DEFAULT_BUFFER_SIZE : BigInt(wanted);
  }
}

function closeQuietly(socket: DgramSocket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

/** `wasi:sockets/udp-create-socket.create-udp-socket`. */
export function createUdpSocket(policy: Readonly<NetworkPolicy>, open: OpenSockets, family: IpAddressFamily): UdpSocket {
  if (policy.udp !== true) throw 'access-denied';
  return new UdpSocket(family, open);
}
