import { randomUUID } from 'node:crypto';
import type { BrokerMessage, MessageHandler, MessagingBackend, SubscribeOptions, Subscription } from '../backend.ts';
import { BackendClosedError, NoRespondersError, RequestTimeoutError } from '../errors.ts';
import { checkQueueName, checkSubject, patternTokens, subjectMatches } from '../subjects.ts';

export interface InMemoryBrokerOptions {
  /** Told about a handler that threw; by default a process warning. Other handlers still run. */
  onHandlerError?: (error: unknown, msg: BrokerMessage) => void;
}

interface Entry {
  tokens: readonly string[];
  handler: MessageHandler;
  queue?: string;
}

/** A queue group's members (for forgetting it when the last leaves) and whose turn is next. */
interface QueueGroup {
  members: number;
  turn: number;
}

/** Node's timers fire at once beyond this (a u32 timeout from a guest can exceed it): about 24.8 days. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Prefix of the reply subjects `request` listens on, as in NATS. */
const INBOX_PREFIX = '_INBOX.';

/**
 * A broker in this process with NATS core semantics, for development and tests: wildcard
 * subscriptions, at-most-once delivery to every matching subscription, queue groups (one member
 * per group gets each message, in turn), request/reply through generated inbox subjects.
 * Delivery is asynchronous, on a later turn of the event loop (as over a network): even an
 * awaited `publish` returns before any handler runs, and each subscriber gets its own copy of the
 * body, taken at publish time.
 */
export class InMemoryBroker implements MessagingBackend {
  readonly #entries = new Set<Entry>();
  readonly #queues = new Map<string, QueueGroup>();
  /** Rejecters of the requests still waiting for a reply, for `close`. */
  readonly #pending = new Set<(error: Error) => void>();
  readonly #onHandlerError: (error: unknown, msg: BrokerMessage) => void;
  #closed = false;

  constructor(options: InMemoryBrokerOptions = {}) {
    this.#onHandlerError =
      options.onHandlerError ??
      ((error, msg) => process.emitWarning(`messaging handler for ${msg.subject} threw: ${String(error)}`));
  }

  async publish(msg: BrokerMessage): Promise<void> {
    this.#checkOpen();
    checkSubject(msg.subject);
    if (msg.replyTo !== undefined) checkSubject(msg.replyTo);
    this.#deliver(msg);
  }

  async request(subject: string, body: Uint8Array, timeoutMs: number): Promise<BrokerMessage> {
    this.#checkOpen();
    checkSubject(subject);
    if (!this.#hasSubscriber(subject)) throw new NoRespondersError(subject);
    const inbox = INBOX_PREFIX + randomUUID().replaceAll('-', '');
    const { promise, resolve, reject } = Promise.withResolvers<BrokerMessage>();
    const entry: Entry = { tokens: patternTokens(inbox), handler: resolve };
    const timer = setTimeout(() => reject(new RequestTimeoutError(subject, timeoutMs)), Math.min(timeoutMs, MAX_TIMER_MS));
    this.#entries.add(entry);
    this.#pending.add(reject);
    try {
      this.#deliver({ subject, body, replyTo: inbox });
      return await promise;
    } finally {
      clearTimeout(timer);
      this.#entries.delete(entry);
      this.#pending.delete(reject);
    }
  }

  subscribe(subject: string, handler: MessageHandler, options: SubscribeOptions = {}): Subscription {
    this.#checkOpen();
    const { queue } = options;
    const entry: Entry = { tokens: patternTokens(subject), handler, queue };
    if (queue !== undefined) {
      checkQueueName(queue);
      const group = this.#queues.get(queue) ?? { members: 0, turn: 0 };
      group.members++;
      this.#queues.set(queue, group);
    }
    this.#entries.add(entry);
    return {
      unsubscribe: () => {
        if (!this.#entries.delete(entry) || queue === undefined) return;
        const group = this.#queues.get(queue)!;
        if (--group.members === 0) this.#queues.delete(queue);
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#entries.clear();
    this.#queues.clear();
    for (const reject of this.#pending) reject(new BackendClosedError('messaging backend closed while a request waited'));
  }

  #checkOpen(): void {
    if (this.#closed) throw new BackendClosedError('messaging backend is closed');
  }

  #hasSubscriber(subject: string): boolean {
    for (const entry of this.#entries) if (subjectMatches(entry.tokens, subject)) return true;
    return false;
  }

  #deliver(msg: BrokerMessage): void {
    // As in NATS, a queue group is its name: members on different matching patterns are one group.
    const groups = new Map<string, Entry[]>();
    for (const entry of this.#entries) {
      if (!subjectMatches(entry.tokens, msg.subject)) continue;
      if (entry.queue === undefined) this.#send(entry, msg);
      else if (groups.has(entry.queue)) groups.get(entry.queue)!.push(entry);
      else groups.set(entry.queue, [entry]);
    }
    for (const [queue, members] of groups) {
      const group = this.#queues.get(queue)!;
      this.#send(members[group.turn++ % members.length]!, msg);
    }
  }

  #send(entry: Entry, msg: BrokerMessage): void {
    const copy: BrokerMessage = { subject: msg.subject, body: new Uint8Array(msg.body), replyTo: msg.replyTo };
    setImmediate(() => {
      // An entry unsubscribed after the publish gets nothing, as with NATS once the
      // unsubscribe reached the server (for a queue group too: the message is not passed on).
      if (!this.#entries.has(entry)) return;
      try {
        entry.handler(copy);
      } catch (error) {
        this.#onHandlerError(error, copy);
      }
    });
  }
}
