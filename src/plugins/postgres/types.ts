/**
 * The types of `wasmcloud:postgres/types@0.1.1-draft` as jco hands them to the host and takes them
 * back: variants as `{tag, val}`, records as objects, tuples as arrays, s64/u64 as bigint, lists
 * of numbers as typed arrays (`list<u8>` a Uint8Array, `list<s32>` an Int32Array, ...; a plain
 * array is accepted too), `option` as value or `undefined`.
 */

/** `tuple<u64, s16, s8>`: mantissa, exponent and sign as Rust's `integer_decode` gives them. */
export type HashableF64 = [mantissa: bigint, exponent: number, sign: number];
export type Point = [x: HashableF64, y: HashableF64];

export type PgDate = { tag: 'positive-infinity' } | { tag: 'negative-infinity' } | { tag: 'ymd'; val: [year: number, month: number, day: number] };

export interface PgTime {
  hour: number;
  min: number;
  sec: number;
  micro: number;
}

export interface PgTimestamp {
  date: PgDate;
  time: PgTime;
}

export type PgOffset = { tag: 'eastern-hemisphere-secs'; val: number } | { tag: 'western-hemisphere-secs'; val: number };

export interface PgTimestampTz {
  timestamp: PgTimestamp;
  offset: PgOffset;
}

export interface MacAddressEui48 {
  bytes: [number, number, number, number, number, number];
}

export interface MacAddressEui64 {
  bytes: [number, number, number, number, number, number, number, number];
}

type Ints<T extends bigint | number, A> = A | readonly T[];
type Bytes = Uint8Array;

/**
 * `pg-value`. Cases this host does not carry (bit strings, geometry, intervals, time-tz, full-text
 * vectors, hstore, snapshots) are typed loosely: a parameter of one of them is refused by tag.
 */
export type PgValue =
  | { tag: 'null'; val?: undefined }
  | { tag: 'big-int' | 'int8' | 'big-serial' | 'serial8'; val: bigint }
  | { tag: 'int8-array'; val: Ints<bigint, BigInt64Array> }
  | { tag: 'bool' | 'boolean'; val: boolean }
  | { tag: 'bool-array'; val: readonly boolean[] }
  | { tag: 'double' | 'float8' | 'real' | 'float4'; val: HashableF64 }
  | { tag: 'float8-array' | 'float4-array'; val: readonly HashableF64[] }
  | { tag: 'integer' | 'int' | 'int4'; val: number }
  | { tag: 'int4-array'; val: Ints<number, Int32Array> }
  | { tag: 'numeric' | 'decimal' | 'money'; val: string }
  | { tag: 'numeric-array' | 'money-array'; val: readonly string[] }
  | { tag: 'serial' | 'serial4'; val: number }
  | { tag: 'small-int' | 'int2' | 'small-serial' | 'serial2'; val: number }
  | { tag: 'int2-array' | 'int2-vector'; val: Ints<number, Int16Array> }
  | { tag: 'int2-vector-array'; val: readonly Ints<number, Int16Array>[] }
  | { tag: 'bytea'; val: Bytes }
  | { tag: 'bytea-array'; val: readonly Bytes[] }
  | { tag: 'char'; val: [length: number, bytes: Bytes] }
  | { tag: 'char-array'; val: readonly [number, Bytes][] }
  | { tag: 'varchar'; val: [limit: number | undefined, bytes: Bytes] }
  | { tag: 'varchar-array'; val: readonly [number | undefined, Bytes][] }
  | { tag: 'cidr' | 'inet'; val: string }
  | { tag: 'cidr-array' | 'inet-array'; val: readonly string[] }
  | { tag: 'macaddr'; val: MacAddressEui48 }
  | { tag: 'macaddr-array'; val: readonly MacAddressEui48[] }
  | { tag: 'macaddr8'; val: MacAddressEui64 }
  | { tag: 'macaddr8-array'; val: readonly MacAddressEui64[] }
  | { tag: 'date'; val: PgDate }
  | { tag: 'date-array'; val: readonly PgDate[] }
  | { tag: 'time'; val: PgTime }
  | { tag: 'time-array'; val: readonly PgTime[] }
  | { tag: 'timestamp'; val: PgTimestamp }
  | { tag: 'timestamp-array'; val: readonly PgTimestamp[] }
  | { tag: 'timestamp-tz'; val: PgTimestampTz }
  | { tag: 'timestamp-tz-array'; val: readonly PgTimestampTz[] }
  | { tag: 'json' | 'jsonb' | 'name' | 'text' | 'xml' | 'ts-query' | 'uuid'; val: string }
  | { tag: 'json-array' | 'jsonb-array' | 'name-array' | 'text-array' | 'xml-array' | 'uuid-array'; val: readonly string[] }
  | { tag: 'pg-lsn'; val: bigint }
  | { tag: 'pg-lsn-array'; val: Ints<bigint, BigUint64Array> }
  | { tag: UnsupportedTag; val: unknown };

/** Cases of `pg-value` that this host neither sends nor returns. */
export type UnsupportedTag =
  | 'bit'
  | 'bit-array'
  | 'bit-varying'
  | 'varbit'
  | 'varbit-array'
  | 'box'
  | 'box-array'
  | 'circle'
  | 'circle-array'
  | 'line'
  | 'line-array'
  | 'lseg'
  | 'lseg-array'
  | 'path'
  | 'path-array'
  | 'point'
  | 'point-array'
  | 'polygon'
  | 'polygon-array'
  | 'interval'
  | 'interval-array'
  | 'time-tz'
  | 'time-tz-array'
  | 'pg-snapshot'
  | 'txid-snapshot'
  | 'ts-vector'
  | 'hstore';

export interface ResultRowEntry {
  columnName: string;
  value: PgValue;
}

export type ResultRow = ResultRowEntry[];

export type QueryError =
  | { tag: 'invalid-params'; val: string }
  | { tag: 'invalid-query'; val: string }
  | { tag: 'unexpected'; val: string };

export type StatementPrepareError = { tag: 'unexpected'; val: string };

export type PreparedStatementExecError =
  | { tag: 'unknown-prepared-query'; val?: undefined }
  | { tag: 'query-error'; val: QueryError }
  | { tag: 'unexpected'; val: string };
