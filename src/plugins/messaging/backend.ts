/**
 * The one interface every messaging backend implements (in-memory now, NATS core later): core
 * publish/subscribe with NATS subject semantics and request/reply. The plugin talks only to this.
 */

/** A message as the WIT `broker-message` record has it, in jco's shape. */
export interface BrokerMessage {
  subject: string;
  body: Uint8Array;
  replyTo?: string;
}

/** Called once per delivered message; a backend never awaits it. */
export type MessageHandler = (msg: BrokerMessage) => void;

export interface Subscription {
  /** Stops delivery. Idempotent. */
  unsubscribe(): void;
}

export interface MessagingBackend {
  /** Sends without waiting for anyone; a subject nobody listens on is not an error. */
  publish(msg: BrokerMessage): Promise<void>;
  /**
   * Publishes with a fresh reply subject and resolves with the first reply. Rejects with
   * `NoRespondersError` when nobody is subscribed and `RequestTimeoutError` after `timeoutMs`.
   */
  request(subject: string, body: Uint8Array, timeoutMs: number): Promise<BrokerMessage>;
  /** `subject` may hold wildcards: `*` matches one token, a final `>` one or more. */
  subscribe(subject: string, handler: MessageHandler): Subscription;
  /** Ends every subscription and pending request; later calls fail with `BackendClosedError`. */
  close(): Promise<void>;
}
