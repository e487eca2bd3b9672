/**
 * The wasmcloud:postgres value codecs on their own (no server): hashable floats against Rust's
 * `integer_decode`, array literals, dates across eras, and parameter checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeFloat, encodeF32, encodeF64 } from '../../src/plugins/postgres/index.ts';
import { arrayLiteral, parseArray, ArrayFormatError } from '../../src/plugins/postgres/values/arrays.ts';
import { dateParam, dateResult, timestampTzParam, timestampTzResult } from '../../src/plugins/postgres/values/datetime.ts';
import { ParamError, toParams } from '../../src/plugins/postgres/values/params.ts';
import { byteaResult, columnValue } from '../../src/plugins/postgres/values/results.ts';

test('hashable-f64 is Rust integer_decode: known values', () => {
  // Values from Rust: `f64::integer_decode` / `f32::integer_decode`.
  assert.deepEqual(encodeF64(1), [4503599627370496n, -52, 1]);
  assert.deepEqual(encodeF64(-2.5), [5629499534213120n, -51, -1]);
  assert.deepEqual(encodeF64(0), [0n, -1075, 1]);
  assert.deepEqual(encodeF64(-0), [0n, -1075, -1]);
  assert.deepEqual(encodeF64(5e-324), [2n, -1075, 1]);
  assert.deepEqual(encodeF64(Infinity), [4503599627370496n, 972, 1]);
  assert.deepEqual(encodeF32(1), [8388608n, -23, 1]);
  assert.deepEqual(encodeF32(0.1), [13421773n, -27, 1]);
  assert.deepEqual(encodeF32(-Infinity), [8388608n, 105, -1]);
});

test('hashable-f64 round-trips every bit pattern of f64 and f32 (random sample)', () => {
  const f64 = new Float64Array(randomBytes(8 * 20_000).buffer);
  for (const n of f64) {
    const back = decodeFloat(encodeF64(n));
    assert.ok(Object.is(back, n) || (Number.isNaN(n) && Number.isNaN(back)), `${n} came back as ${back}`);
  }
  const f32 = new Float32Array(randomBytes(4 * 20_000).buffer);
  for (const n of f32) {
    const back = Math.fround(decodeFloat(encodeF32(n), true));
    assert.ok(Object.is(back, n) || (Number.isNaN(n) && Number.isNaN(back)), `${n} came back as ${back}`);
  }
  // An f32 NaN is told apart from the finite f64 2^128-ish value with the same tuple shape.
  assert.ok(Number.isNaN(decodeFloat(encodeF32(NaN), true)));
  assert.equal(decodeFloat([1n << 23n, 105, 1]), 2 ** 128);
});

test('hashable-f64 tuples no float has are refused', () => {
  assert.throws(() => decodeFloat([1n << 54n, 0, 1]), RangeError);
  assert.throws(() => decodeFloat([-1n, 0, 1]), RangeError);
  assert.throws(() => decodeFloat([1n, 0, 2]), RangeError);
  assert.throws(() => decodeFloat([1n, 0.5, 1]), RangeError);
  assert.throws(() => decodeFloat([1 as unknown as bigint, 0, 1]), RangeError);
});

test('array literals: written always quoted, read in every form PostgreSQL prints', () => {
  const awkward = ['a,b', 'c"d', 'e\\f', '{g}', 'NULL', 'null', '', ' spaced ', 'ü'];
  assert.equal(arrayLiteral(['a', null, 'b"c']), '{"a",NULL,"b\\"c"}');
  assert.deepEqual(parseArray(arrayLiteral(awkward)), awkward);
  assert.deepEqual(parseArray(arrayLiteral([null, 'x'])), [null, 'x']);
  assert.deepEqual(parseArray('{}'), []);
  assert.deepEqual(parseArray('{1,2, 3 ,NULL,null}'), ['1', '2', '3', null, null]);
  assert.deepEqual(parseArray('[0:1]={a,b}'), ['a', 'b']);
  assert.deepEqual(parseArray('{"\\\\x00ff",""}'), ['\\x00ff', '']);
  for (const bad of ['{{1,2},{3,4}}', '[1:2][1:1]={{1},{2}}', '1,2', '{"open', '{1,2', '{1}x']) {
    assert.throws(() => parseArray(bad), ArrayFormatError, bad);
  }
});

test('dates: astronomical years in the WIT, BC in PostgreSQL, both ways', () => {
  assert.equal(dateParam({ tag: 'ymd', val: [0, 1, 1] }), '0001-01-01 BC');
  assert.equal(dateParam({ tag: 'ymd', val: [-43, 3, 15] }), '0044-03-15 BC');
  assert.equal(dateParam({ tag: 'ymd', val: [12345, 6, 7] }), '12345-06-07');
  assert.deepEqual(dateResult('0044-03-15 BC'), { tag: 'ymd', val: [-43, 3, 15] });
  assert.deepEqual(dateResult('12345-06-07'), { tag: 'ymd', val: [12345, 6, 7] });
  assert.throws(() => dateParam({ tag: 'ymd', val: [2023, 2, 29] }), /day must be an integer from 1 to 28/);
  assert.throws(() => dateParam({ tag: 'ymd', val: [-4713, 1, 1] }), /year/);
  assert.throws(() => dateResult('02/29/2024'), /DateStyle is not ISO/);
  // Offsets: eastern is ahead of UTC, western behind.
  const local = { date: { tag: 'ymd', val: [2024, 1, 1] }, time: { hour: 0, min: 0, sec: 0, micro: 0 } } as const;
  assert.equal(timestampTzParam({ timestamp: structuredClone(local) as never, offset: { tag: 'western-hemisphere-secs', val: 4 * 3600 } }), '2024-01-01 00:00:00.000000-04:00:00');
  assert.equal(timestampTzParam({ timestamp: structuredClone(local) as never, offset: { tag: 'eastern-hemisphere-secs', val: 3661 } }), '2024-01-01 00:00:00.000000+01:01:01');
  // Across an era: 1 AD 00:30 at +01:00 is 1 BC 23:30 UTC.
  assert.deepEqual(timestampTzResult('0001-01-01 00:30:00+01'), {
    timestamp: { date: { tag: 'ymd', val: [0, 12, 31] }, time: { hour: 23, min: 30, sec: 0, micro: 0 } },
    offset: { tag: 'western-hemisphere-secs', val: 0 },
  });
});

test('bytea in the escape output format is read as well as hex', () => {
  assert.deepEqual(byteaResult('\\x00ff'), Uint8Array.of(0, 255));
  assert.deepEqual(byteaResult('a\\\\b\\000\\377'), Uint8Array.of(97, 92, 98, 0, 255));
  assert.deepEqual(columnValue(17, '\\x'), { tag: 'bytea', val: new Uint8Array(0) });
});

test('parameters: text forms, bytea raw, and a ParamError naming the parameter', () => {
  assert.deepEqual(
    toParams([
      { tag: 'null' },
      { tag: 'int8', val: -1n },
      { tag: 'bool', val: false },
      { tag: 'float8', val: encodeF64(-0) },
      { tag: 'float4', val: encodeF32(0.1) },
      { tag: 'int4-array', val: [1, 2] },
      { tag: 'int2-vector', val: Int16Array.of(1, -2) },
      { tag: 'text-array', val: ['a"b'] },
      { tag: 'macaddr', val: { bytes: [0, 1, 2, 3, 4, 255] } },
      { tag: 'pg-lsn', val: 0x16_b374d848n },
      { tag: 'bytea-array', val: [Uint8Array.of(1, 255)] },
    ]),
    [null, '-1', 'f', '-0', '0.10000000149011612', '{"1","2"}', '1 -2', '{"a\\"b"}', '00:01:02:03:04:ff', '16/B374D848', '{"\\\\x01ff"}'],
  );
  const [raw] = toParams([{ tag: 'bytea', val: Uint8Array.of(0, 1, 2) }]);
  assert.ok(Buffer.isBuffer(raw) && raw.equals(Buffer.of(0, 1, 2)));
  assert.throws(() => toParams([{ tag: 'int4', val: 1 }, { tag: 'serial', val: -1 }]), (err: Error) => err instanceof ParamError && err.message === 'parameter $2 (serial): -1 does not fit u32');
  assert.throws(() => toParams('nope' as never), ParamError);
});
