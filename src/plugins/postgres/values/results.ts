/**
 * A result column -> `pg-value`. The plugin's connections hand every value over as the text
 * PostgreSQL wrote (no parsing by node-postgres), and the column's type OID picks the case: int8
 * stays a bigint, numeric stays its exact digits, floats keep every bit, json its exact text.
 */
import type { PgValue } from '../types.ts';
import { parseArray } from './arrays.ts';
import { DateTimeFormatError, dateResult, timeResult, timestampResult, timestampTzResult } from './datetime.ts';
import { encodeF32, encodeF64 } from './floats.ts';

/**
 * A column this host cannot turn into a pg-value; the message says what to cast it to.
 * `sessionChanged`: the text is not in the form the connection was set up for (a guest changed
 * its DateStyle), so the connection should not serve anyone again.
 */
export class ColumnError extends Error {
  readonly sessionChanged: boolean;
  constructor(message: string, sessionChanged = false) {
    super(message);
    this.sessionChanged = sessionChanged;
  }
}

type Reader = (text: string) => PgValue;

const bigint = (text: string) => BigInt(text);
const bool = (text: string) => text === 't';
const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

function float(text: string): number {
  // PostgreSQL writes NaN, Infinity and -Infinity as such: Number() reads all of them.
  const n = Number(text);
  if (Number.isNaN(n) && text !== 'NaN') throw new ColumnError(`cannot read float ${JSON.stringify(text)}`);
  return n;
}

/** bytea in either output format: hex (`\x0aff`, the default) or escape (`a\\\001`). */
export function byteaResult(text: string): Uint8Array {
  if (text.startsWith('\\x')) return new Uint8Array(Buffer.from(text.slice(2), 'hex'));
  const out: number[] = [];
  for (let i = 0; i < text.length; ) {
    if (text[i] !== '\\') {
      for (const b of Buffer.from(text[i++], 'utf8')) out.push(b);
    } else if (text[i + 1] === '\\') {
      out.push(0x5c);
      i += 2;
    } else {
      out.push(parseInt(text.slice(i + 1, i + 4), 8));
      i += 4;
    }
  }
  return new Uint8Array(out);
}

/** `"char"`: one byte, written as itself or as an octal escape (`\377`); empty for NUL. */
function internalChar(text: string): [number, Uint8Array] {
  const bytes = /^\\[0-7]{3}$/.test(text) ? Uint8Array.of(parseInt(text.slice(1), 8)) : utf8(text);
  return [bytes.length, bytes];
}

function chars(text: string): [number, Uint8Array] {
  const bytes = utf8(text);
  return [bytes.length, bytes];
}

function mac(text: string, length: number): number[] {
  const octets = text.split(':').map((h) => parseInt(h, 16));
  if (octets.length !== length || octets.some((b) => !(b >= 0 && b <= 255))) throw new ColumnError(`cannot read MAC address ${JSON.stringify(text)}`);
  return octets;
}

function lsn(text: string): bigint {
  const [hi, lo] = text.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

const int2vector = (text: string) => Int16Array.from(text === '' ? [] : text.split(' ').map(Number));

/** An array column: every element read by `element`; a NULL element cannot be carried by a WIT list. */
function arrayOf<T>(element: (text: string) => T): (text: string) => T[] {
  return (text) =>
    parseArray(text).map((e) => {
      if (e === null) throw new ColumnError('the array has NULL elements, which a pg-value list cannot carry');
      return element(e);
    });
}

const v = <T extends PgValue['tag']>(tag: T, read: (text: string) => unknown): Reader => (text) => ({ tag, val: read(text) }) as PgValue;
const same = (text: string) => text;

/** Type OID (from pg_type) -> reader. */
const READERS = new Map<number, Reader>([
  [16, v('bool', bool)],
  [1000, v('bool-array', arrayOf(bool))],
  [17, v('bytea', byteaResult)],
  [1001, v('bytea-array', arrayOf(byteaResult))],
  [18, v('char', internalChar)],
  [1002, v('char-array', arrayOf(internalChar))],
  [1042, v('char', chars)], // bpchar: char(n), blank-padded
  [1014, v('char-array', arrayOf(chars))],
  [1043, v('varchar', (t) => [undefined, utf8(t)])],
  [1015, v('varchar-array', arrayOf((t) => [undefined, utf8(t)]))],
  [19, v('name', same)],
  [1003, v('name-array', arrayOf(same))],
  [25, v('text', same)],
  [1009, v('text-array', arrayOf(same))],
  [705, v('text', same)], // unknown: an untyped literal
  [142, v('xml', same)],
  [143, v('xml-array', arrayOf(same))],
  [114, v('json', same)],
  [199, v('json-array', arrayOf(same))],
  [3802, v('jsonb', same)],
  [3807, v('jsonb-array', arrayOf(same))],
  [2950, v('uuid', same)],
  [2951, v('uuid-array', arrayOf(same))],
  [3615, v('ts-query', same)],
  [20, v('int8', bigint)],
  [1016, v('int8-array', (t) => BigInt64Array.from(arrayOf(bigint)(t)))],
  [21, v('int2', Number)],
  [1005, v('int2-array', (t) => Int16Array.from(arrayOf(Number)(t)))],
  [22, v('int2-vector', int2vector)],
  [1006, v('int2-vector-array', arrayOf(int2vector))],
  [23, v('int4', Number)],
  [1007, v('int4-array', (t) => Int32Array.from(arrayOf(Number)(t)))],
  [700, v('float4', (t) => encodeF32(float(t)))],
  [1021, v('float4-array', arrayOf((t) => encodeF32(float(t))))],
  [701, v('float8', (t) => encodeF64(float(t)))],
  [1022, v('float8-array', arrayOf((t) => encodeF64(float(t))))],
  [1700, v('numeric', same)],
  [1231, v('numeric-array', arrayOf(same))],
  [869, v('inet', same)],
  [1041, v('inet-array', arrayOf(same))],
  [650, v('cidr', same)],
  [651, v('cidr-array', arrayOf(same))],
  [829, v('macaddr', (t) => ({ bytes: mac(t, 6) }))],
  [1040, v('macaddr-array', arrayOf((t) => ({ bytes: mac(t, 6) })))],
  [774, v('macaddr8', (t) => ({ bytes: mac(t, 8) }))],
  [775, v('macaddr8-array', arrayOf((t) => ({ bytes: mac(t, 8) })))],
  [1082, v('date', dateResult)],
  [1182, v('date-array', arrayOf(dateResult))],
  [1083, v('time', timeResult)],
  [1183, v('time-array', arrayOf(timeResult))],
  [1114, v('timestamp', timestampResult)],
  [1115, v('timestamp-array', arrayOf(timestampResult))],
  [1184, v('timestamp-tz', timestampTzResult)],
  [1185, v('timestamp-tz-array', arrayOf(timestampTzResult))],
  [3220, v('pg-lsn', lsn)],
  [3221, v('pg-lsn-array', (t) => BigUint64Array.from(arrayOf(lsn)(t)))],
]);

/** What to suggest for a type the WIT has a case for but this host does not read. */
const CAST_HINTS = new Map<number, string>([
  [790, 'numeric'], // money: its text depends on lc_monetary
  [791, 'numeric[]'],
]);

/** Why a column of this type cannot be read, or undefined when it can. */
export function unreadableType(oid: number): string | undefined {
  if (READERS.has(oid)) return undefined;
  return `its type (oid ${oid}) has no pg-value case on this host: cast it in SQL, e.g. ::${CAST_HINTS.get(oid) ?? 'text'}`;
}

/** The pg-value of one column value; NULL is `null` whatever the type. */
export function columnValue(oid: number, text: string | null): PgValue {
  if (text === null) return { tag: 'null' };
  const read = READERS.get(oid);
  if (!read) throw new ColumnError(unreadableType(oid) as string);
  try {
    return read(text);
  } catch (err) {
    if (err instanceof ColumnError) throw err;
    throw new ColumnError((err as Error).message, err instanceof DateTimeFormatError);
  }
}
