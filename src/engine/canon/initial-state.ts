/**
 * The state a core instance has right after instantiation, for modules whose whole state the
 * host can see (wasm/export-state.ts): its memory's bytes and its mutable globals' values. A
 * finished instance restored to it is indistinguishable, to the guest, from a new one, and costs
 * a copy of its memory instead of a new `WebAssembly.Instance` and the garbage that leaves
 * (most of a fresh request's cost, measured in bench/).
 */

/** One instance's globals and the values they started with (a funcref global refers to its own instance). */
export interface GlobalsSnapshot {
  readonly globals: WebAssembly.Global[];
  readonly values: unknown[];
}

export class InitialState {
  readonly #globalNames: readonly string[];
  /** The memory's initial bytes, up to the last one that is not zero; the same for every instance (no code runs at instantiation). */
  #image: Uint8Array | undefined;
  #memoryBytes = 0;

  constructor(globalNames: readonly string[]) {
    this.#globalNames = globalNames;
  }

  /** Called on a new instance before any of its code runs. */
  capture(exports: WebAssembly.Exports, memory: WebAssembly.Memory): GlobalsSnapshot {
    if (!this.#image) {
      const bytes = new Uint8Array(memory.buffer);
      let end = bytes.length;
      while (end > 0 && bytes[end - 1] === 0) end--;
      this.#image = bytes.slice(0, end);
      this.#memoryBytes = bytes.length;
    }
    const globals = this.#globalNames.map((name) => exports[name] as WebAssembly.Global);
    return { globals, values: globals.map((g) => g.value) };
  }

  /** Puts a finished instance back as it started; false when it cannot be (its memory grew). */
  restore(snapshot: GlobalsSnapshot, memory: WebAssembly.Memory): boolean {
    const image = this.#image!;
    if (memory.buffer.byteLength !== this.#memoryBytes) return false;
    const bytes = new Uint8Array(memory.buffer);
    bytes.set(image);
    bytes.fill(0, image.length);
    const { globals, values } = snapshot;
    for (let i = 0; i < globals.length; i++) globals[i].value = values[i];
    return true;
  }
}
