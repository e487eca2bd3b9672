import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInterfaceName, formatInterfaceName, versionsCompatible, unversioned } from '../../src/engine.ts';

test('interface names parse, format back, and drop their version for jco keys', () => {
  const n = parseInterfaceName('wasi:keyvalue/store@0.2.0-draft');
  assert.deepEqual(n, { namespace: 'wasi', package: 'keyvalue', interface: 'store', version: '0.2.0-draft' });
  assert.equal(formatInterfaceName(n!), 'wasi:keyvalue/store@0.2.0-draft');
  assert.equal(parseInterfaceName('not an interface'), undefined);
  assert.equal(unversioned('wasi:cli/stdout@0.2.3'), 'wasi:cli/stdout');
});

test('host interfaces match guests by semver: same 0.minor, exact pre-release', () => {
  assert.ok(versionsCompatible('0.2.0', '0.2.12'));
  assert.ok(versionsCompatible('0.2.12', '0.2.3'));
  assert.ok(!versionsCompatible('0.2.0', '0.3.0'));
  assert.ok(versionsCompatible('1.0.0', '1.4.2'));
  assert.ok(!versionsCompatible('1.0.0', '2.0.0'));
  assert.ok(versionsCompatible('0.2.0-draft', '0.2.0-draft'));
  assert.ok(!versionsCompatible('0.2.0-draft', '0.2.0-rc.1'));
  assert.ok(versionsCompatible('', '0.2.0'));
});
