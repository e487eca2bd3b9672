// allowedHosts: exact hosts, `*.domain` for subdomains only, optional ports, `*`, and the empty
// list (deny in production, allow in development).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AllowedHosts } from '../../src/http/allowed-hosts.ts';

test('exact host with any port, or only the listed port', () => {
  const a = new AllowedHosts(['api.example.com', 'db.local:5432']);
  assert.equal(a.allows('api.example.com', 443), true);
  assert.equal(a.allows('API.Example.com', 8080), true);
  assert.equal(a.allows('example.com', 443), false);
  assert.equal(a.allows('db.local', 5432), true);
  assert.equal(a.allows('db.local', 5433), false);
});

test('*.domain matches subdomains, never the apex or look-alikes', () => {
  const a = new AllowedHosts(['*.example.com']);
  assert.equal(a.allows('a.example.com', 443), true);
  assert.equal(a.allows('a.b.example.com', 443), true);
  assert.equal(a.allows('example.com', 443), false);
  assert.equal(a.allows('badexample.com', 443), false);
  assert.equal(a.allows('example.com.evil.net', 443), false);
});

test('IP addresses, IPv6 in brackets, and a port on a wildcard', () => {
  const a = new AllowedHosts(['127.0.0.1:9000', '[::1]:8080', '*.svc:80']);
  assert.equal(a.allows('127.0.0.1', 9000), true);
  assert.equal(a.allows('127.0.0.1', 9001), false);
  assert.equal(a.allows('[::1]', 8080), true);
  assert.equal(a.allows('::1', 8080), true);
  assert.equal(a.allows('x.svc', 80), true);
  assert.equal(a.allows('x.svc', 81), false);
});

test('an empty list denies everything, unless development mode allows unlisted hosts', () => {
  assert.equal(new AllowedHosts([]).allows('example.com', 443), false);
  assert.equal(new AllowedHosts([], true).allows('example.com', 443), true);
  assert.equal(new AllowedHosts(['a.com'], true).allows('b.com', 443), false, 'a list is honoured even in development');
  assert.equal(new AllowedHosts(['*']).allows('anything.net', 1), true);
});
