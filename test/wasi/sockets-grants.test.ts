// The two per-component network grants as WASI enforces them: names a guest may resolve
// (`ipNameLookup` as a list) and the machine's loopback ports it may reach through
// `host.wasmcloud.internal` (`hostLoopbackPorts`), whatever the other switches say.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { HOST_SENTINEL } from '../../src/network-grants.ts';
import { formatIp } from '../../src/wasi/sockets/addresses.ts';
import { connect, errorOf, host, v4 } from './sockets-helpers.ts';

const SENTINEL = HOST_SENTINEL.split('.').map(Number) as [number, number, number, number];

test('ip-name-lookup: a list grants exactly its names; the rest is permanent-resolver-failure', async (t) => {
  const h = host(t, { ipNameLookup: ['localhost', '*.example.com', '10.1.2.3', '::1'] });
  // Granted: answered (a literal at once), or at least not refused by the gate.
  assert.equal(formatIp(h.resolve(h.network, '10.1.2.3').resolveNextAddress()!), '10.1.2.3');
  assert.equal(formatIp(h.resolve(h.network, '0:0::1').resolveNextAddress()!), '::1');
  for (const name of ['localhost', 'LocalHost.', 'api.example.com', 'a.b.example.com']) {
    assert.notEqual(await errorOf(() => h.resolve(h.network, name)), 'permanent-resolver-failure', name);
  }
  // Not granted: the apex of a wildcard, other names, other addresses.
  for (const name of ['example.com', 'evil.com', 'localhost.evil.com', '10.1.2.4', '127.0.0.1', 'xexample.com']) {
    assert.equal(await errorOf(() => h.resolve(h.network, name)), 'permanent-resolver-failure', name);
  }
  const none = host(t, { ipNameLookup: [] });
  assert.equal(await errorOf(() => none.resolve(none.network, '10.1.2.3')), 'permanent-resolver-failure');
  const any = host(t, { ipNameLookup: ['*'] });
  assert.equal(formatIp(any.resolve(any.network, '10.9.9.9').resolveNextAddress()!), '10.9.9.9');
});

test('ip-name-lookup: the reserved zone is answered by the host, without a grant', async (t) => {
  const h = host(t, {});
  assert.deepEqual(h.resolve(h.network, 'host.wasmcloud.internal').resolveNextAddress(), { tag: 'ipv4', val: SENTINEL });
  assert.deepEqual(h.resolve(h.network, 'HOST.wasmcloud.internal.').resolveNextAddress(), { tag: 'ipv4', val: SENTINEL });
  // Other names in the zone name nothing here, and never reach a resolver.
  assert.equal(await errorOf(() => h.resolve(h.network, 'service.wasmcloud.internal')), 'name-unresolvable');
  assert.equal(await errorOf(() => h.resolve(h.network, 'localhost')), 'permanent-resolver-failure');
});

test('host loopback: a granted port reaches the machine\'s loopback; nothing else is opened', async (t) => {
  const server = createServer((s) => s.end('hi'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;

  const granted = host(t, { hostLoopbackPorts: [`${port}/tcp`] });
  const [input] = await connect(granted.tcp('ipv4'), granted.network, v4(port, SENTINEL));
  await input.subscribe().block();
  assert.equal(Buffer.from(await input.read(10n)).toString(), 'hi');
  // The grant is the sentinel's only: the address itself, other ports, other hosts stay shut.
  assert.equal(await errorOf(() => granted.tcp('ipv4').startConnect(granted.network, v4(port))), 'access-denied');
  assert.equal(await errorOf(() => granted.tcp('ipv4').startConnect(granted.network, v4(port + 1, SENTINEL))), 'access-denied');
  assert.equal(await errorOf(() => granted.tcp('ipv4').startConnect(granted.network, v4(80, [10, 0, 0, 1]))), 'access-denied');

  // UDP grants do not open TCP, and no grant means no socket at all.
  const udpOnly = host(t, { hostLoopbackPorts: [`${port}/udp`] });
  assert.equal(await errorOf(() => udpOnly.tcp('ipv4').startConnect(udpOnly.network, v4(port, SENTINEL))), 'access-denied');
  const none = host(t, {});
  assert.equal(await errorOf(() => none.tcp('ipv4')), 'access-denied');
  // With TCP on, the sentinel still needs its grant.
  const tcp = host(t, { tcp: true });
  assert.equal(await errorOf(() => tcp.tcp('ipv4').startConnect(tcp.network, v4(port, SENTINEL))), 'access-denied');
});
