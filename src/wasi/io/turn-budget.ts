/**
 * Fair streaming (DESIGN.md, "Scheduling guests"): a stream moves at most `STREAM_BUDGET` bytes
 * in a burst, then its guest waits for the next turn of the event loop. A guest streaming a large
 * body to a fast reader (or reading one from a fast writer) never has to wait for the peer, so
 * without this it would hold the loop, and every other guest of the host, for as long as it
 * streams. A burst ends after 1 ms too, waited or not: a slow stream never waits.
 */
export const STREAM_BUDGET = 64 * 1024;
const BURST_MS = 1;

export class TurnBudget {
  #used = 0;
  #since = 0;
  #next: Promise<void> | undefined;

  /** Counts bytes moved. */
  spend(bytes: number): void {
    const now = performance.now();
    if (now - this.#since > BURST_MS) {
      this.#used = 0;
      this.#since = now;
    }
    this.#used += bytes;
  }

  get exhausted(): boolean {
    return this.#used >= STREAM_BUDGET && performance.now() - this.#since <= BURST_MS;
  }

  /** Resolves on the next turn of the event loop, with the budget renewed. */
  nextTurn(): Promise<void> {
    return (this.#next ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.#used = 0;
        this.#since = performance.now();
        this.#next = undefined;
        resolve();
      }),
    ));
  }
}
