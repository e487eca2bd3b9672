/**
 * The one interface every messaging backend implements (in-memory, NATS core): core
 * publish/subscribe with NATS subject semantics, queue groups and request/reply. The plugin talks
 * only to this.
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

export interface SubscribeOptions {
  /**
   * A queue group. Among all subscriptions with the same queue name whose subjects match a
   * message (in this process or, over a server, in any other), exactly one gets it, as with NATS
   * queue subscriptions; subscriptions without a queue each get every message. No whitespace.
   */
  queue?: string;
}

/**
 * Errors: `InvalidSubjectError` for a subject or queue name NATS would refuse, `BackendClosedError`
 * after `close`, and `BackendUnavailableError` from `publish` and `request` while the backend
 * cannot reach its server (they fail at once then, never wait for it to come back).
 */
export interface MessagingBackend {
  /** Sends without waiting for anyone; a subject nobody listens on is not an error. */
  publish(msg: BrokerMessage): Promise<void>;
  /**
   * Publishes with a fresh reply subject and resolves with the first reply. Rejects with
   * `NoRespondersError` when nobody is subscribed and `RequestTimeoutError` after `timeoutMs`.
   */
  request(subject: string, body: Uint8Array, timeoutMs: number): Promise<BrokerMessage>;
  /**
   * `subject` may hold wildcards: `*` matches one token, a final `>` one or more. A backend with
   * a server keeps its subscriptions across reconnects: made while the server is away, one
   * starts delivering once it is back.
   */
  subscribe(subject: string, handler: MessageHandler, options?: SubscribeOptions): Subscription;
  /** Ends every subscription and pending request; later calls fail with `BackendClosedError`. */
  close(): Promise<void>;
}
