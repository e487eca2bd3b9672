/**
 * Lifting and lowering values between the canonical ABI (linear memory and core values) and the
 * JavaScript conventions jco established and wasmhost's host code is written against: numbers,
 * `bigint` for 64-bit integers, `Uint8Array` (and other typed arrays) for lists of numbers,
 * records as objects with camelCase fields, variants as `{tag, val}`, enums as strings, options as
 * value or `undefined`, resources as host objects.
 *
 * Each type is compiled once into closures (no code generation); they take the instance's context.
 */
import type { StringEncoding } from '../component/ast.ts';
import { camel } from '../interface-name.ts';
import { alignTo, alignment, casesOf, discriminantSize, fieldTypes, flatten, payloadAlignment, sizeOf, type CoreType, type ResourceType, type ValType } from '../component/types.ts';
import { alloc, checkRange, trap, view, type Cx } from './cx.ts';
import { guestValue, repOf, type RuntimeResource } from './handles.ts';
import { stringCodec } from './strings.ts';

export type Load = (cx: Cx, ptr: number) => unknown;
export type Store = (cx: Cx, ptr: number, value: unknown) => void;
/** Reads the type's flat values starting at `at`. */
export type LiftFlat = (cx: Cx, vals: ArrayLike<unknown>, at: number) => unknown;
/** Appends the type's flat values. */
export type LowerFlat = (cx: Cx, value: unknown, out: unknown[]) => void;

export interface Codec {
  type: ValType;
  size: number;
  align: number;
  flat: CoreType[];
  load: Load;
  store: Store;
  liftFlat: LiftFlat;
  lowerFlat: LowerFlat;
  /** Variants, options, results and enums: `store` and `lowerFlat` of case `i` with its payload, without the JavaScript value. */
  storeCase?: (cx: Cx, ptr: number, i: number, payload: unknown) => void;
  lowerFlatCase?: (cx: Cx, i: number, payload: unknown, out: unknown[]) => void;
}

/** Codecs built so far, per string encoding (the only option that changes a codec; memory and allocator come from the Cx). */
export class CodecCache {
  readonly #byEncoding = new Map<StringEncoding, Map<ValType, Codec>>();

  codec(t: ValType, encoding: StringEncoding): Codec {
    let cache = this.#byEncoding.get(encoding);
    if (!cache) this.#byEncoding.set(encoding, (cache = new Map()));
    return codec(t, encoding, cache);
  }
}

function codec(t: ValType, encoding: StringEncoding, cache: Map<ValType, Codec>): Codec {
  const hit = cache.get(t);
  if (hit) return hit;
  // Registered before the parts are built: recursive lookups of the same type object reuse it.
  const c = { type: t, size: sizeOf(t), align: alignment(t), flat: flatten(t) } as Codec;
  cache.set(t, c);
  Object.assign(c, build(t, c, (u) => codec(u, encoding, cache), encoding));
  return c;
}

type Parts = Pick<Codec, 'load' | 'store' | 'liftFlat' | 'lowerFlat' | 'storeCase' | 'lowerFlatCase'>;

function build(t: ValType, self: Codec, sub: (t: ValType) => Codec, encoding: StringEncoding): Parts {
  switch (t.kind) {
    case 'bool':
      return prim((dv, p) => dv.getUint8(p) !== 0, (dv, p, v) => dv.setUint8(p, v ? 1 : 0), (v) => (v as number) !== 0, (v) => (v ? 1 : 0));
    case 'u8':
      return prim((dv, p) => dv.getUint8(p), (dv, p, v) => dv.setUint8(p, v as number), (v) => (v as number) & 0xff, (v) => int(v) & 0xff);
    case 's8':
      return prim((dv, p) => dv.getInt8(p), (dv, p, v) => dv.setInt8(p, v as number), (v) => ((v as number) << 24) >> 24, (v) => (int(v) << 24) >> 24);
    case 'u16':
      return prim((dv, p) => dv.getUint16(p, true), (dv, p, v) => dv.setUint16(p, v as number, true), (v) => (v as number) & 0xffff, (v) => int(v) & 0xffff);
    case 's16':
      return prim((dv, p) => dv.getInt16(p, true), (dv, p, v) => dv.setInt16(p, v as number, true), (v) => ((v as number) << 16) >> 16, (v) => (int(v) << 16) >> 16);
    case 'u32':
      return prim((dv, p) => dv.getUint32(p, true), (dv, p, v) => dv.setUint32(p, v as number, true), (v) => (v as number) >>> 0, int);
    case 's32':
      return prim((dv, p) => dv.getInt32(p, true), (dv, p, v) => dv.setInt32(p, v as number, true), (v) => (v as number) | 0, int);
    case 'u64':
      return prim((dv, p) => dv.getBigUint64(p, true), (dv, p, v) => dv.setBigUint64(p, BigInt(v as bigint), true), (v) => BigInt.asUintN(64, v as bigint), big);
    case 's64':
      return prim((dv, p) => dv.getBigInt64(p, true), (dv, p, v) => dv.setBigInt64(p, BigInt(v as bigint), true), (v) => BigInt.asIntN(64, v as bigint), big);
    case 'f32':
      return prim((dv, p) => dv.getFloat32(p, true), (dv, p, v) => dv.setFloat32(p, num(v), true), (v) => v, num);
    case 'f64':
      return prim((dv, p) => dv.getFloat64(p, true), (dv, p, v) => dv.setFloat64(p, num(v), true), (v) => v, num);
    case 'char':
      return prim((dv, p) => char(dv.getUint32(p, true)), (dv, p, v) => dv.setUint32(p, codePoint(v), true), (v) => char((v as number) >>> 0), codePoint);
    case 'string': {
      const { load, store } = stringCodec(encoding);
      return pointerAndLength(load, store);
    }
    case 'list':
      return listParts(sub(t.elem));
    case 'record':
    case 'tuple':
      return recordParts(t, fieldTypes(t).map(sub));
    case 'flags':
      return flagsParts(t.names, self.size);
    case 'variant':
    case 'option':
    case 'result':
    case 'enum':
      return variantParts(t, self, casesOf(t).map((c) => (c ? sub(c) : undefined)));
    case 'own':
    case 'borrow':
      return t.resource.host ? hostHandleParts(t.kind, t.resource) : guestHandleParts(t.kind, t.resource);
  }
}

// ToNumber, as the JS API of the component model lowers numbers: a BigInt is refused (TypeError).
const num = (v: unknown) => +(v as number);
const int = (v: unknown) => num(v) | 0;
const big = (v: unknown) => BigInt.asIntN(64, BigInt(v as bigint));

function prim(
  load: (dv: DataView, p: number) => unknown,
  store: (dv: DataView, p: number, v: unknown) => void,
  lift: (v: unknown) => unknown,
  lower: (v: unknown) => unknown,
): Parts {
  return {
    load: (cx, p) => load(view(cx), p),
    store: (cx, p, v) => store(view(cx), p, v),
    liftFlat: (_cx, vals, at) => lift(vals[at]),
    lowerFlat: (_cx, v, out) => {
      out.push(lower(v));
    },
  };
}

function char(cp: number): string {
  if (cp >= 0x110000 || (cp >= 0xd800 && cp <= 0xdfff)) trap(`invalid char code point ${cp}`);
  return String.fromCodePoint(cp);
}

function codePoint(v: unknown): number {
  const cp = typeof v === 'string' ? v.codePointAt(0) : undefined;
  const one = cp !== undefined && (v as string).length === (cp > 0xffff ? 2 : 1);
  if (!one || (cp >= 0xd800 && cp <= 0xdfff)) throw new TypeError(`a char must be a one-character string holding a Unicode scalar value, got ${typeof v === 'string' ? JSON.stringify(v) : typeof v}`);
  return cp;
}

/** Strings and lists: a pointer and a length, as two flat values or two u32 in memory. */
function pointerAndLength(load: (cx: Cx, ptr: number, len: number) => unknown, store: (cx: Cx, v: unknown) => [number, number]): Parts {
  return {
    load: (cx, p) => {
      const dv = view(cx);
      return load(cx, dv.getUint32(p, true), dv.getUint32(p + 4, true));
    },
    store: (cx, p, v) => {
      const [ptr, len] = store(cx, v);
      const dv = view(cx);
      dv.setUint32(p, ptr, true);
      dv.setUint32(p + 4, len, true);
    },
    liftFlat: (cx, vals, at) => load(cx, (vals[at] as number) >>> 0, (vals[at + 1] as number) >>> 0),
    lowerFlat: (cx, v, out) => {
      out.push(...store(cx, v));
    },
  };
}

const TYPED: Partial<Record<ValType['kind'], new (buffer: ArrayBuffer, offset: number, length: number) => ArrayLike<unknown> & { slice(): ArrayLike<unknown> }>> = {
  u8: Uint8Array, s8: Int8Array, u16: Uint16Array, s16: Int16Array, u32: Uint32Array, s32: Int32Array,
  u64: BigUint64Array, s64: BigInt64Array, f32: Float32Array, f64: Float64Array,
};

function listParts(elem: Codec): Parts {
  const Typed = TYPED[elem.type.kind];
  const load = (cx: Cx, ptr: number, len: number): unknown => {
    if (ptr !== alignTo(ptr, elem.align)) trap(`misaligned list pointer ${ptr}`);
    const bytes = len * elem.size;
    checkRange(cx, ptr, bytes);
    // A copy of its own: `slice` of a view keeps a small one (up to 64 bytes) on the JS heap,
    // where `ArrayBuffer#slice` allocates a backing store each time (8x slower, measured).
    if (Typed) return new Typed(cx.memory!.buffer, ptr, len).slice();
    const out = new Array(len);
    for (let i = 0; i < len; i++) out[i] = elem.load(cx, ptr + i * elem.size);
    return out;
  };
  const store = (cx: Cx, v: unknown): [number, number] => {
    const list = v as ArrayLike<unknown>;
    if (list === null || typeof list !== 'object' || typeof list.length !== 'number') throw new TypeError('expected a list');
    const len = list.length;
    const ptr = alloc(cx, elem.align, len * elem.size);
    if (Typed && ArrayBuffer.isView(list) && list.constructor === Typed) {
      new Uint8Array(cx.memory!.buffer, ptr, len * elem.size).set(new Uint8Array(list.buffer, list.byteOffset, len * elem.size));
    } else {
      for (let i = 0; i < len; i++) elem.store(cx, ptr + i * elem.size, list[i]);
    }
    return [ptr, len];
  };
  return pointerAndLength(load, store);
}

function recordParts(t: Extract<ValType, { kind: 'record' | 'tuple' }>, fields: Codec[]): Parts {
  const keys: (string | number)[] = t.kind === 'record' ? t.fields.map((f) => camel(f.name)) : fields.map((_, i) => i);
  const offsets: number[] = [];
  const flatAt: number[] = [];
  let off = 0;
  let flat = 0;
  for (const f of fields) {
    off = alignTo(off, f.align);
    offsets.push(off);
    off += f.size;
    flatAt.push(flat);
    flat += f.flat.length;
  }
  const make = (): Record<string | number, unknown> => (t.kind === 'record' ? {} : (new Array(fields.length) as unknown as Record<number, unknown>));
  return {
    load: (cx, p) => {
      const v = make();
      for (let i = 0; i < fields.length; i++) v[keys[i]] = fields[i].load(cx, p + offsets[i]);
      return v;
    },
    store: (cx, p, v) => {
      const r = v as Record<string | number, unknown>;
      for (let i = 0; i < fields.length; i++) fields[i].store(cx, p + offsets[i], r[keys[i]]);
    },
    liftFlat: (cx, vals, at) => {
      const v = make();
      for (let i = 0; i < fields.length; i++) v[keys[i]] = fields[i].liftFlat(cx, vals, at + flatAt[i]);
      return v;
    },
    lowerFlat: (cx, v, out) => {
      const r = v as Record<string | number, unknown>;
      for (let i = 0; i < fields.length; i++) fields[i].lowerFlat(cx, r[keys[i]], out);
    },
  };
}

function flagsParts(names: string[], size: number): Parts {
  const keys = names.map(camel);
  const toWords = (v: unknown): number[] => {
    const words = new Array(Math.ceil(names.length / 32)).fill(0);
    const r = (v ?? {}) as Record<string, unknown>;
    keys.forEach((k, i) => {
      if (r[k]) words[i >> 5] |= 1 << (i & 31);
    });
    return words;
  };
  const fromWords = (word: (i: number) => number): Record<string, boolean> => {
    const v: Record<string, boolean> = {};
    keys.forEach((k, i) => (v[k] = ((word(i >> 5) >>> (i & 31)) & 1) === 1));
    return v;
  };
  const readWord = (dv: DataView, p: number, i: number) => (size === 1 ? dv.getUint8(p) : size === 2 ? dv.getUint16(p, true) : dv.getUint32(p + 4 * i, true));
  return {
    load: (cx, p) => {
      const dv = view(cx);
      return fromWords((i) => readWord(dv, p, i));
    },
    store: (cx, p, v) => {
      const dv = view(cx);
      toWords(v).forEach((w, i) => (size === 1 ? dv.setUint8(p, w) : size === 2 ? dv.setUint16(p, w, true) : dv.setUint32(p + 4 * i, w, true)));
    },
    liftFlat: (_cx, vals, at) => fromWords((i) => vals[at + i] as number),
    lowerFlat: (_cx, v, out) => {
      out.push(...toWords(v));
    },
  };
}

/** Variants, enums, options and results: one layout, different JavaScript shapes. */
function variantParts(t: ValType, self: Codec, cases: (Codec | undefined)[]): Parts {
  const names = t.kind === 'variant' ? t.cases.map((c) => c.name) : t.kind === 'enum' ? t.names : t.kind === 'result' ? ['ok', 'err'] : ['none', 'some'];
  const discSize = discriminantSize(cases.length);
  const payloadOffset = alignTo(discSize, payloadAlignment(cases.map((c) => c?.type)));
  const joined = self.flat.slice(1);
  // A case whose flat types are a prefix of the joined ones is read and written in place.
  const exact = cases.map((c) => !c || c.flat.every((ft, i) => ft === joined[i]));

  // JavaScript value <-> case index and payload. As in jco, an option is its value or undefined,
  // unless its payload is an option too (then the outer one is tagged, or `some(none)` is lost);
  // result cases always carry `val`, other variants only when the case has a payload.
  const plainOption = t.kind === 'option' && t.type.kind !== 'option';
  const toJs = (i: number, payload: unknown): unknown => {
    if (t.kind === 'enum') return names[i];
    if (plainOption) return i === 0 ? undefined : payload;
    return cases[i] || t.kind === 'result' ? { tag: names[i], val: payload } : { tag: names[i] };
  };
  // Two steps, not a [case, payload] pair: lowering runs on every host call that returns a result.
  const caseOf = (v: unknown): number => {
    if (plainOption) return v === undefined || v === null ? 0 : 1;
    if (t.kind === 'enum') {
      const i = names.indexOf(v as string);
      if (i === -1) throw new TypeError(`${String(v)} is not one of ${names.join(', ')}`);
      return i;
    }
    const tag = (v as { tag?: string } | null)?.tag;
    const i = names.indexOf(tag as string);
    if (i === -1) throw new TypeError(`variant tag ${String(tag)} is not one of ${names.join(', ')}`);
    return i;
  };
  const payloadOf = (v: unknown, i: number): unknown => (plainOption ? (i === 0 ? undefined : v) : t.kind === 'enum' ? undefined : (v as { val?: unknown }).val);
  const caseAt = (i: number): number => {
    if (i >= cases.length) trap(`invalid discriminant ${i} of ${t.kind}`);
    return i;
  };
  const storeCase = (cx: Cx, p: number, i: number, payload: unknown): void => {
    const dv = view(cx);
    if (discSize === 1) dv.setUint8(p, i);
    else if (discSize === 2) dv.setUint16(p, i, true);
    else dv.setUint32(p, i, true);
    cases[i]?.store(cx, p + payloadOffset, payload);
  };
  const lowerFlatCase = (cx: Cx, i: number, payload: unknown, out: unknown[]): void => {
    out.push(i);
    const c = cases[i];
    let written = 0;
    if (c) {
      const start = out.length;
      c.lowerFlat(cx, payload, out);
      written = out.length - start;
      if (!exact[i]) for (let k = 0; k < written; k++) out[start + k] = coerceTo(out[start + k], c.flat[k], joined[k]);
    }
    for (let k = written; k < joined.length; k++) out.push(joined[k] === 'i64' ? 0n : 0);
  };
  const readDisc = (dv: DataView, p: number) => (discSize === 1 ? dv.getUint8(p) : discSize === 2 ? dv.getUint16(p, true) : dv.getUint32(p, true));
  return {
    load: (cx, p) => {
      const i = caseAt(readDisc(view(cx), p));
      const c = cases[i];
      return toJs(i, c ? c.load(cx, p + payloadOffset) : undefined);
    },
    store: (cx, p, v) => {
      const i = caseOf(v);
      storeCase(cx, p, i, payloadOf(v, i));
    },
    storeCase,
    liftFlat: (cx, vals, at) => {
      const i = caseAt((vals[at] as number) >>> 0);
      const c = cases[i];
      if (!c) return toJs(i, undefined);
      if (exact[i]) return toJs(i, c.liftFlat(cx, vals, at + 1));
      const coerced = c.flat.map((want, k) => coerceFrom(vals[at + 1 + k], joined[k], want));
      return toJs(i, c.liftFlat(cx, coerced, 0));
    },
    lowerFlat: (cx, v, out) => {
      const i = caseOf(v);
      lowerFlatCase(cx, i, payloadOf(v, i), out);
    },
    lowerFlatCase,
  };
}

const f32 = new DataView(new ArrayBuffer(8));

/** A joined flat slot (`have`) read as the case's own type (`want`), per the canonical ABI. */
function coerceFrom(x: unknown, have: CoreType, want: CoreType): unknown {
  if (have === want) return x;
  if (have === 'i32' && want === 'f32') return f32.setInt32(0, x as number, true), f32.getFloat32(0, true);
  if (have === 'i64' && want === 'i32') return Number(BigInt.asIntN(32, x as bigint));
  if (have === 'i64' && want === 'f32') return f32.setInt32(0, Number(BigInt.asIntN(32, x as bigint)), true), f32.getFloat32(0, true);
  if (have === 'i64' && want === 'f64') return f32.setBigInt64(0, x as bigint, true), f32.getFloat64(0, true);
  return x;
}

function coerceTo(x: unknown, have: CoreType, want: CoreType): unknown {
  if (have === want) return x;
  if (have === 'f32' && want === 'i32') return f32.setFloat32(0, x as number, true), f32.getInt32(0, true);
  if (have === 'i32' && want === 'i64') return BigInt((x as number) >>> 0);
  if (have === 'f32' && want === 'i64') return f32.setFloat32(0, x as number, true), BigInt(f32.getUint32(0, true));
  if (have === 'f64' && want === 'i64') return f32.setFloat64(0, x as number, true), f32.getBigInt64(0, true);
  return x;
}

function handleParts(lift: (cx: Cx, h: number) => unknown, lower: (cx: Cx, v: unknown) => number): Parts {
  return {
    load: (cx, p) => lift(cx, view(cx).getUint32(p, true)),
    store: (cx, p, v) => view(cx).setUint32(p, lower(cx, v), true),
    liftFlat: (cx, vals, at) => lift(cx, (vals[at] as number) >>> 0),
    lowerFlat: (cx, v, out) => {
      out.push(lower(cx, v));
    },
  };
}

/**
 * A host resource: its representation is the host's object. An own handle moves it between the
 * host and the guest; a borrow lends it to the call under way, which must drop the handle.
 */
function hostHandleParts(kind: 'own' | 'borrow', type: ResourceType): Parts {
  const slot = type.slot;
  // The value must be an instance of the class the host gives for this resource (as jco checks):
  // a handle stands for one resource type, and the guest may rely on it.
  const checked = (rt: RuntimeResource, v: unknown): unknown => {
    if (v === undefined || v === null) throw new TypeError(`the host returned no ${type.name} where one was expected`);
    let cls = rt.hostClass;
    if (cls === undefined) cls = rt.hostClass = rt.lookupClass?.() ?? null;
    if (cls && !(v instanceof cls)) throw new TypeError(`expected an instance of ${cls.name || type.name} (the class the imports give for ${type.name}), got ${describe(v)}`);
    return v;
  };
  if (kind === 'own') {
    return handleParts(
      (cx, h) => cx.inst.handles.removeOwn(h, cx.rts[slot]),
      (cx, v) => {
        const rt = cx.rts[slot];
        return cx.inst.handles.add(rt, checked(rt, v), true);
      },
    );
  }
  return handleParts(
    (cx, h) => cx.inst.handles.get(h, cx.rts[slot]),
    (cx, v) => {
      const rt = cx.rts[slot];
      const h = cx.inst.handles.add(rt, checked(rt, v), false);
      cx.inst.borrows++;
      return h;
    },
  );
}

function describe(v: unknown): string {
  if (typeof v !== 'object') return typeof v;
  const name = (v as object).constructor?.name;
  return !name || name === 'Object' ? 'a plain object' : `an instance of another class named ${name}`;
}

/**
 * A guest-defined resource: its representation is the defining instance's i32. Outside a
 * component instance it is a handle object (handles.ts); lent to the instance that defines it,
 * a borrow is the representation itself (the spec's `lower_borrow`).
 */
function guestHandleParts(kind: 'own' | 'borrow', type: ResourceType): Parts {
  const slot = type.slot;
  if (kind === 'own') {
    return handleParts(
      (cx, h) => {
        const rt = cx.rts[slot];
        return guestValue(rt, cx.inst.handles.removeOwn(h, rt) as number, 'own');
      },
      (cx, v) => {
        const rt = cx.rts[slot];
        return cx.inst.handles.add(rt, repOf(v, rt, true), true);
      },
    );
  }
  return handleParts(
    (cx, h) => {
      const rt = cx.rts[slot];
      return guestValue(rt, cx.inst.handles.get(h, rt) as number, 'borrow');
    },
    (cx, v) => {
      const rt = cx.rts[slot];
      const rep = repOf(v, rt, false);
      if (rt.impl === cx.inst) return rep;
      const h = cx.inst.handles.add(rt, rep, false);
      cx.inst.borrows++;
      return h;
    },
  );
}
