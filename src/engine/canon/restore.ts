/**
 * A finished instance group put back into the state it had right after instantiation, so that
 * it serves the next invocation as a fresh instance without a new `WebAssembly.Instance` (the
 * garbage each leaves was most of a fresh request's cost, measured in bench/).
 *
 * Only groups whose whole state the host can see qualify (recycling.ts): their memories come
 * from the host's pools, their mutable globals are exported, their tables never change after
 * instantiation. And only when instantiating them ran deterministic code: no call out of the
 * guest and no refused growth while the start functions ran (the preview1 adapter's start grows
 * memory for its stack), so every new instance starts from the same bytes and values. Then the state is taken once per component (the memories' bytes) and once
 * per group (its globals), and restoring is: the first bytes copied back, the rest zeroed, the
 * globals reset.
 *
 * A memory that grew keeps its pages (a memory cannot shrink), zeroed; its guest sees the size
 * a new instance has, because the host keeps the sizes guests see (limits/instrument.ts). The
 * one difference a guest could notice: an access between that size and the pages kept reads
 * zeros instead of trapping. Without instrumentation, a group whose memory grew is not reused.
 */
import { virtualPages } from '../limits/limiter.ts';

const PAGE = 65536;

/** What a new group holds right after instantiation, taken from the first one (the same for all). */
export class InitialImages {
  /** Per core instance: the memory's bytes up to the last one that is not zero, and its size in pages. */
  readonly #images: (Uint8Array | undefined)[] = [];
  readonly #pages: number[] = [];

  /** Takes the images once, from a new group's pooled memories (by core instance). */
  capture(memories: readonly (WebAssembly.Memory | undefined)[]): void {
    if (this.#images.length > 0) return;
    memories.forEach((memory, k) => {
      if (!memory) return;
      const bytes = new Uint8Array(memory.buffer);
      let end = bytes.length;
      while (end > 0 && bytes[end - 1] === 0) end--;
      this.#images[k] = bytes.slice(0, end);
      this.#pages[k] = bytes.length / PAGE;
    });
  }

  /**
   * Puts memories back to their first bytes and sizes; false when one cannot be (it grew, and
   * sizes are not virtual). Everything past the image is zeroed, grown pages included.
   */
  restore(memories: readonly (WebAssembly.Memory | undefined)[], virtualSizes: boolean): boolean {
    if (!virtualSizes && memories.some((m, k) => m && m.buffer.byteLength !== this.#pages[k] * PAGE)) return false;
    memories.forEach((memory, k) => {
      if (!memory) return;
      const image = this.#images[k]!;
      const bytes = new Uint8Array(memory.buffer);
      bytes.set(image);
      bytes.fill(0, image.length);
      if (virtualSizes) virtualPages.set(memory, this.#pages[k]);
    });
    return true;
  }
}

/** One group's mutable globals and the values they started with. */
export class GlobalsSnapshot {
  readonly #globals: WebAssembly.Global[];
  readonly #values: unknown[];

  constructor(globals: WebAssembly.Global[]) {
    this.#globals = globals;
    this.#values = globals.map((g) => g.value);
  }

  restore(): void {
    const globals = this.#globals;
    for (let i = 0; i < globals.length; i++) globals[i].value = this.#values[i];
  }
}
