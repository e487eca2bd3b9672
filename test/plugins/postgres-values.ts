/**
 * Value round trips for wasmcloud:postgres, shared by the plugin's direct tests and the guest
 * tests (where the same values also cross the canonical ABI both ways): each case sends one
 * pg-value as `$1` of `SELECT $1::<type> AS v` and expects the pg-value PostgreSQL answers with.
 */
import { encodeF32, encodeF64, type PgDate, type PgOffset, type PgValue } from '../../src/plugins/postgres/index.ts';

export interface ValueCase {
  name: string;
  /** The SQL type the parameter is cast to. */
  type: string;
  param: PgValue;
  /** What comes back; default the parameter itself. */
  expected?: PgValue;
}

export const bytes = (text: string) => new TextEncoder().encode(text);
const ymd = (y: number, m: number, d: number): PgDate => ({ tag: 'ymd', val: [y, m, d] });
const time = (hour: number, min: number, sec: number, micro: number) => ({ hour, min, sec, micro });
const west = (val: number): PgOffset => ({ tag: 'western-hemisphere-secs', val });
const east = (val: number): PgOffset => ({ tag: 'eastern-hemisphere-secs', val });
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
const awkwardStrings = ['a,b', 'c"d', 'e\\f', '{g}', 'NULL', '', ' spaced ', 'ü✓𝄞', "'; DROP TABLE x; --"];

export const valueCases: ValueCase[] = [
  // integers: every alias comes back as the column's own case
  { name: 'int8 max', type: 'int8', param: { tag: 'int8', val: 9223372036854775807n } },
  { name: 'big-int min', type: 'int8', param: { tag: 'big-int', val: -9223372036854775808n }, expected: { tag: 'int8', val: -9223372036854775808n } },
  { name: 'big-serial past 2^53', type: 'int8', param: { tag: 'big-serial', val: 2n ** 53n + 1n }, expected: { tag: 'int8', val: 2n ** 53n + 1n } },
  { name: 'serial8', type: 'int8', param: { tag: 'serial8', val: 42n }, expected: { tag: 'int8', val: 42n } },
  { name: 'int4 max', type: 'int4', param: { tag: 'int4', val: 2147483647 } },
  { name: 'integer min', type: 'int4', param: { tag: 'integer', val: -2147483648 }, expected: { tag: 'int4', val: -2147483648 } },
  { name: 'int', type: 'int4', param: { tag: 'int', val: 0 }, expected: { tag: 'int4', val: 0 } },
  { name: 'serial (u32) max into int8', type: 'int8', param: { tag: 'serial', val: 4294967295 }, expected: { tag: 'int8', val: 4294967295n } },
  { name: 'serial4', type: 'int4', param: { tag: 'serial4', val: 7 }, expected: { tag: 'int4', val: 7 } },
  { name: 'int2 max', type: 'int2', param: { tag: 'int2', val: 32767 } },
  { name: 'small-int min', type: 'int2', param: { tag: 'small-int', val: -32768 }, expected: { tag: 'int2', val: -32768 } },
  { name: 'small-serial', type: 'int2', param: { tag: 'small-serial', val: 1 }, expected: { tag: 'int2', val: 1 } },
  { name: 'serial2', type: 'int2', param: { tag: 'serial2', val: 2 }, expected: { tag: 'int2', val: 2 } },
  // booleans
  { name: 'bool true', type: 'bool', param: { tag: 'bool', val: true } },
  { name: 'boolean false', type: 'bool', param: { tag: 'boolean', val: false }, expected: { tag: 'bool', val: false } },
  // floats: every bit, both widths
  ...[0.1, -0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 2 ** 53 + 2, Infinity, -Infinity, NaN].map((n) => ({
    name: `float8 ${Object.is(n, -0) ? '-0' : n}`,
    type: 'float8',
    param: { tag: 'float8', val: encodeF64(n) } as PgValue,
  })),
  { name: 'double', type: 'float8', param: { tag: 'double', val: encodeF64(Math.PI) }, expected: { tag: 'float8', val: encodeF64(Math.PI) } },
  ...[Math.fround(0.1), -0, 1.401298464324817e-45, 3.4028234663852886e38, Infinity, NaN].map((n) => ({
    name: `float4 ${Object.is(n, -0) ? '-0' : n}`,
    type: 'float4',
    param: { tag: 'float4', val: encodeF32(n) } as PgValue,
  })),
  { name: 'real', type: 'float4', param: { tag: 'real', val: encodeF32(1.5) }, expected: { tag: 'float4', val: encodeF32(1.5) } },
  // exact decimals
  { name: 'numeric, 40 digits', type: 'numeric', param: { tag: 'numeric', val: '12345678901234567890.12345678901234567890' } },
  { name: 'numeric, tiny negative', type: 'numeric', param: { tag: 'numeric', val: '-0.000000000000000000001' } },
  { name: 'numeric NaN', type: 'numeric', param: { tag: 'numeric', val: 'NaN' } },
  { name: 'decimal with exponent', type: 'numeric', param: { tag: 'decimal', val: '1.5e3' }, expected: { tag: 'numeric', val: '1500' } },
  { name: 'money into numeric', type: 'numeric', param: { tag: 'money', val: '12.34' }, expected: { tag: 'numeric', val: '12.34' } },
  // text
  { name: 'text, unicode', type: 'text', param: { tag: 'text', val: 'héllo wörld ✓ 𝄞' } },
  { name: 'text, empty', type: 'text', param: { tag: 'text', val: '' } },
  { name: 'text, SQL as data', type: 'text', param: { tag: 'text', val: "'; DROP TABLE x; --" } },
  { name: 'varchar', type: 'varchar', param: { tag: 'varchar', val: [undefined, bytes('abc')] } },
  { name: 'varchar within its limit', type: 'varchar(5)', param: { tag: 'varchar', val: [5, bytes('abcde')] }, expected: { tag: 'varchar', val: [undefined, bytes('abcde')] } },
  { name: 'char(5) pads', type: 'char(5)', param: { tag: 'char', val: [3, bytes('abc')] }, expected: { tag: 'char', val: [5, bytes('abc  ')] } },
  { name: 'name', type: 'name', param: { tag: 'name', val: 'pg_class' } },
  { name: 'xml', type: 'xml', param: { tag: 'xml', val: '<a href="x">b &amp; c</a>' } },
  { name: 'ts-query', type: 'tsquery', param: { tag: 'ts-query', val: 'fat & rat' }, expected: { tag: 'ts-query', val: "'fat' & 'rat'" } },
  // bytes
  { name: 'bytea, every byte', type: 'bytea', param: { tag: 'bytea', val: allBytes } },
  { name: 'bytea, empty', type: 'bytea', param: { tag: 'bytea', val: new Uint8Array(0) } },
  // json keeps its text; jsonb is normalized by the server
  { name: 'json, exact text', type: 'json', param: { tag: 'json', val: '{"b": [1, 2.50, "x"],  "a": null}' } },
  { name: 'jsonb', type: 'jsonb', param: { tag: 'jsonb', val: '{"b": [1, 2.50], "a": null}' }, expected: { tag: 'jsonb', val: '{"a": null, "b": [1, 2.50]}' } },
  // uuid
  { name: 'uuid', type: 'uuid', param: { tag: 'uuid', val: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' } },
  { name: 'uuid, upper case in', type: 'uuid', param: { tag: 'uuid', val: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11' }, expected: { tag: 'uuid', val: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' } },
  // dates and times
  { name: 'date, leap day', type: 'date', param: { tag: 'date', val: ymd(2024, 2, 29) } },
  { name: 'date, 1 AD', type: 'date', param: { tag: 'date', val: ymd(1, 1, 1) } },
  { name: 'date, 1 BC (year 0)', type: 'date', param: { tag: 'date', val: ymd(0, 12, 31) } },
  { name: 'date, 4713 BC', type: 'date', param: { tag: 'date', val: ymd(-4712, 1, 1) } },
  { name: 'date, last', type: 'date', param: { tag: 'date', val: ymd(5874897, 12, 31) } },
  { name: 'date +infinity', type: 'date', param: { tag: 'date', val: { tag: 'positive-infinity' } } },
  { name: 'date -infinity', type: 'date', param: { tag: 'date', val: { tag: 'negative-infinity' } } },
  { name: 'time', type: 'time', param: { tag: 'time', val: time(23, 59, 59, 999999) } },
  { name: 'time, midnight', type: 'time', param: { tag: 'time', val: time(0, 0, 0, 0) } },
  { name: 'time 24:00', type: 'time', param: { tag: 'time', val: time(24, 0, 0, 0) } },
  { name: 'timestamp', type: 'timestamp', param: { tag: 'timestamp', val: { date: ymd(2024, 1, 2), time: time(3, 4, 5, 6) } } },
  { name: 'timestamp BC', type: 'timestamp', param: { tag: 'timestamp', val: { date: ymd(-43, 3, 15), time: time(12, 0, 0, 500000) } } },
  {
    name: 'timestamp infinity',
    type: 'timestamp',
    param: { tag: 'timestamp', val: { date: { tag: 'positive-infinity' }, time: time(0, 0, 0, 0) } },
  },
  {
    name: 'timestamp-tz at UTC',
    type: 'timestamptz',
    param: { tag: 'timestamp-tz', val: { timestamp: { date: ymd(2024, 6, 1), time: time(12, 0, 0, 1) }, offset: west(0) } },
  },
  {
    name: 'timestamp-tz east of UTC comes back as the same instant in UTC',
    type: 'timestamptz',
    param: { tag: 'timestamp-tz', val: { timestamp: { date: ymd(2024, 1, 2), time: time(5, 30, 0, 0) }, offset: east(5 * 3600 + 1800) } },
    expected: { tag: 'timestamp-tz', val: { timestamp: { date: ymd(2024, 1, 2), time: time(0, 0, 0, 0) }, offset: west(0) } },
  },
  {
    name: 'timestamp-tz west of UTC across a year end',
    type: 'timestamptz',
    param: { tag: 'timestamp-tz', val: { timestamp: { date: ymd(2024, 12, 31), time: time(22, 0, 0, 0) }, offset: west(4 * 3600) } },
    expected: { tag: 'timestamp-tz', val: { timestamp: { date: ymd(2025, 1, 1), time: time(2, 0, 0, 0) }, offset: west(0) } },
  },
  // networking and internals
  { name: 'inet with mask', type: 'inet', param: { tag: 'inet', val: '192.168.0.1/24' } },
  { name: 'inet v6', type: 'inet', param: { tag: 'inet', val: '2001:db8::1' } },
  { name: 'cidr', type: 'cidr', param: { tag: 'cidr', val: '10.0.0.0/8' } },
  { name: 'macaddr', type: 'macaddr', param: { tag: 'macaddr', val: { bytes: [8, 0, 43, 1, 2, 255] } } },
  { name: 'macaddr8', type: 'macaddr8', param: { tag: 'macaddr8', val: { bytes: [8, 0, 43, 1, 2, 3, 4, 255] } } },
  { name: 'pg-lsn', type: 'pg_lsn', param: { tag: 'pg-lsn', val: 0x16_b374d848n } },
  { name: 'pg-lsn max', type: 'pg_lsn', param: { tag: 'pg-lsn', val: 2n ** 64n - 1n } },
  // arrays
  { name: 'int8-array', type: 'int8[]', param: { tag: 'int8-array', val: BigInt64Array.of(-(2n ** 63n), 0n, 2n ** 63n - 1n) } },
  { name: 'int4-array', type: 'int4[]', param: { tag: 'int4-array', val: Int32Array.of(1, -2, 3) } },
  { name: 'int4-array, empty', type: 'int4[]', param: { tag: 'int4-array', val: new Int32Array(0) } },
  { name: 'int2-array', type: 'int2[]', param: { tag: 'int2-array', val: Int16Array.of(-32768, 32767) } },
  { name: 'int2-vector', type: 'int2vector', param: { tag: 'int2-vector', val: Int16Array.of(1, 2, 3) } },
  { name: 'bool-array', type: 'bool[]', param: { tag: 'bool-array', val: [true, false, true] } },
  { name: 'float8-array', type: 'float8[]', param: { tag: 'float8-array', val: [0.1, -0, NaN, -Infinity].map(encodeF64) } },
  { name: 'float4-array', type: 'float4[]', param: { tag: 'float4-array', val: [Math.fround(0.1), Infinity].map(encodeF32) } },
  { name: 'numeric-array', type: 'numeric[]', param: { tag: 'numeric-array', val: ['1.10', '-99999999999999999999.5', 'NaN'] } },
  { name: 'text-array, awkward elements', type: 'text[]', param: { tag: 'text-array', val: awkwardStrings } },
  { name: 'name-array', type: 'name[]', param: { tag: 'name-array', val: ['a', 'b c'] } },
  { name: 'varchar-array', type: 'varchar[]', param: { tag: 'varchar-array', val: [[undefined, bytes('x,y')], [3, bytes('"z"')]] }, expected: { tag: 'varchar-array', val: [[undefined, bytes('x,y')], [undefined, bytes('"z"')]] } },
  { name: 'char-array', type: 'char(2)[]', param: { tag: 'char-array', val: [[1, bytes('a')], [2, bytes('bc')]] }, expected: { tag: 'char-array', val: [[2, bytes('a ')], [2, bytes('bc')]] } },
  { name: 'bytea-array', type: 'bytea[]', param: { tag: 'bytea-array', val: [Uint8Array.of(0, 92, 34, 255), new Uint8Array(0)] } },
  { name: 'json-array', type: 'json[]', param: { tag: 'json-array', val: ['{"a": "b,c"}', '[1, 2]', 'null'] } },
  { name: 'jsonb-array', type: 'jsonb[]', param: { tag: 'jsonb-array', val: ['{"a":1}'] }, expected: { tag: 'jsonb-array', val: ['{"a": 1}'] } },
  { name: 'uuid-array', type: 'uuid[]', param: { tag: 'uuid-array', val: ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'] } },
  { name: 'date-array', type: 'date[]', param: { tag: 'date-array', val: [ymd(2024, 2, 29), { tag: 'positive-infinity' }, ymd(0, 1, 1)] } },
  { name: 'time-array', type: 'time[]', param: { tag: 'time-array', val: [time(1, 2, 3, 4)] } },
  { name: 'timestamp-array', type: 'timestamp[]', param: { tag: 'timestamp-array', val: [{ date: ymd(2000, 1, 1), time: time(0, 0, 0, 0) }] } },
  {
    name: 'timestamp-tz-array',
    type: 'timestamptz[]',
    param: { tag: 'timestamp-tz-array', val: [{ timestamp: { date: ymd(2000, 1, 1), time: time(1, 0, 0, 0) }, offset: east(3600) }] },
    expected: { tag: 'timestamp-tz-array', val: [{ timestamp: { date: ymd(2000, 1, 1), time: time(0, 0, 0, 0) }, offset: west(0) }] },
  },
  { name: 'inet-array', type: 'inet[]', param: { tag: 'inet-array', val: ['::1', '10.1.2.3'] } },
  { name: 'cidr-array', type: 'cidr[]', param: { tag: 'cidr-array', val: ['192.168.0.0/16'] } },
  { name: 'macaddr-array', type: 'macaddr[]', param: { tag: 'macaddr-array', val: [{ bytes: [1, 2, 3, 4, 5, 6] }] } },
  { name: 'pg-lsn-array', type: 'pg_lsn[]', param: { tag: 'pg-lsn-array', val: BigUint64Array.of(0n, 1n << 40n) } },
  { name: 'xml-array', type: 'xml[]', param: { tag: 'xml-array', val: ['<a/>'] } },
  { name: 'null', type: 'int4', param: { tag: 'null' } },
];

/** `SELECT $1::<type> AS v`. */
export const selectAs = (type: string) => `SELECT $1::${type} AS v`;
