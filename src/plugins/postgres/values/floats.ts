/**
 * `hashable-f64`: a float as `(mantissa: u64, exponent: s16, sign: s8)` with value
 * `sign * mantissa * 2^exponent`, exactly as Rust's `f64::integer_decode` / `f32::integer_decode`
 * produce it (what a Rust guest and the reference send). Both directions are exact, including
 * subnormals, signed zero, infinities and NaN (which the reference's decoding turns into infinity).
 */
import type { HashableF64 } from '../types.ts';

const f64 = new Float64Array(1);
const f64Bits = new BigUint64Array(f64.buffer);
const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** Exponent that `integer_decode` gives infinities and NaNs (all exponent bits set). */
const F64_SPECIAL_EXPONENT = 2047 - 1075;
const F32_SPECIAL_EXPONENT = 255 - 150;

/** `f64::integer_decode`. */
export function encodeF64(value: number): HashableF64 {
  f64[0] = value;
  const bits = f64Bits[0];
  const sign = bits >> 63n === 0n ? 1 : -1;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  const mantissa = biased === 0 ? fraction << 1n : fraction | 0x10000000000000n;
  return [mantissa, biased - 1075, sign];
}

/** `f32::integer_decode` of the float4 nearest to `value` (mantissa widened to u64). */
export function encodeF32(value: number): HashableF64 {
  f32[0] = value;
  const bits = f32Bits[0];
  const sign = bits >>> 31 === 0 ? 1 : -1;
  const biased = (bits >>> 23) & 0xff;
  const fraction = bits & 0x7fffff;
  const mantissa = biased === 0 ? fraction << 1 : fraction | 0x800000;
  return [BigInt(mantissa), biased - 150, sign];
}

/**
 * The number a `hashable-f64` stands for. `single` says it came from an f32 (`real`, `float4`),
 * whose infinities and NaN have their own exponent. Throws a RangeError on a value no float
 * has (a mantissa of 54 bits or more, a sign other than 1 or -1).
 */
export function decodeFloat(value: HashableF64, single = false): number {
  if (!Array.isArray(value) || value.length !== 3) throw new RangeError('a hashable float must be a (mantissa, exponent, sign) tuple');
  const [mantissa, exponent, sign] = value;
  if (typeof mantissa !== 'bigint' || mantissa < 0n || mantissa >= 1n << 54n) throw new RangeError(`float mantissa ${mantissa} is out of range`);
  if (sign !== 1 && sign !== -1) throw new RangeError(`float sign must be 1 or -1, not ${sign}`);
  if (!Number.isInteger(exponent)) throw new RangeError(`float exponent ${exponent} is not an integer`);
  const special = single ? F32_SPECIAL_EXPONENT : F64_SPECIAL_EXPONENT;
  const implicit = single ? 1n << 23n : 1n << 52n;
  if (exponent === special && mantissa >= implicit) return mantissa === implicit ? sign * Infinity : NaN;
  // Scaled in two steps so that a subnormal's 2^-1075 never underflows on the way (m is even then).
  const m = Number(mantissa);
  const half = Math.trunc(exponent / 2);
  return sign * m * 2 ** half * 2 ** (exponent - half);
}
