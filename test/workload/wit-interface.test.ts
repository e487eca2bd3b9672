import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWitInterface, formatWitInterface, parseWitInterface, witInterfaceErrors } from '../../src/workload/wit-interface.ts';
import { UsageError } from '../../src/errors.ts';

test('the string form parses into namespace, package, interfaces and version', () => {
  assert.deepEqual(parseWitInterface('wasi:keyvalue/store,atomics@0.2.0-draft'), {
    namespace: 'wasi',
    package: 'keyvalue',
    interfaces: ['store', 'atomics'],
    version: '0.2.0-draft',
    config: {},
  });
  assert.deepEqual(parseWitInterface('wasmcloud:messaging/consumer@0.2.0').interfaces, ['consumer']);
  assert.equal(parseWitInterface('wasi:logging/logging').version, '', 'no version means any version');
  assert.equal(parseWitInterface('wasi:http/incoming-handler@0.2.3+build.1').version, '0.2.3+build.1');
});

test('formatting is the inverse of parsing', () => {
  for (const text of ['wasi:keyvalue/store,atomics,batch@0.2.0-draft', 'wasi:logging/logging', 'wasi:config/store@0.2.0-rc.1']) {
    assert.equal(formatWitInterface(parseWitInterface(text)), text);
  }
  assert.equal(formatWitInterface({ namespace: 'wasi', package: 'blobstore', interfaces: ['container'], version: '' }), 'wasi:blobstore/container');
});

test('invalid strings throw a UsageError that says what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['', /expected ns:pkg\/iface1,iface2@version/],
    ['wasi:keyvalue', /expected ns:pkg\/iface1,iface2@version/],
    ['wasi/keyvalue', /expected ns:pkg\/iface1,iface2@version/],
    ['wasi:keyvalue/', /interface name such as "store", got ""/],
    ['wasi:keyvalue/store,,atomics', /interface name such as "store", got ""/],
    ['Wasi:keyvalue/store', /WIT namespace such as "wasi", got "Wasi"/],
    ['wasi:Key_Value/store', /WIT package name such as "keyvalue", got "Key_Value"/],
    ['wasi:keyvalue/Store', /interface name such as "store", got "Store"/],
    ['wasi:keyvalue/store@', /expected a version after "@"/],
    ['wasi:keyvalue/store@1.0 beta', /version such as "0.2.0-draft" or none, got "1.0 beta"/],
    ['wasi:keyvalue/store,store@0.2.0', /"store" is listed twice/],
    ['wasi:keyvalue/store/x', /interface name such as "store", got "store\/x"/],
  ];
  for (const [text, why] of cases) {
    assert.throws(() => parseWitInterface(text), (err: unknown) => {
      assert.ok(err instanceof UsageError, `${JSON.stringify(text)} throws a UsageError`);
      assert.match(err.message, why, JSON.stringify(text));
      assert.ok(err.message.startsWith(`${JSON.stringify(text)} is not a host interface`), err.message);
      return true;
    });
  }
});

test('checkWitInterface reports instead of throwing', () => {
  assert.deepEqual(checkWitInterface('wasi:keyvalue'), {
    error: '"wasi:keyvalue" is not a host interface: expected ns:pkg/iface1,iface2@version such as wasi:keyvalue/store,atomics@0.2.0-draft',
  });
  assert.ok('value' in checkWitInterface('wasi:keyvalue/store'));
});

test('object-form interfaces are checked part by part, with the path of each bad part', () => {
  const errors = witInterfaceErrors({ namespace: 'wasi', package: 'kv:', interfaces: ['store', 'Bad', 'store'], version: 'x y' });
  assert.deepEqual(
    errors.map((e) => e.path),
    [['package'], ['version'], ['interfaces', 1], ['interfaces', 2]],
  );
  assert.deepEqual(witInterfaceErrors({ namespace: 'wasi', package: 'keyvalue', interfaces: [], version: '' }), [
    { path: ['interfaces'], message: 'expected at least one interface name' },
  ]);
  assert.deepEqual(witInterfaceErrors({ namespace: 'wasi', package: 'keyvalue', interfaces: ['store'], version: '0.2.0-draft' }), []);
});
