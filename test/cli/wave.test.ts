import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInvocation, parseValue, formatValue, coerceArgs } from '../../src/cli/wave.ts';
import { UsageError } from '../../src/errors.ts';

test('WAVE values parse into jco conventions', () => {
  assert.deepEqual(parseValue('[1, -2, 3.5]'), [1, -2, 3.5]);
  assert.equal(parseValue('"tab\\tquote\\" \\u{1F600}"'), 'tab\tquote" 😀');
  assert.equal(parseValue("'x'"), 'x');
  assert.deepEqual(parseValue('{first-name: "a", age: 3}'), { firstName: 'a', age: 3 });
  assert.deepEqual(parseValue('some(1)'), 1);
  assert.equal(parseValue('none'), undefined);
  assert.deepEqual(parseValue('ok("y")'), { tag: 'ok', val: 'y' });
  assert.deepEqual(parseValue('err'), { tag: 'err', val: undefined });
  assert.deepEqual(parseValue('circle(2.5)'), { tag: 'circle', val: 2.5 });
  assert.equal(parseValue('red'), 'red');
  assert.deepEqual(parseValue('(1, "two")'), [1, 'two']);
  assert.equal(parseValue('18446744073709551615'), 18446744073709551615n);
  assert.ok(Number.isNaN(parseValue('nan') as number));
  assert.equal(parseValue('-inf'), -Infinity);
});

test('invocations parse name and arguments; bad text is a UsageError naming the position', () => {
  assert.deepEqual(parseInvocation('add(1, 2)'), { name: 'add', args: [1, 2] });
  assert.deepEqual(parseInvocation('noop'), { name: 'noop', args: [] });
  assert.deepEqual(parseInvocation('wasi:cli/run#run()'), { name: 'wasi:cli/run#run', args: [] });
  assert.throws(() => parseInvocation('add(1'), UsageError);
  assert.throws(() => parseValue('[1, 2'), /position \d+/);
  assert.throws(() => parseValue('"open'), /unterminated string/);
  assert.throws(() => parseValue('1 2'), /trailing input/);
});

test('values format back as WAVE', () => {
  assert.equal(formatValue([1, 'a', true]), '[1, "a", true]');
  assert.equal(formatValue({ tag: 'ok', val: 5n }), 'ok(5)');
  assert.equal(formatValue({ firstName: 'x' }), '{first-name: "x"}');
  assert.equal(formatValue(undefined), 'none');
  assert.equal(formatValue(new Uint8Array([1, 2])), '[1, 2]');
});

test('64-bit parameters become bigint by the export parameter types', () => {
  assert.deepEqual(coerceArgs([1, 2], ['u64', 'u32']), [1n, 2]);
  assert.deepEqual(coerceArgs([1, 2], undefined), [1, 2]);
});
