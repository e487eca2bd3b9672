import type { BrokerMessage } from './backend.ts';

export interface DispatchLimits {
  /** Messages handled at the same time. */
  maxInFlight: number;
  /** Messages waiting beyond those; more are dropped (NATS core is at-most-once). */
  maxQueued: number;
}

/**
 * Runs `handle` for every message pushed, concurrently up to `maxInFlight`, queueing the rest in
 * arrival order. `handle` must not reject: it reports its own failures.
 */
export class MessageDispatcher {
  readonly #handle: (msg: BrokerMessage) => Promise<void>;
  readonly #onDrop: (msg: BrokerMessage) => void;
  readonly #limits: DispatchLimits;
  readonly #queue: BrokerMessage[] = [];
  #inFlight = 0;
  #closed = false;

  constructor(handle: (msg: BrokerMessage) => Promise<void>, limits: DispatchLimits, onDrop: (msg: BrokerMessage) => void) {
    this.#handle = handle;
    this.#limits = limits;
    this.#onDrop = onDrop;
  }

  push(msg: BrokerMessage): void {
    if (this.#closed) return;
    if (this.#inFlight < this.#limits.maxInFlight) this.#run(msg);
    else if (this.#queue.length < this.#limits.maxQueued) this.#queue.push(msg);
    else this.#onDrop(msg);
  }

  /** Drops what is queued; messages already being handled finish on their own. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
  }

  #run(msg: BrokerMessage): void {
    this.#inFlight++;
    void this.#handle(msg).finally(() => {
      this.#inFlight--;
      const next = this.#queue.shift();
      if (next !== undefined) this.#run(next);
    });
  }
}
