import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
// Types only: embedding wasmhost loads the NATS client only when `NatsBroker.connect` is called.
import type { Msg, NatsConnection, NodeConnectionOptions, Status, Subscription as NatsSubscription } from '@nats-io/transport-node';
import type { BrokerMessage, MessageHandler, MessagingBackend, SubscribeOptions, Subscription } from '../backend.ts';
import { BackendClosedError, BackendUnavailableError, MessageTooLargeError, NoRespondersError, RequestTimeoutError } from '../errors.ts';
import { checkQueueName, checkSubject, patternTokens } from '../subjects.ts';

export interface NatsBrokerOptions {
  /** A connection from `connect` of `@nats-io/transport-node`, connected (as `connect` resolves it). */
  connection: NatsConnection;
  /** Whether `close` closes the connection too (after flushing what was published). Default false. */
  ownsConnection?: boolean;
  /** Told about a handler that threw; by default a process warning. Other messages still come. */
  onHandlerError?: (error: unknown, msg: BrokerMessage) => void;
  /** Told about a subscription the server ended (such as a permission violation); by default a process warning. */
  onSubscriptionError?: (error: Error, subject: string) => void;
  /** Prefix of the reply subjects of `request` (NATS's `inboxPrefix`, for accounts that restrict them). Default `_INBOX`. */
  inboxPrefix?: string;
}

/** Node's timers fire at once beyond this (a u32 timeout from a guest can exceed it): about 24.8 days. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long `close` lets an owned connection flush before closing it regardless. */
const DRAIN_MS = 5_000;

/** The status NATS answers a request with when nobody is subscribed (needs the `no_responders` protocol option, which the client sets). */
const NO_RESPONDERS = 503;

/**
 * `MessagingBackend` over NATS core with the official client. The client reconnects by itself
 * and re-subscribes everything once it is back; until then `publish` and `request` fail at once
 * with `BackendUnavailableError` (the client would buffer or wait, and a guest would hang), and a
 * request still waiting when the connection drops fails with it too.
 *
 * Each request listens on its own inbox subject so that it can be ended at once on timeout, close
 * or disconnect; NATS tells at once when nobody listens on the subject (`NoRespondersError`).
 */
export class NatsBroker implements MessagingBackend {
  readonly #nc: NatsConnection;
  readonly #ownsConnection: boolean;
  readonly #onHandlerError: (error: unknown, msg: BrokerMessage) => void;
  readonly #onSubscriptionError: (error: Error, subject: string) => void;
  readonly #inboxPrefix: string;
  readonly #status: AsyncIterable<Status>;
  readonly #subscriptions = new Set<NatsSubscription>();
  /** Rejecters of the requests still waiting for a reply, for `close` and disconnects. */
  readonly #pending = new Set<(error: Error) => void>();
  /** Why the server cannot be reached now (a disconnect or a closed connection), or undefined. */
  #unavailable: string | undefined;
  #closed = false;

  /** Connects with `maxReconnectAttempts: -1` (reconnect forever) unless told otherwise; `close` closes the connection. */
  static async connect(
    connection: NodeConnectionOptions,
    options: Omit<NatsBrokerOptions, 'connection' | 'ownsConnection'> = {},
  ): Promise<NatsBroker> {
    const { connect } = await import('@nats-io/transport-node');
    let nc: NatsConnection;
    try {
      nc = await connect({ maxReconnectAttempts: -1, ...connection });
    } catch (error) {
      const servers = String(connection.servers ?? '127.0.0.1:4222');
      throw new BackendUnavailableError(`cannot connect to NATS at ${servers}: ${messageOf(error)}`, { cause: error });
    }
    return new NatsBroker({ ...options, connection: nc, ownsConnection: true });
  }

  constructor(options: NatsBrokerOptions) {
    this.#nc = options.connection;
    this.#ownsConnection = options.ownsConnection ?? false;
    this.#onHandlerError =
      options.onHandlerError ?? ((error, msg) => process.emitWarning(`messaging handler for ${msg.subject} threw: ${String(error)}`));
    this.#onSubscriptionError =
      options.onSubscriptionError ?? ((error, subject) => process.emitWarning(`NATS ended the subscription to ${subject}: ${error.message}`));
    this.#inboxPrefix = options.inboxPrefix ?? '_INBOX';
    checkSubject(this.#inboxPrefix);
    if (this.#nc.isClosed()) this.#unavailable = 'the NATS connection is closed';
    this.#status = this.#nc.status();
    this.#watch().catch((error: unknown) => this.#connectionLost(`the NATS status stream failed: ${messageOf(error)}`));
    void this.#nc.closed().then((error) => this.#connectionLost(`the NATS connection is closed${error ? `: ${error.message}` : ''}`));
  }

  async publish(msg: BrokerMessage): Promise<void> {
    this.#checkReachable();
    checkSubject(msg.subject);
    if (msg.replyTo !== undefined) checkSubject(msg.replyTo);
    this.#checkSize(msg.subject, msg.body);
    this.#call(() => this.#nc.publish(msg.subject, msg.body, msg.replyTo === undefined ? undefined : { reply: msg.replyTo }));
  }

  async request(subject: string, body: Uint8Array, timeoutMs: number): Promise<BrokerMessage> {
    this.#checkReachable();
    checkSubject(subject);
    this.#checkSize(subject, body);
    const inbox = `${this.#inboxPrefix}.${randomUUID().replaceAll('-', '')}`;
    const { promise, resolve, reject } = Promise.withResolvers<BrokerMessage>();
    const inboxSubscription = this.#call(() =>
      this.#nc.subscribe(inbox, {
        max: 1,
        callback: (error, msg) => {
          if (error) reject(error); // the server refused the inbox subscription (permissions)
          else if (msg.headers?.code === NO_RESPONDERS && msg.data.length === 0) reject(new NoRespondersError(subject));
          else resolve(toBrokerMessage(msg));
        },
      }),
    );
    const timer = setTimeout(() => reject(new RequestTimeoutError(subject, timeoutMs)), Math.min(Math.max(timeoutMs, 0), MAX_TIMER_MS));
    this.#pending.add(reject);
    try {
      this.#call(() => this.#nc.publish(subject, body, { reply: inbox }));
      return await promise;
    } finally {
      clearTimeout(timer);
      this.#pending.delete(reject);
      inboxSubscription.unsubscribe();
    }
  }

  subscribe(subject: string, handler: MessageHandler, options: SubscribeOptions = {}): Subscription {
    this.#checkOpen();
    patternTokens(subject);
    if (options.queue !== undefined) checkQueueName(options.queue);
    // Allowed while disconnected: the client sends it when the server is back, as it does for
    // every subscription it already had.
    const subscription = this.#call(() =>
      this.#nc.subscribe(subject, {
        queue: options.queue,
        callback: (error, msg) => {
          if (error) {
            this.#subscriptions.delete(subscription);
            this.#onSubscriptionError(error, subject);
            return;
          }
          const message = toBrokerMessage(msg);
          try {
            handler(message);
          } catch (handlerError) {
            this.#onHandlerError(handlerError, message);
          }
        },
      }),
    );
    this.#subscriptions.add(subscription);
    return {
      unsubscribe: () => {
        if (this.#subscriptions.delete(subscription) && !this.#nc.isClosed()) subscription.unsubscribe();
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const reject of this.#pending) reject(new BackendClosedError('messaging backend closed while a request waited'));
    const open = !this.#nc.isClosed();
    for (const subscription of this.#subscriptions) if (open) subscription.unsubscribe();
    this.#subscriptions.clear();
    // The status iterator is the client's QueuedIterator: stopping it ends #watch and drops its listener.
    (this.#status as { stop?: () => void }).stop?.();
    if (this.#ownsConnection && open) {
      // Flushes what was published first, unless the server is away: a drain waits for it.
      if (this.#unavailable === undefined) await Promise.race([this.#nc.drain().catch(() => {}), delay(DRAIN_MS, undefined, { ref: false })]);
      if (!this.#nc.isClosed()) await this.#nc.close();
    }
  }

  async #watch(): Promise<void> {
    for await (const status of this.#status) {
      if (status.type === 'disconnect') this.#connectionLost(`disconnected from NATS server ${status.server}; reconnecting`);
      else if (status.type === 'reconnect' && !this.#nc.isClosed()) this.#unavailable = undefined;
    }
  }

  #connectionLost(why: string): void {
    this.#unavailable = why;
    for (const reject of this.#pending) reject(new BackendUnavailableError(`request failed: ${why}`));
  }

  #checkOpen(): void {
    if (this.#closed) throw new BackendClosedError('messaging backend is closed');
  }

  #checkReachable(): void {
    this.#checkOpen();
    if (this.#unavailable !== undefined) throw new BackendUnavailableError(`messaging backend unavailable: ${this.#unavailable}`);
  }

  #checkSize(subject: string, body: Uint8Array): void {
    const limit = this.#nc.info?.max_payload;
    if (limit !== undefined && body.length > limit) throw new MessageTooLargeError(subject, body.length, limit);
  }

  /** Runs a client call, turning the client's refusals of a closed or draining connection into ours. */
  #call<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (this.#nc.isClosed() || this.#nc.isDraining()) {
        throw new BackendUnavailableError(`messaging backend unavailable: ${messageOf(error)}`, { cause: error });
      }
      throw error;
    }
  }
}

function toBrokerMessage(msg: Msg): BrokerMessage {
  // A copy: the client hands out a view of its read buffer, which a kept message would pin.
  return { subject: msg.subject, body: new Uint8Array(msg.data), replyTo: msg.reply || undefined };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
