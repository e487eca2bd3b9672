/**
 * Linear memories handed from finished instances to new instances of the same core module (see
 * wasm/import-memory.ts for why). The plan gives a memory back only once nothing can touch it:
 * its instance is closed and none of its export calls is running or suspended (plan.ts). It is
 * zeroed then, and a memory that grew is dropped instead, so a new instance starts on exactly
 * what a fresh memory shows; instantiation writes its data segments anew.
 */
import type { MemoryType } from '../wasm/import-memory.ts';

const PAGE = 65536;
/** Zeroing costs ~7 us per MiB here, about what a fresh small memory costs: larger ones are not recycled. */
const MAX_MEMORY_BYTES = 4 * 1024 * 1024;
/** Idle memories kept per module, in bytes (at least one memory). */
const MAX_IDLE_BYTES = 16 * 1024 * 1024;
/** Idle memories kept by all pools of the process together: zeroed pages stay resident. */
const MAX_IDLE_BYTES_IN_ALL = 64 * 1024 * 1024;
let idleBytesInAll = 0;
/** A pool collected with memories in it (its component left the engine's cache) returns their share. */
const collected = new FinalizationRegistry((idle: { bytes: number }) => (idleBytesInAll -= idle.bytes));

export class MemoryPool {
  readonly #type: MemoryType;
  readonly #bytes: number;
  readonly #maxIdle: number;
  readonly #idle: WebAssembly.Memory[] = [];
  /** This pool's share of `idleBytesInAll`. */
  readonly #idleBytes = { bytes: 0 };
  /** Memories kept idle inside idle instances (see `hold`). */
  #held = 0;

  /** Whether memories of this type are small enough to be worth recycling. */
  static recyclable(type: MemoryType): boolean {
    return type.initial * PAGE <= MAX_MEMORY_BYTES;
  }

  /** A pool for memories of this type, or undefined when they are not `recyclable`. */
  static for(type: MemoryType): MemoryPool | undefined {
    return MemoryPool.recyclable(type) ? new MemoryPool(type) : undefined;
  }

  private constructor(type: MemoryType) {
    this.#type = { ...type };
    this.#bytes = type.initial * PAGE;
    this.#maxIdle = Math.max(1, Math.floor(MAX_IDLE_BYTES / Math.max(this.#bytes, PAGE)));
    collected.register(this, this.#idleBytes);
  }

  get idle(): number {
    return this.#idle.length;
  }

  take(): WebAssembly.Memory {
    const memory = this.#idle.pop();
    if (!memory) return new WebAssembly.Memory(this.#type);
    this.#count(-1);
    return memory;
  }

  /** Takes back a memory no instance can reach any more. */
  give(memory: WebAssembly.Memory): void {
    if (memory.buffer.byteLength !== this.#bytes || !this.#room()) return;
    new Uint8Array(memory.buffer).fill(0);
    this.#idle.push(memory);
    this.#count(1);
  }

  /**
   * Counts a memory kept inside an idle instance (see canon/plan.ts) against the same bounds as
   * the pool's own idle memories; false when there is no room for it.
   */
  hold(): boolean {
    if (!this.#room()) return false;
    this.#held++;
    this.#count(1);
    return true;
  }

  /** The instance holding a memory is in use again, or gone. */
  unhold(): void {
    this.#held--;
    this.#count(-1);
  }

  #room(): boolean {
    return this.#idle.length + this.#held < this.#maxIdle && idleBytesInAll + this.#bytes <= MAX_IDLE_BYTES_IN_ALL;
  }

  #count(memories: number): void {
    idleBytesInAll += memories * this.#bytes;
    this.#idleBytes.bytes += memories * this.#bytes;
  }
}
