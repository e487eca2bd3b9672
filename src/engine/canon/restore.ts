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

/** Images are kept as the runs of 4 KiB chunks that are not all zero: most of a memory is (a stack, a heap). */
const CHUNK = 4096;

/** The non-zero parts of a memory: where each run starts, and its bytes. */
type Image = { at: number; bytes: Uint8Array }[];

/** What a new group holds right after instantiation, taken from the first one (the same for all). */
export class InitialImages {
  /** Per core instance: the memory's non-zero runs, and its size in pages. */
  readonly #images: (Image | undefined)[] = [];
  readonly #pages: number[] = [];
  #captured = false;

  /** Takes the images once, from a new group's pooled memories (by core instance). */
  capture(memories: readonly (WebAssembly.Memory | undefined)[]): void {
    if (this.#captured) return;
    this.#captured = true;
    memories.forEach((memory, k) => {
      if (!memory) return;
      const bytes = new Uint8Array(memory.buffer);
      const words = new Uint32Array(memory.buffer);
      const image: Image = [];
      let start = -1;
      for (let at = 0; at <= bytes.length; at += CHUNK) {
        let zero = at === bytes.length;
        if (!zero) {
          zero = true;
          for (let w = at / 4, end = (at + CHUNK) / 4; w < end && zero; w++) zero = words[w] === 0;
        }
        if (!zero && start < 0) start = at;
        else if (zero && start >= 0) {
          image.push({ at: start, bytes: bytes.slice(start, at) });
          start = -1;
        }
      }
      this.#images[k] = image;
      this.#pages[k] = bytes.length / PAGE;
    });
  }

  /**
   * Puts memories back to their first bytes and sizes; false when one cannot be (it grew, and
   * sizes are not virtual). Every byte is written: zeros everywhere (grown pages included), then
   * the image's runs.
   */
  restore(memories: readonly (WebAssembly.Memory | undefined)[], virtualSizes: boolean): boolean {
    if (!virtualSizes && memories.some((m, k) => m && m.buffer.byteLength !== this.#pages[k] * PAGE)) return false;
    for (let k = 0; k < memories.length; k++) {
      const memory = memories[k];
      if (!memory) continue;
      const bytes = new Uint8Array(memory.buffer);
      bytes.fill(0);
      for (const run of this.#images[k]!) bytes.set(run.bytes, run.at);
      if (virtualSizes) virtualPages.set(memory, this.#pages[k]);
    }
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
