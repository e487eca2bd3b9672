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

export class MemoryPool {
  readonly #type: MemoryType;
  readonly #bytes: number;
  readonly #maxIdle: number;
  readonly #idle: WebAssembly.Memory[] = [];

  /** A pool for memories of this type, or undefined when they are too large to be worth recycling. */
  static for(type: MemoryType): MemoryPool | undefined {
    return type.initial * PAGE <= MAX_MEMORY_BYTES ? new MemoryPool(type) : undefined;
  }

  private constructor(type: MemoryType) {
    this.#type = { ...type };
    this.#bytes = type.initial * PAGE;
    this.#maxIdle = Math.max(1, Math.floor(MAX_IDLE_BYTES / Math.max(this.#bytes, PAGE)));
  }

  get idle(): number {
    return this.#idle.length;
  }

  take(): WebAssembly.Memory {
    return this.#idle.pop() ?? new WebAssembly.Memory(this.#type);
  }

  /** Takes back a memory no instance can reach any more. */
  give(memory: WebAssembly.Memory): void {
    if (memory.buffer.byteLength !== this.#bytes || this.#idle.length >= this.#maxIdle) return;
    new Uint8Array(memory.buffer).fill(0);
    this.#idle.push(memory);
  }
}
