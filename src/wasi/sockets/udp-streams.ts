import { Pollable, readyPollable, type Readiness } from '../io/poll.ts';
import type { IpSocketAddress } from './addresses.ts';

export interface IncomingDatagram {
  data: Uint8Array;
  remoteAddress: IpSocketAddress;
}

export interface OutgoingDatagram {
  data: Uint8Array;
  remoteAddress?: IpSocketAddress;
}

/** What a UDP socket lends the stream pair made by its `stream` call. */
export interface DatagramChannel {
  /** Up to `max` queued datagrams (throws an error code when the socket failed). */
  receive(max: number): IncomingDatagram[];
  /** Ready when `receive` has something to say. */
  readonly incoming: Readiness;
  /** Sends one datagram, rejecting with an error code. */
  send(datagram: OutgoingDatagram): Promise<void>;
  /** The guest dropped one of the two streams. */
  release(): void;
}

/** How many datagrams one `check-send` permits (wasmtime's figure). */
const SEND_PERMIT = 16;

/** `wasi:sockets/udp.incoming-datagram-stream`. */
export class IncomingDatagramStream {
  readonly #channel: DatagramChannel;

  /** @internal */
  constructor(channel: DatagramChannel) {
    this.#channel = channel;
  }

  receive(maxResults: bigint): IncomingDatagram[] {
    if (maxResults === 0n) return [];
    return this.#channel.receive(maxResults > 1_000_000n ? 1_000_000 : Number(maxResults));
  }

  subscribe(): Pollable {
    return new Pollable(this.#channel.incoming);
  }

  [Symbol.dispose](): void {
    this.#channel.release();
  }
}

/** `wasi:sockets/udp.outgoing-datagram-stream`. Node queues sends itself, so there is no backpressure to wait for. */
export class OutgoingDatagramStream {
  readonly #channel: DatagramChannel;
  #permitted: number | undefined;

  /** @internal */
  constructor(channel: DatagramChannel) {
    this.#channel = channel;
  }

  checkSend(): bigint {
    this.#permitted ??= SEND_PERMIT;
    return BigInt(this.#permitted);
  }

  /** Sends in order and stops at the first failure; that failure is reported only if nothing was sent (the WIT's rule). */
  async send(datagrams: OutgoingDatagram[]): Promise<bigint> {
    // The WIT requires a trap here: a plain Error is a host failure, not a guest-visible error code.
    if (this.#permitted === undefined) throw new Error('wasi:sockets/udp: send without a preceding check-send');
    if (datagrams.length > this.#permitted) throw new Error('wasi:sockets/udp: send of more datagrams than check-send permitted');
    this.#permitted = undefined;
    let sent = 0;
    for (const datagram of datagrams) {
      try {
        await this.#channel.send(datagram);
      } catch (err) {
        if (sent > 0 && typeof err === 'string') break;
        throw err;
      }
      sent++;
    }
    return BigInt(sent);
  }

  subscribe(): Pollable {
    return readyPollable();
  }

  [Symbol.dispose](): void {
    this.#channel.release();
  }
}
