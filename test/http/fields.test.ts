// wasi:http fields as guests see them: case-insensitive names, byte values, forbidden and
// invalid headers refused with the header-error the WIT names, immutability of held headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fields } from '../../src/http/types/fields.ts';
import { OutgoingResponse, OutgoingRequest } from '../../src/http/types/messages.ts';

const b = (s: string) => new TextEncoder().encode(s);
const s = (v: Uint8Array) => new TextDecoder().decode(v);

function thrownTag(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { tag: string }).tag;
  }
  return 'ok';
}

test('names are case-insensitive, values keep their order, entries list every value', () => {
  const f = new Fields();
  f.append('X-Thing', b('1'));
  f.append('x-thing', b('2'));
  f.set('Content-Type', [b('text/plain')]);
  assert.deepEqual(f.get('X-THING').map(s), ['1', '2']);
  assert.equal(f.has('content-type'), true);
  assert.deepEqual(
    f.entries().map(([n, v]) => [n, s(v)]),
    [['x-thing', '1'], ['x-thing', '2'], ['content-type', 'text/plain']],
  );
  f.delete('X-Thing');
  assert.equal(f.has('x-thing'), false);
});

test('forbidden headers are refused on every path', () => {
  for (const name of ['connection', 'Keep-Alive', 'host', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']) {
    assert.equal(thrownTag(() => new Fields().set(name, [b('x')])), 'forbidden', name);
    assert.equal(thrownTag(() => new Fields().append(name, b('x'))), 'forbidden', name);
    assert.equal(thrownTag(() => Fields.fromList([[name, b('x')]])), 'forbidden', name);
  }
});

test('invalid names and values are invalid-syntax', () => {
  assert.equal(thrownTag(() => new Fields().set('bad header', [b('x')])), 'invalid-syntax');
  assert.equal(thrownTag(() => new Fields().set('', [b('x')])), 'invalid-syntax');
  assert.equal(thrownTag(() => new Fields().append('x-ok', b('a\nb'))), 'invalid-syntax');
  assert.equal(thrownTag(() => new Fields().append('x-ok', b('a\rb'))), 'invalid-syntax');
  assert.equal(thrownTag(() => new Fields().append('x-ok', b('tab\tand space ok'))), 'ok');
});

test('headers given to a response or request are immutable through headers(); clone is mutable', () => {
  const h = new Fields();
  h.set('x-a', [b('1')]);
  const response = new OutgoingResponse(h);
  const held = response.headers();
  assert.equal(thrownTag(() => held.set('x-a', [b('2')])), 'immutable');
  assert.equal(thrownTag(() => held.delete('x-a')), 'immutable');
  assert.equal(thrownTag(() => held.append('x-b', b('2'))), 'immutable');
  assert.notEqual(response.headers(), held, 'each call is a fresh handle');
  const copy = held.clone();
  copy.set('x-a', [b('2')]);
  assert.deepEqual(response.headers().get('x-a').map(s), ['1']);
  const request = new OutgoingRequest(new Fields());
  assert.equal(thrownTag(() => request.headers().set('x', [b('1')])), 'immutable');
});

test('incoming fields keep raw header values and are immutable', () => {
  const f = Fields.fromRaw(['Host', 'example.com', 'X-Many', 'a', 'x-many', 'b']);
  assert.deepEqual(f.get('x-many').map(s), ['a', 'b']);
  assert.equal(thrownTag(() => f.set('x-many', [])), 'immutable');
});

test('a response status outside 100-599 is refused', () => {
  const response = new OutgoingResponse(new Fields());
  assert.throws(() => response.setStatusCode(99));
  assert.throws(() => response.setStatusCode(600));
  response.setStatusCode(404);
  assert.equal(response.statusCode(), 404);
});
