// The grammar of allowedIpNameLookups and allowedHostLoopbackPorts entries (the reference's).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loopbackPortCheck, nameLookupCheck, parseLoopbackPort, parseNameGrant } from '../src/network-grants.ts';

test('name grants: *, *.suffix, exact names (punycode, lowercase) and IP literals', () => {
  assert.deepEqual(parseNameGrant('*'), { value: { any: true } });
  assert.deepEqual(parseNameGrant(' *.Example.COM '), { value: { suffix: '.example.com' } });
  assert.deepEqual(parseNameGrant('bücher.example'), { value: { exact: 'xn--bcher-kva.example' } });
  assert.deepEqual(parseNameGrant('0:0::1'), { value: { ip: '[::1]' } });
  assert.deepEqual(parseNameGrant('10.0.0.1'), { value: { ip: '10.0.0.1' } });
  for (const bad of ['', '*foo.com', 'a.*.com', '**.com', 'https://example.com', 'example.com:443', 'example.com/x', 'exa mple.com', '-a.com']) {
    assert.ok('error' in parseNameGrant(bad), bad);
  }
  const may = nameLookupCheck(['*.example.com', 'bücher.example', '::1']);
  assert.equal(may('a.example.com'), true);
  assert.equal(may('example.com'), false);
  assert.equal(may('xn--bcher-kva.example'), true);
  assert.equal(may('BÜCHER.example.'), true);
  assert.equal(may('[::1]'), true);
  assert.equal(may('::2'), false);
  assert.throws(() => nameLookupCheck(['*foo']), /allowedIpNameLookups: "\*foo"/);
});

test('loopback ports: 5432, 5432/tcp, 53/udp; no ranges, wildcards or names', () => {
  assert.deepEqual(parseLoopbackPort('5432'), { value: { port: 5432, protocol: 'tcp' } });
  assert.deepEqual(parseLoopbackPort('5432/TCP'), { value: { port: 5432, protocol: 'tcp' } });
  assert.deepEqual(parseLoopbackPort(' 53/udp '), { value: { port: 53, protocol: 'udp' } });
  for (const [bad, why] of [['http', /not a port/], ['0', /between 1 and 65535/], ['65536', /between 1 and 65535/], ['8000-8010', /range/], ['*', /wildcard/], ['53/sctp', /protocol "sctp"/], ['', /not a port/]] as const) {
    const parsed = parseLoopbackPort(bad);
    assert.ok('error' in parsed && why.test(parsed.error), `${bad}: ${JSON.stringify(parsed)}`);
  }
  const granted = loopbackPortCheck(['5432', '53/udp']);
  assert.equal(granted(5432, 'tcp'), true);
  assert.equal(granted(5432, 'udp'), false);
  assert.equal(granted(53, 'udp'), true);
  assert.throws(() => loopbackPortCheck(['http']), /allowedHostLoopbackPorts: "http"/);
});
