import type { Socket } from 'node:net';
import type { Readiness } from '../io/poll.ts';
import { ReadableSource } from '../io/pipes.ts';
import { InputStream, OutputStream, StreamClosed, type InputSource, type OutputSink } from '../io/streams.ts';
import { SocketStreamError } from './errors.ts';
import { Notifier } from './readiness.ts';

/** What one write offers a guest when the socket has room (Node buffers it and writes as the kernel takes it). */
const WRITE_WINDOW = 64 * 1024;

/** A connected socket's stream pair plus the half-closes `shutdown` needs. */
export interface TcpStreams {
  input: InputStream;
  output: OutputStream;
  shutdownReceive(): void;
  shutdownSend(): void;
}

export function tcpStreams(socket: Socket): TcpStreams {
  const source = new SocketSource(socket);
  return {
    input: new InputStream(source),
    output: new OutputStream(new SocketSink(socket)),
    shutdownReceive: () => source.shutdown(),
    // Half-close: sends FIN once buffered bytes are out; reading goes on (sockets are allowHalfOpen).
    shutdownSend: () => void socket.end(),
  };
}

/** Reads a socket in paused mode; a socket error is reported once (with its WASI code), then end of stream. */
class SocketSource implements InputSource {
  readonly #socket: Socket;
  readonly #inner: ReadableSource;
  #closed = false;
  readonly readiness: Readiness;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.#inner = new ReadableSource(socket);
    this.readiness = {
      ready: () => this.#closed || this.#inner.readiness.ready(),
      wait: (signal) => (this.#closed ? Promise.resolve() : this.#inner.readiness.wait(signal)),
    };
  }

  read(max: number): Uint8Array | null {
    if (this.#closed) return null;
    const err = this.#socket.errored;
    if (err) {
      this.#closed = true;
      throw new SocketStreamError(err);
    }
    return this.#inner.read(max);
  }

  /** Node cannot `shutdown(SHUT_RD)`: the guest sees end of stream and unread bytes are dropped at close. */
  shutdown(): void {
    this.#closed = true;
  }
}

/** Writes to a socket, honouring backpressure; `flush` waits until Node has handed every byte to the kernel. */
class SocketSink implements OutputSink {
  readonly #socket: Socket;
  #unfinished = 0;
  readonly #settled = new Notifier();
  readonly readiness: Readiness;

  constructor(socket: Socket) {
    this.#socket = socket;
    const wake = () => this.#settled.notify();
    socket.on('drain', wake).on('close', wake).on('error', wake);
    this.readiness = this.#settled.readiness(() => !socket.writableNeedDrain || socket.destroyed);
  }

  checkWrite(): number {
    const s = this.#socket;
    if (s.errored) throw failure(s.errored);
    if (s.destroyed || s.writableEnded) throw new StreamClosed('socket is closed for sending');
    return s.writableNeedDrain ? 0 : WRITE_WINDOW;
  }

  write(bytes: Uint8Array): void {
    this.checkWrite();
    this.#unfinished++;
    // Copy: the guest's memory may change once the call returns.
    this.#socket.write(Buffer.from(bytes), () => {
      this.#unfinished--;
      this.#settled.notify();
    });
  }

  flush(): void | Promise<void> {
    if (this.#unfinished > 0 && !this.#socket.destroyed) return this.#drained();
    if (this.#socket.errored) throw failure(this.#socket.errored);
  }

  async #drained(): Promise<void> {
    while (this.#unfinished > 0 && !this.#socket.destroyed) await this.#settled.wait(new AbortController().signal);
    if (this.#socket.errored) throw failure(this.#socket.errored);
  }
}

/** A broken pipe means the peer is gone: `closed`, as in wasmtime; anything else keeps its code. */
function failure(err: Error): Error {
  return (err as { code?: string }).code === 'EPIPE' ? new StreamClosed(err.message) : new SocketStreamError(err);
}

/** How long a dropped socket may take to send what the guest wrote before it is cut. */
const LINGER_MS = 10_000;

/** Closes like POSIX `close`: bytes already written still go out, then the socket is released. */
export function closeGracefully(socket: Socket): void {
  if (socket.destroyed) return;
  socket.destroySoon();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once('close', () => clearTimeout(timer));
}
