/** The WIT's stand-ins for WebIDL `record<string, T>`: a map the guest fills, read as a dictionary. */
import { Wrapped } from './dawn.ts';

abstract class StringRecord<T> extends Wrapped {
  readonly #map = new Map<string, T>();
  constructor() {
    // Not tied to a device or scope: a plain value the guest builds.
    super(undefined as never, undefined);
  }
  add(key: string, value: T): void {
    this.#map.set(key, value);
  }
  has(key: string): boolean {
    return this.#map.has(key);
  }
  remove(key: string): void {
    this.#map.delete(key);
  }
  keys(): string[] {
    return [...this.#map.keys()];
  }
  values(): T[] {
    return [...this.#map.values()];
  }
  entries(): [string, T][] {
    return [...this.#map.entries()];
  }
  protected lookup(key: string): T | undefined {
    return this.#map.get(key);
  }
  /** As Dawn takes it (see `toDawn`). */
  toDawn(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of this.#map) if (v !== undefined) out[k] = typeof v === 'bigint' ? Number(v) : v;
    return out;
  }
}

/** `record-option-gpu-size64`: `required-limits` of a device descriptor. */
export class RecordOptionGpuSize64 extends StringRecord<bigint | undefined> {
  /** `option<option<u64>>`: the outer option tagged (jco's convention for nested options). */
  get(key: string): { tag: 'some'; val: bigint | undefined } | { tag: 'none' } {
    return this.has(key) ? { tag: 'some', val: this.lookup(key) } : { tag: 'none' };
  }
}

/** `record-gpu-pipeline-constant-value`: `constants` of a programmable stage. */
export class RecordGpuPipelineConstantValue extends StringRecord<number> {
  get(key: string): number | undefined {
    return this.lookup(key);
  }
}
