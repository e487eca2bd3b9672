/**
 * The bridge between WIT values (jco's conventions) and Dawn's WebGPU objects. The WIT is a
 * mechanical translation of WebGPU's WebIDL (wasi-gfx's webidl2wit), so a descriptor becomes
 * Dawn's dictionary by small, uniform rules: our wrappers become the objects they wrap, `u64`
 * sizes become numbers, variants become their payload (`auto` stays `'auto'`), and the few enum
 * values a WIT name cannot spell (`d1`, `d2-array`) become WebGPU's (`1d`, `2d-array`).
 */
import { attempt } from './errors.ts';
import type { GpuScope } from './scope.ts';

/**
 * A Dawn object. Reached by the WIT's names, so untyped here: typing it needs `@webgpu/types`,
 * which the published declarations of wasmhost must not depend on (`webgpu` is optional).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Dawn = any;

export const REAL = Symbol('wasmhost.webgpu.real');

/** A WIT resource over one Dawn object, in one component's scope. */
export class Wrapped {
  [REAL]: Dawn;
  readonly scope: GpuScope;
  constructor(scope: GpuScope, real: Dawn) {
    this.scope = scope;
    this[REAL] = real;
  }
}

/** A WIT resource with `label` and `set-label` (WebGPU's GPUObjectBase). */
export class Labelled extends Wrapped {
  label(): string {
    return this[REAL].label ?? '';
  }
  setLabel(label: string): void {
    this[REAL].label = label;
  }
}

/**
 * A buffer or texture: its bytes count against the component's budget from before its Dawn
 * object is made (`attach` follows), and are given back when the guest destroys it.
 */
export class Counted extends Labelled {
  readonly #bytes: number;

  constructor(scope: GpuScope, real: Dawn, bytes: number) {
    super(scope, real);
    this.#bytes = bytes;
  }

  attach(real: Dawn): void {
    this[REAL] = real;
  }

  /** Destroys the Dawn object (`what` names the WIT function in errors) and frees its bytes. */
  protected destroyCounted(what: string): void {
    attempt(what, () => this[REAL].destroy());
    this.scope.release(this, this.#bytes);
  }
}

const DIMENSION_KEYS = new Set(['dimension', 'viewDimension']);
const TO_DAWN_DIMENSION: Record<string, string> = { d1: '1d', d2: '2d', d3: '3d', 'd2-array': '2d-array' };
const FROM_DAWN_DIMENSION: Record<string, string> = { '1d': 'd1', '2d': 'd2', '3d': 'd3', '2d-array': 'd2-array' };

/** A WIT value (argument or descriptor) as Dawn takes it. */
export function toDawn(value: unknown, key?: string): unknown {
  if (value instanceof Wrapped) return (value as { toDawn?: () => unknown }).toDawn?.() ?? value[REAL];
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && key && DIMENSION_KEYS.has(key)) return TO_DAWN_DIMENSION[value] ?? value;
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map((v) => toDawn(v));
  const entries = Object.entries(value);
  // A variant: `{tag}` is a payload-less case (`auto`), `{tag, val}` stands for its payload.
  if ('tag' in value && entries.every(([k]) => k === 'tag' || k === 'val')) {
    const v = value as { tag: string; val?: unknown };
    return 'val' in v && v.val !== undefined ? toDawn(v.val) : v.tag;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) if (v !== undefined) out[k] = toDawn(v, k);
  return out;
}

export function fromDawnDimension(value: string): string {
  return FROM_DAWN_DIMENSION[value] ?? value;
}

/** Optional WIT arguments as Dawn's optional parameters (trailing `undefined`s are "not passed"). */
export function args(...values: unknown[]): unknown[] {
  return values.map((v) => toDawn(v));
}
