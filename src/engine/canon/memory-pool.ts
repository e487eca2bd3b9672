/**
 * Linear memories handed from finished instances to new instances of the same core module (see
 * wasm/import-memory.ts for why), and the bound on what finished instances keep idle.
 *
 * A memory is given back only once nothing can touch it: its instance is closed and none of its
 * export calls is running or suspended (runtime.ts). It is zeroed then, and a memory that grew is
 * dropped instead, so a new instance starts on exactly what a fresh memory shows; instantiation
 * writes its data segments anew. Restored instance groups (restore.ts) keep their memories
 * whole, counted against the same bound.
 */
import type { MemoryType } from '../wasm/import-memory.ts';

const PAGE = 65536;
/** Zeroing costs ~7 us per MiB here, about what a fresh small memory costs: larger ones are not kept zeroed. */
const MAX_MEMORY_BYTES = 4 * 1024 * 1024;
/**
 * Idle memory kept per compiled component, in bytes: enough for a few restored instances of a
 * JavaScript component (~10 MB of memory each, where a new instance costs milliseconds).
 */
const MAX_IDLE_BYTES = 64 * 1024 * 1024;
/** Idle memory kept by all components of the process together: those pages stay resident. */
const MAX_IDLE_BYTES_IN_ALL = 256 * 1024 * 1024;
let idleBytesInAll = 0;
/** A budget collected with memories in it (its component left the engine's cache) returns their share. */
const collected = new FinalizationRegistry((idle: { bytes: number }) => (idleBytesInAll -= idle.bytes));

/** The idle memory one compiled component may keep: in pools and in restored instance groups. */
export class IdleMemory {
  /** This component's share of `idleBytesInAll`. */
  readonly #idle = { bytes: 0 };

  constructor() {
    collected.register(this, this.#idle);
  }

  get bytes(): number {
    return this.#idle.bytes;
  }

  /** Counts `bytes` more kept idle; false (nothing counted) when that passes a bound. */
  reserve(bytes: number): boolean {
    if (this.#idle.bytes + bytes > MAX_IDLE_BYTES || idleBytesInAll + bytes > MAX_IDLE_BYTES_IN_ALL) return false;
    this.#idle.bytes += bytes;
    idleBytesInAll += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#idle.bytes -= bytes;
    idleBytesInAll -= bytes;
  }
}

export class MemoryPool {
  readonly type: MemoryType;
  readonly #bytes: number;
  readonly #budget: IdleMemory;
  readonly #idle: WebAssembly.Memory[] = [];

  /** Whether idle memories of this type are small enough to be worth keeping zeroed. */
  static recyclable(type: MemoryType): boolean {
    return type.initial * PAGE <= MAX_MEMORY_BYTES;
  }

  constructor(type: MemoryType, budget: IdleMemory) {
    this.type = { ...type };
    this.#bytes = type.initial * PAGE;
    this.#budget = budget;
  }

  get idle(): number {
    return this.#idle.length;
  }

  /** A memory for a new instance: a recycled one, else a new one. */
  take(): WebAssembly.Memory {
    const memory = this.#idle.pop();
    if (!memory) return new WebAssembly.Memory(this.type);
    this.#budget.release(this.#bytes);
    return memory;
  }

  /** Takes back a memory no instance can reach any more (one that grew, or a large one, is dropped). */
  give(memory: WebAssembly.Memory): void {
    if (memory.buffer.byteLength !== this.#bytes || this.#bytes > MAX_MEMORY_BYTES || !this.#budget.reserve(this.#bytes)) return;
    new Uint8Array(memory.buffer).fill(0);
    this.#idle.push(memory);
  }
}
