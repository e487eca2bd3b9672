import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WasiContext } from '../../src/wasi/context.ts';
import { canonicalIp, formatIp, isUnicast, matchesFamily, parseIp, type IpAddress } from '../../src/wasi/sockets/addresses.ts';
import { addressCheck, parseCidr, socketsImports } from '../../src/wasi/sockets/index.ts';
import { errorOf, host, LOOPBACK4, LOOPBACK6 } from './sockets-helpers.ts';

test('policy: protocol switches gate every use, whatever the address', () => {
  const tcpOnly = addressCheck({ tcp: true });
  assert.equal(tcpOnly('127.0.0.1', 'tcp-connect'), true);
  assert.equal(tcpOnly('127.0.0.1', 'tcp-bind'), true);
  assert.equal(tcpOnly('127.0.0.1', 'udp-bind'), false);
  assert.equal(tcpOnly('127.0.0.1', 'udp-send'), false);
  const nothing = addressCheck({});
  assert.equal(nothing('127.0.0.1', 'tcp-connect'), false);
  assert.equal(addressCheck({ udp: true })('::1', 'udp-connect'), true);
});

test('policy: allowedAddresses matches IPv4 and IPv6 CIDR ranges', () => {
  const check = addressCheck({ tcp: true, allowedAddresses: ['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1/128'] });
  assert.equal(check('10.255.3.4', 'tcp-connect'), true);
  assert.equal(check('11.0.0.1', 'tcp-connect'), false);
  assert.equal(check('192.168.1.7', 'tcp-connect'), true);
  assert.equal(check('192.168.1.8', 'tcp-connect'), false);
  assert.equal(check('fd12:3456::1', 'tcp-connect'), true);
  assert.equal(check('fe80::1', 'tcp-connect'), false);
  assert.equal(check('::1', 'tcp-connect'), true);
  assert.equal(check('::2', 'tcp-connect'), false);
  // An IPv4-mapped IPv6 address is judged as the IPv4 address it reaches.
  assert.equal(check('::ffff:10.1.2.3', 'tcp-connect'), true);
  assert.equal(check('::ffff:127.0.0.1', 'tcp-connect'), false);
  assert.equal(check('not an address', 'tcp-connect'), false);
  // Prefix edges: /0 is everything of a family, /32 one host; host bits in the network are ignored.
  const edges = addressCheck({ udp: true, allowedAddresses: ['0.0.0.0/0', '127.0.0.1/32'] });
  assert.equal(edges('203.0.113.9', 'udp-send'), true);
  assert.equal(edges('2001:db8::1', 'udp-send'), false);
  assert.equal(addressCheck({ tcp: true, allowedAddresses: ['10.1.2.3/8'] })('10.200.0.1', 'tcp-bind'), true);
});

test('policy: undefined allowedAddresses allows any address, an empty list none', () => {
  assert.equal(addressCheck({ tcp: true })('203.0.113.1', 'tcp-connect'), true);
  assert.equal(addressCheck({ tcp: true, allowedAddresses: [] })('127.0.0.1', 'tcp-connect'), false);
  assert.equal(addressCheck({ tcp: true, allowedAddresses: [] })('::1', 'tcp-connect'), false);
});

test('policy: a malformed CIDR fails the instance, naming the entry', () => {
  for (const bad of ['10.0.0.0/33', '::/129', 'example.com', '10.0.0/8', '1.2.3.4/-1', '1.2.3.4/', 'fe80::1%eth0/64']) {
    assert.throws(() => parseCidr(bad), (err: Error) => err instanceof TypeError && err.message.includes(bad), bad);
  }
  assert.throws(() => socketsImports(new WasiContext({ network: { tcp: true, allowedAddresses: ['nope'] } })), TypeError);
  assert.deepEqual(parseCidr(' 10.0.0.0 / 8 '), { network: '10.0.0.0', prefix: 8, family: 'ipv4' });
});

test('addresses: parse and format IPv4 and IPv6 text forms', () => {
  const cases: Array<[string, IpAddress, string]> = [
    ['127.0.0.1', LOOPBACK4, '127.0.0.1'],
    ['::1', LOOPBACK6, '::1'],
    ['::', { tag: 'ipv6', val: [0, 0, 0, 0, 0, 0, 0, 0] }, '::'],
    ['1::', { tag: 'ipv6', val: [1, 0, 0, 0, 0, 0, 0, 0] }, '1::'],
    ['2001:db8:0:0:1:0:0:1', { tag: 'ipv6', val: [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1] }, '2001:db8::1:0:0:1'],
    ['1:2:3:4:5:6:7:8', { tag: 'ipv6', val: [1, 2, 3, 4, 5, 6, 7, 8] }, '1:2:3:4:5:6:7:8'],
    ['::ffff:1.2.3.4', { tag: 'ipv6', val: [0, 0, 0, 0, 0, 0xffff, 0x102, 0x304] }, '::ffff:102:304'],
    ['fe80::1%eth0', { tag: 'ipv6', val: [0xfe80, 0, 0, 0, 0, 0, 0, 1] }, 'fe80::1'],
  ];
  for (const [text, ip, formatted] of cases) {
    assert.deepEqual(parseIp(text), ip, text);
    assert.equal(formatIp(ip), formatted, text);
  }
  assert.equal(parseIp('1.2.3'), undefined);
  assert.equal(parseIp('localhost'), undefined);
  assert.deepEqual(canonicalIp(parseIp('::ffff:10.0.0.1')!), { tag: 'ipv4', val: [10, 0, 0, 1] });
});

test('addresses: unicast and family rules', () => {
  assert.equal(isUnicast({ tag: 'ipv4', val: [224, 0, 0, 1] }), false);
  assert.equal(isUnicast({ tag: 'ipv4', val: [255, 255, 255, 255] }), false);
  assert.equal(isUnicast({ tag: 'ipv6', val: [0xff02, 0, 0, 0, 0, 0, 0, 1] }), false);
  assert.equal(isUnicast(LOOPBACK6), true);
  assert.equal(matchesFamily(LOOPBACK4, 'ipv6'), false);
  assert.equal(matchesFamily(LOOPBACK6, 'ipv6'), true);
  assert.equal(matchesFamily({ tag: 'ipv6', val: [0, 0, 0, 0, 0, 0, 0, 0] }, 'ipv6'), true);
  // IPv4-compatible (deprecated) and IPv4-mapped addresses do not belong on IPv6-only sockets.
  assert.equal(matchesFamily({ tag: 'ipv6', val: [0, 0, 0, 0, 0, 0, 0x7f00, 1] }, 'ipv6'), false);
  assert.equal(matchesFamily({ tag: 'ipv6', val: [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1] }, 'ipv6'), false);
});

test('ip-name-lookup: denied unless the policy turns it on', async (t) => {
  const h = host(t, { tcp: true, udp: true });
  assert.equal(await errorOf(() => h.resolve(h.network, 'localhost')), 'permanent-resolver-failure');
});

test('ip-name-lookup: resolves localhost to loopback addresses', async (t) => {
  const h = host(t, { ipNameLookup: true });
  const stream = h.resolve(h.network, 'localhost');
  const found: IpAddress[] = [];
  for (;;) {
    let next: IpAddress | undefined;
    try {
      next = stream.resolveNextAddress();
    } catch (err) {
      assert.equal(err, 'would-block');
      await stream.subscribe().block();
      continue;
    }
    if (!next) break;
    found.push(next);
  }
  assert.ok(found.length > 0);
  for (const ip of found) assert.ok(formatIp(ip) === '::1' || formatIp(ip).startsWith('127.'), formatIp(ip));
  assert.equal(stream.resolveNextAddress(), undefined);
});

test('ip-name-lookup: IP literals come back at once; malformed names are invalid-argument', async (t) => {
  const h = host(t, { ipNameLookup: true });
  assert.deepEqual(h.resolve(h.network, '127.0.0.1').resolveNextAddress(), LOOPBACK4);
  assert.deepEqual(h.resolve(h.network, '[::1]').resolveNextAddress(), LOOPBACK6);
  // Never an IPv4-mapped address (the WIT's promise).
  assert.deepEqual(h.resolve(h.network, '::ffff:127.0.0.1').resolveNextAddress(), LOOPBACK4);
  for (const bad of ['', 'a b', 'a/b', 'exa%mple', 'host:80', 'user@host', '[127.0.0.1]']) {
    assert.equal(await errorOf(() => h.resolve(h.network, bad)), 'invalid-argument', JSON.stringify(bad));
  }
});
