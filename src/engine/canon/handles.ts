/**
 * The handles one component instance holds to resources of one type: small integers the guest
 * passes around, mapped to the host objects they stand for. Index 0 is never a handle.
 */
export class HandleTable {
  readonly #name: string;
  readonly #slots: unknown[] = [undefined];
  readonly #free: number[] = [];
  #live = 0;
  /** Called with the live count before a new handle is handed out (the handle cap). */
  readonly #admit: ((live: number) => void) | undefined;

  constructor(name: string, admit?: (live: number) => void) {
    this.#name = name;
    this.#admit = admit;
  }

  insert(value: unknown): number {
    if (value === undefined || value === null) throw new TypeError(`the host returned no ${this.#name} where one was expected`);
    this.#admit?.(this.#live + 1);
    this.#live++;
    const free = this.#free.pop();
    if (free !== undefined) {
      this.#slots[free] = value;
      return free;
    }
    return this.#slots.push(value) - 1;
  }

  get(handle: number): unknown {
    const value = handle > 0 ? this.#slots[handle] : undefined;
    if (value === undefined) throw this.#unknown(handle);
    return value;
  }

  take(handle: number): unknown {
    const value = this.get(handle);
    this.#slots[handle] = undefined;
    this.#free.push(handle);
    this.#live--;
    return value;
  }

  /** Forgets every handle (the instance is gone; the host objects are not disposed). */
  clear(): void {
    this.#slots.length = 1;
    this.#free.length = 0;
    this.#live = 0;
  }

  #unknown(handle: number): WebAssembly.RuntimeError {
    return new WebAssembly.RuntimeError(`unknown handle index ${handle >>> 0} for resource ${this.#name}`);
  }
}
