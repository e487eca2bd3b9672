/** What a guest's instance counts toward the memory limits: linear memories and tables. */
export interface MemoryUser {
  readonly usedBytes: number;
}

/**
 * The host-wide cap on guest memory: every live instance draws from it. Usage is summed when
 * a guest asks to grow (rare) rather than tracked on every change.
 */
export class MemoryBudget {
  readonly capBytes: number;
  readonly #users = new Set<MemoryUser>();

  constructor(capBytes: number) {
    this.capBytes = capBytes;
  }

  get usedBytes(): number {
    let total = 0;
    for (const u of this.#users) total += u.usedBytes;
    return total;
  }

  /** Live instances counted. */
  get users(): number {
    return this.#users.size;
  }

  add(user: MemoryUser): void {
    this.#users.add(user);
  }

  remove(user: MemoryUser): void {
    this.#users.delete(user);
  }
}

export function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${+(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${+(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${+(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}
