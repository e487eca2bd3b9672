// The WASI import object: the eager one of the public API and the lazy one the host uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasiContext, createWasiImports } from '../../src/index.ts';
import { lazyWasiImports } from '../../src/wasi/imports.ts';

test('the lazy import object offers the same interfaces as the eager one, built on first use', () => {
  const eager = createWasiImports(new WasiContext({ env: { A: '1' } }));
  const ctx = new WasiContext({ env: { A: '1' } });
  const lazy = lazyWasiImports(ctx);
  const keys: string[] = [];
  for (const key in lazy) keys.push(key);
  assert.deepEqual(keys.sort(), Object.keys(eager).sort());
  const env = lazy['wasi:cli/environment'] as { getEnvironment: () => [string, string][] };
  assert.deepEqual(env.getEnvironment(), [['A', '1']]);
  assert.equal(lazy['wasi:cli/environment'], env, 'built once per context');
  assert.notEqual(lazyWasiImports(ctx)['wasi:cli/environment'], env, 'and once per import object');
  ctx.dispose();
});

test('an interface assigned to the lazy object replaces WASI\'s, and only on that object', () => {
  const mine = { getEnvironment: () => [['B', '2']] };
  const lazy = lazyWasiImports(new WasiContext());
  lazy['wasi:cli/environment'] = mine;
  assert.equal(lazy['wasi:cli/environment'], mine);
  assert.notEqual(lazyWasiImports(new WasiContext())['wasi:cli/environment'], mine);
  const merged = Object.assign(lazyWasiImports(new WasiContext()), { 'acme:thing/api': { go: () => 1 } });
  assert.equal(typeof (merged['acme:thing/api'] as { go: unknown }).go, 'function');
  assert.equal(typeof (merged['wasi:random/random'] as { getRandomU64: unknown }).getRandomU64, 'function');
});
