/**
 * `pg-value` -> a bound parameter. Every parameter is sent apart from the SQL text (the extended
 * protocol's Bind message), never spliced into it: a value cannot change what the statement does.
 * Values go in PostgreSQL's text form, `bytea` as raw bytes; the server types each parameter from
 * its place in the statement (cast it, `$1::int8`, where the place does not say).
 */
import type { HashableF64, MacAddressEui48, MacAddressEui64, PgValue } from '../types.ts';
import { arrayLiteral } from './arrays.ts';
import { dateParam, timeParam, timestampParam, timestampTzParam } from './datetime.ts';
import { decodeFloat } from './floats.ts';

/** A parameter this host cannot send: its message is for the guest. */
export class ParamError extends Error {}

export type Param = string | Buffer | null;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Each parameter, or a ParamError naming the first bad one (`$2 (int4): ...`). */
export function toParams(values: readonly PgValue[]): Param[] {
  if (!Array.isArray(values)) throw new ParamError('params must be a list of pg-value');
  return values.map((value, i) => {
    try {
      return toParam(value);
    } catch (err) {
      const tag = typeof value === 'object' && value !== null && typeof value.tag === 'string' ? ` (${value.tag})` : '';
      throw new ParamError(`parameter $${i + 1}${tag}: ${(err as Error).message}`);
    }
  });
}

function toParam(value: PgValue): Param {
  if (typeof value !== 'object' || value === null || typeof value.tag !== 'string') throw new ParamError('not a pg-value');
  const v = value.val as never;
  switch (value.tag) {
    case 'null':
      return null;
    case 'big-int':
    case 'int8':
    case 'big-serial':
    case 'serial8':
      return int(v, 's64');
    case 'int8-array':
      return list(v, (x) => int(x, 's64'));
    case 'bool':
    case 'boolean':
      return bool(v);
    case 'bool-array':
      return list(v, bool);
    case 'double':
    case 'float8':
      return float(v, false);
    case 'float8-array':
      return list(v, (x) => float(x, false));
    case 'real':
    case 'float4':
      return float(v, true);
    case 'float4-array':
      return list(v, (x) => float(x, true));
    case 'integer':
    case 'int':
    case 'int4':
      return int(v, 's32');
    case 'int4-array':
      return list(v, (x) => int(x, 's32'));
    case 'serial':
    case 'serial4':
      return int(v, 'u32');
    case 'small-int':
    case 'int2':
    case 'small-serial':
    case 'serial2':
      return int(v, 's16');
    case 'int2-array':
      return list(v, (x) => int(x, 's16'));
    case 'int2-vector':
      return int2vector(v);
    case 'int2-vector-array':
      return list(v, int2vector);
    case 'numeric':
    case 'decimal':
    case 'money':
      return numeric(v);
    case 'numeric-array':
    case 'money-array':
      return list(v, numeric);
    case 'bytea': {
      const data = bytes(v);
      return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    }
    case 'bytea-array':
      return list(v, (x) => `\\x${Buffer.from(bytes(x)).toString('hex')}`);
    case 'char':
      return fixedChars(v);
    case 'char-array':
      return list(v, fixedChars);
    case 'varchar':
      return limitedChars(v);
    case 'varchar-array':
      return list(v, limitedChars);
    case 'macaddr':
      return mac(v, 6);
    case 'macaddr-array':
      return list(v, (x) => mac(x, 6));
    case 'macaddr8':
      return mac(v, 8);
    case 'macaddr8-array':
      return list(v, (x) => mac(x, 8));
    case 'date':
      return dateParam(v);
    case 'date-array':
      return list(v, dateParam);
    case 'time':
      return timeParam(v);
    case 'time-array':
      return list(v, timeParam);
    case 'timestamp':
      return timestampParam(v);
    case 'timestamp-array':
      return list(v, timestampParam);
    case 'timestamp-tz':
      return timestampTzParam(v);
    case 'timestamp-tz-array':
      return list(v, timestampTzParam);
    case 'pg-lsn':
      return lsn(v);
    case 'pg-lsn-array':
      return list(v, lsn);
    // Text the server parses and checks for its type.
    case 'cidr':
    case 'inet':
    case 'json':
    case 'jsonb':
    case 'name':
    case 'text':
    case 'xml':
    case 'ts-query':
    case 'uuid':
      return string(v);
    case 'cidr-array':
    case 'inet-array':
    case 'json-array':
    case 'jsonb-array':
    case 'name-array':
    case 'text-array':
    case 'xml-array':
    case 'uuid-array':
      return list(v, string);
    default:
      throw new ParamError(`pg-value ${value.tag} is not supported as a parameter by this host (send it as text and cast it in SQL, e.g. $1::text::${value.tag.replace(/-array$/, '[]')})`);
  }
}

/** An array literal; `element` checks and writes each element (typed loosely: the check is its job). */
function list(values: unknown, element: (x: never) => string): string {
  if (!Array.isArray(values) && !ArrayBuffer.isView(values)) throw new ParamError('expected a list');
  return arrayLiteral(Array.from(values as unknown as ArrayLike<never>, (x) => element(x)));
}

const RANGES = {
  s16: [-(2 ** 15), 2 ** 15 - 1],
  s32: [-(2 ** 31), 2 ** 31 - 1],
  u32: [0, 2 ** 32 - 1],
  s64: [-(2n ** 63n), 2n ** 63n - 1n],
  u64: [0n, 2n ** 64n - 1n],
} as const;

function int(value: unknown, type: keyof typeof RANGES): string {
  const [min, max] = RANGES[type];
  const ok = type === 's64' || type === 'u64' ? typeof value === 'bigint' : typeof value === 'number' && Number.isInteger(value);
  if (!ok || (value as number) < min || (value as number) > max) throw new ParamError(`${String(value)} does not fit ${type}`);
  return String(value);
}

function bool(value: unknown): string {
  if (typeof value !== 'boolean') throw new ParamError(`${String(value)} is not a bool`);
  return value ? 't' : 'f';
}

/** Shortest text that reads back as the same float: `-0`, `Infinity` and `NaN` included. */
function float(value: HashableF64, single: boolean): string {
  let n: number;
  try {
    n = decodeFloat(value, single);
  } catch (err) {
    throw new ParamError((err as Error).message);
  }
  if (single) n = Math.fround(n);
  return Object.is(n, -0) ? '-0' : String(n);
}

const NUMERIC = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$|^\s*[+-]?(NaN|Infinity|inf)\s*$/i;

function numeric(value: unknown): string {
  const text = string(value);
  if (!NUMERIC.test(text)) throw new ParamError(`${JSON.stringify(text.slice(0, 40))} is not a decimal number`);
  return text;
}

function string(value: unknown): string {
  if (typeof value !== 'string') throw new ParamError('expected a string');
  if (value.includes('\0')) throw new ParamError('text cannot contain NUL characters');
  return value;
}

function bytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Uint8Array.from(value);
  throw new ParamError('expected a list<u8>');
}

/** The WIT's `(length, bytes)`: the length must be the byte count; the bytes UTF-8. */
function fixedChars(value: [number, Uint8Array]): string {
  if (!Array.isArray(value)) throw new ParamError('expected a (length, bytes) tuple');
  const data = bytes(value[1]);
  if (value[0] !== data.length) throw new ParamError(`length ${value[0]} does not match the ${data.length} bytes given`);
  return decode(data);
}

/** The WIT's `(limit, bytes)`: at most `limit` bytes when a limit is given. */
function limitedChars(value: [number | undefined, Uint8Array]): string {
  if (!Array.isArray(value)) throw new ParamError('expected a (limit, bytes) tuple');
  const data = bytes(value[1]);
  if (value[0] !== undefined && data.length > value[0]) throw new ParamError(`${data.length} bytes exceed the limit of ${value[0]}`);
  return decode(data);
}

function decode(data: Uint8Array): string {
  try {
    return string(utf8.decode(data));
  } catch (err) {
    throw err instanceof ParamError ? err : new ParamError('the bytes are not UTF-8 text');
  }
}

function int2vector(value: unknown): string {
  if (!Array.isArray(value) && !(value instanceof Int16Array)) throw new ParamError('expected a list<s16>');
  return Array.from(value as ArrayLike<number>, (x) => int(x, 's16')).join(' ');
}

function mac(value: MacAddressEui48 | MacAddressEui64, length: 6 | 8): string {
  const octets: unknown = value?.bytes;
  if (!Array.isArray(octets) || octets.length !== length) throw new ParamError(`expected ${length} bytes`);
  return octets
    .map((b) => {
      if (!Number.isInteger(b) || b < 0 || b > 255) throw new ParamError(`${String(b)} is not a u8`);
      return (b as number).toString(16).padStart(2, '0');
    })
    .join(':');
}

/** `XXXXXXXX/XXXXXXXX`, the two 32-bit halves in hex. */
function lsn(value: unknown): string {
  int(value, 'u64');
  const n = value as bigint;
  return `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`;
}
