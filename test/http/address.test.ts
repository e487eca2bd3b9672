// The server's listen address: the forms `--addr` accepts and the ones it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddress } from '../../src/http/server.ts';

test('listen addresses: a port alone, :port, host:port, [ipv6]:port; anything else is refused', () => {
  assert.deepEqual(parseAddress('8000'), { host: '127.0.0.1', port: 8000 });
  assert.deepEqual(parseAddress(':8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseAddress('0.0.0.0:0'), { host: '0.0.0.0', port: 0 });
  assert.deepEqual(parseAddress('[::1]:9000'), { host: '::1', port: 9000 });
  assert.throws(() => parseAddress('localhost'), /invalid address "localhost"/);
  assert.throws(() => parseAddress('x:99999'), /invalid address/);
});
