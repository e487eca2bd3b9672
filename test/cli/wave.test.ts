// WAVE for `--invoke`: text parsed, then checked and converted by the export's type (the abi
// fixture's functions cover every kind of value), and results formatted back by their type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertArgs, formatValue, parseInvocation, parseValue, signature } from '../../src/cli/wave.ts';
import { Engine } from '../../src/index.ts';
import type { FuncType, ValType } from '../../src/engine/component/types.ts';
import { UsageError } from '../../src/errors.ts';
import { fixturePath } from '../fixtures/index.ts';

const abi = await new Engine({ cacheDir: false }).compile(fixturePath('abi'));
const fn = (name: string): FuncType => abi.exportedFunction(name) ?? assert.fail(`no export ${name}`);
const convert = (call: string) => {
  const invocation = parseInvocation(call);
  return convertArgs(invocation, fn(invocation.name));
};
const one = (call: string) => convert(call)[0];
const param = (name: string, i = 0): ValType => fn(name).params[i].type;
const usage = (call: string, message: RegExp) => assert.throws(() => convert(call), (err: Error) => err instanceof UsageError && message.test(err.message));

test('invocations parse a name and arguments; bad text is a UsageError naming the position', () => {
  assert.deepEqual(parseInvocation('add(1, 2)').args.map((a) => a.kind), ['number', 'number']);
  assert.equal(parseInvocation('noop').args.length, 0);
  assert.equal(parseInvocation('wasi:cli/run@0.2.3#run()').name, 'wasi:cli/run@0.2.3#run');
  assert.throws(() => parseInvocation('add(1'), UsageError);
  assert.throws(() => parseValue('[1, 2'), /position \d+/);
  assert.throws(() => parseValue('"open'), /unterminated string/);
  assert.throws(() => parseValue('1 2'), /trailing input/);
  assert.deepEqual(parseValue('{a, b-c}'), { kind: 'flags', names: ['a', 'b-c'], at: 0, end: 8 });
  assert.equal(parseValue('%true').kind, 'label');
});

test('scalars: each kind converted, and its range and kind checked', () => {
  assert.equal(one('echo-bool(true)'), true);
  assert.equal(one('echo-u8(255)'), 255);
  assert.equal(one('echo-s8(-128)'), -128);
  assert.equal(one('echo-u32(4294967295)'), 4294967295);
  assert.equal(one('echo-s64(-9223372036854775808)'), -9223372036854775808n);
  assert.equal(one('echo-u64(18446744073709551615)'), 18446744073709551615n);
  assert.equal(one('echo-u64(1)'), 1n, '64-bit integers are bigint');
  assert.equal(one('echo-f64(-inf)'), -Infinity);
  assert.ok(Number.isNaN(one('echo-f32(nan)') as number));
  assert.equal(one('echo-f64(1.5e3)'), 1500);
  assert.equal(one("echo-char('😀')"), '😀');
  assert.equal(one('echo-string("tab\\tquote\\" \\u{1F600}")'), 'tab\tquote" 😀');

  usage('echo-u8(256)', /^argument x of echo-u8: 256 is out of range for u8 \(0 to 255\)$/);
  usage('echo-u32(-1)', /out of range for u32/);
  usage('echo-s64(9223372036854775808)', /out of range for s64/);
  usage('echo-u32(1.5)', /expected an integer \(u32\), got a number \(1\.5\)/);
  usage('echo-bool("yes")', /^argument x of echo-bool: expected a bool \(true or false\), got a string \("yes"\)$/);
  usage('echo-bool(1)', /expected a bool/);
  usage("echo-string('c')", /expected a string/);
  usage('echo-char("ab")', /expected a char/);
});

test('arity is checked against the signature, which the error spells out', () => {
  usage('echo-u8(1, 2)', /^echo-u8 takes 1 argument \(x: u8\), got 2$/);
  usage('echo-u8', /^echo-u8 takes 1 argument \(x: u8\), got 0$/);
  usage('drive(1)', /^drive takes 0 arguments \(\), got 1$/);
  assert.equal(signature(fn('test:abi/api#mixed-case')), '(m: variant {nothing, small(u8), single(f32), double(f64), wide(u64), text(string), pair(tuple<u16, f32>)})');
});

test('compound values follow jco conventions: records, tuples, variants, enums, flags, options, results', () => {
  const sums = param('test:abi/api#echo-sums');
  assert.equal(sums.kind, 'record');
  const pad = `(${Array(16).fill('0').join(', ')})`;
  const value = convert(
    `test:abi/api#echo-sums({pad: ${pad}, m: pair((7, 1.5)), c: blue-ish, few: {read, can-exec}, mid: {}, many: {m31},
      maybe: some(3), maybe-maybe: some(none), res: err(green), unit: ok, ok-only: ok(5), err-only: err("no")})`,
  )[0] as Record<string, unknown>;
  assert.deepEqual(value.pad, Array(16).fill(0n));
  assert.deepEqual(value.m, { tag: 'pair', val: [7, 1.5] });
  assert.equal(value.c, 'blue-ish');
  assert.deepEqual(value.few, { read: true, write: false, canExec: true });
  assert.equal(Object.values(value.mid as object).filter(Boolean).length, 0);
  assert.equal((value.many as Record<string, boolean>).m31, true);
  assert.equal(value.maybe, 3);
  assert.equal(value.maybeText, undefined, 'an option field left out is none');
  assert.deepEqual(value.maybeMaybe, { tag: 'some', val: undefined }, 'an option of an option is tagged');
  assert.deepEqual(value.res, { tag: 'err', val: 'green' });
  assert.deepEqual(value.unit, { tag: 'ok', val: undefined });
  assert.deepEqual(value.okOnly, { tag: 'ok', val: 5n });
  assert.deepEqual(value.errOnly, { tag: 'err', val: 'no' });

  usage(`test:abi/api#echo-color(purple)`, /expected one of red, green, blue-ish, got the label purple/);
  usage(`test:abi/api#echo-few({read, exec})`, /no flag exec/);
  usage(`test:abi/api#mixed-case(small)`, /small takes one value \(u8\)/);
  usage(`test:abi/api#mixed-case(nothing(1))`, /nothing takes no value/);
  usage(`test:abi/api#mixed-case(small(300))`, /out of range for u8/);
  usage(`test:abi/api#echo-sums({pad: ${pad}})`, /missing field m/);
  usage(`test:abi/api#echo-sums({pad: ${pad}, nope: 1})`, /no field nope/);
  usage(`test:abi/api#echo-composite({pad: ${pad}, nested: {where: {x: 1, y: 2, label: "p"}, tags: ["a"], when: (1, 2, 3)}})`, /nested, field when: expected a tuple of 2/);
  usage('test:abi/api#thing-consume(1)', /a resource \(own<thing>\) cannot be written in WAVE/);
});

test('results format back as WAVE by their type', () => {
  const sums = param('test:abi/api#echo-sums');
  const pad = `(${Array(16).fill('0').join(', ')})`;
  const text = `{pad: ${pad}, m: text("a\\"b"), c: green, few: {write}, mid: {n3}, many: {}, maybe: none, maybe-text: some("x"), maybe-maybe: some(some(2)), res: ok("y"), unit: err, ok-only: ok(5), err-only: ok}`;
  const value = convert(`test:abi/api#echo-sums(${text})`)[0];
  assert.equal(formatValue(value, sums), text);
  assert.equal(formatValue(new Uint8Array([1, 2]), { kind: 'list', elem: { kind: 'u8' } }), '[1, 2]');
  assert.equal(formatValue('\n', { kind: 'char' }), "'\\n'");
  assert.equal(formatValue(-0, { kind: 'f64' }), '-0');
  assert.equal(formatValue('true', { kind: 'enum', names: ['true', 'no'] }), '%true');
});
