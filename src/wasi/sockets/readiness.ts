import type { Readiness } from '../io/poll.ts';

/**
 * Wakes waiters when something changed, for readiness that depends on several events (a connect
 * settling, a connection queued, a datagram arriving). `ready()` is always re-checked after a wake.
 */
export class Notifier {
  readonly #waiters = new Set<() => void>();

  notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        this.#waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  readiness(ready: () => boolean): Readiness {
    return { ready, wait: (signal) => (ready() ? Promise.resolve() : this.wait(signal)) };
  }
}
