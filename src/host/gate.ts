/**
 * At most `max` holders at once; others wait in order, each for at most `timeoutMs`, and are
 * turned away after that (the route answers 503 rather than let a queue grow without bound).
 */
export class Gate {
  readonly #max: number;
  #held = 0;
  readonly #waiting: { grant: () => void }[] = [];

  constructor(max: number) {
    this.#max = max;
  }

  /** Resolves true once admitted, false when the wait ran out. */
  enter(timeoutMs: number): boolean | Promise<boolean> {
    if (this.#held < this.#max) {
      this.#held++;
      return true;
    }
    return new Promise((resolve) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        resolve(false);
      }, timeoutMs);
      this.#waiting.push(waiter);
    });
  }

  leave(): void {
    const next = this.#waiting.shift();
    if (next) next.grant();
    else this.#held--;
  }
}
