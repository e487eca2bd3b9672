// The linking fixtures (test/fixtures/chain, test/fixtures/apps) linked BY HAND with the Engine:
// one component's instance exports become the next one's imports, each instance with its own
// WASI context. This proves the components themselves; the host's linker is tested elsewhere.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Engine,
  ExitError,
  MissingImportError,
  TrapError,
  WasiContext,
  createWasiImports,
  type ImportObject,
  type Instance,
} from '../../src/index.ts';
import { fixturePath } from '../fixtures/index.ts';

const engine = new Engine({ cacheDir: false });
const compile = (name: string) => engine.compile(fixturePath(name));

/** An exported interface of an instance, found by its unversioned name, as an import value. */
function exported(instance: Instance, iface: string): Record<string, unknown> {
  const value = instance.exports[iface];
  assert.ok(value, `expected an export ${iface}, got ${Object.keys(instance.exports).join(', ')}`);
  return value as Record<string, unknown>;
}

const wasi = (env: Record<string, string>) => createWasiImports(new WasiContext({ env }));

/** callee <- middle <- entry, each with its own environment. */
async function linkChain(env: { callee: Record<string, string>; middle: Record<string, string> }) {
  const [callee, middle, entry] = await Promise.all(['chain-callee', 'chain-middle', 'chain-entry'].map(compile));
  const calleeInstance = await callee.instantiate(wasi(env.callee));
  const store = exported(calleeInstance, 'test:chain/store@1.0.0');
  const middleInstance = await middle.instantiate({ ...wasi(env.middle), 'test:chain/store': store });
  const entryInstance = await entry.instantiate({
    'test:chain/store': store,
    'test:chain/middle': exported(middleInstance, 'test:chain/middle@1.0.0'),
  });
  return { entry: entryInstance, middle: middleInstance, store };
}

test('chain: a counter made in the callee through the middle is owned by the entry and bumped by borrow', async () => {
  const { entry } = await linkChain({ callee: { NAME: 'c' }, middle: { NAME: 'm' } });
  // make(5): 5 + 100 = 105; bump twice: 107; get: 107; whoami runs through all three.
  assert.equal(await entry.call('go', 5), '107,107,middle:m/callee:c');
  assert.equal(await entry.call('counter-via-open', 5), 10);
  // Counters are separate resources: a second run starts from its own value.
  assert.equal(await entry.call('go', 0), '102,102,middle:m/callee:c');
});

test('chain: each component sees only its own environment', async () => {
  const { entry } = await linkChain({ callee: {}, middle: { NAME: 'm', OTHER: 'x' } });
  assert.equal(await entry.call('go', 1), '103,103,middle:m/callee:<unset>');
});

test('chain: the host can hold a callee counter and lend it to the middle', async () => {
  const { middle, store } = await linkChain({ callee: {}, middle: {} });
  const counter = await (store.open as (start: number) => Promise<object>)(40);
  assert.equal(await middle.call('test:chain/middle#bump', counter, 2), 42);
  assert.equal(await middle.call('test:chain/middle#bump', counter, 0), 42, 'bump 0 times answers the current value');
});

test('chain: the entry does not link without the middle', async () => {
  const [callee, entry] = await Promise.all([compile('chain-callee'), compile('chain-entry')]);
  const calleeInstance = await callee.instantiate(wasi({}));
  await assert.rejects(
    entry.instantiate({ 'test:chain/store': exported(calleeInstance, 'test:chain/store@1.0.0') }),
    (err: MissingImportError) => err instanceof MissingImportError && err.interfaceName === 'test:chain/middle@1.0.0',
  );
});

/** A service linked to a real ticker; its wasi:logging lines are collected as "level context message". */
async function linkService(env: { ticker?: Record<string, string>; service: Record<string, string> }) {
  const [ticker, service] = await Promise.all([compile('apps-ticker'), compile('apps-service')]);
  const tickerInstance = await ticker.instantiate(wasi(env.ticker ?? {}));
  const lines: string[] = [];
  const imports: ImportObject = {
    ...wasi(env.service),
    'test:apps/tick': exported(tickerInstance, 'test:apps/tick@0.1.0'),
    'wasi:logging/logging': { log: (level: string, context: string, message: string) => void lines.push(`${level} ${context} ${message}`) },
  };
  return { instance: await service.instantiate(imports), lines };
}

test('service: ticks TICKS times through the linked ticker (with its own OFFSET), then returns ok', async () => {
  const { instance, lines } = await linkService({
    ticker: { OFFSET: '7' },
    service: { TICKS: '3', INTERVAL_MS: '1', OFFSET: '1000' },
  });
  assert.equal(await instance.run(), 0);
  assert.deepEqual(lines, ['info service start', 'info service tick 1 -> 17', 'info service tick 2 -> 27', 'info service tick 3 -> 37']);
  assert.equal(instance.closedReason, undefined, 'returning from run is not an exit');
});

test('service: EXIT_CODE ends the run through wasi:cli/exit, 0 included', async () => {
  const failing = await linkService({ service: { TICKS: '1', INTERVAL_MS: '1', EXIT_CODE: '3' } });
  assert.equal(await failing.instance.run(), 3);
  assert.deepEqual(failing.lines, ['info service start', 'info service tick 1 -> 10']);

  const ok = await linkService({ service: { TICKS: '0', EXIT_CODE: '0' } });
  assert.equal(await ok.instance.run(), 0);
  assert.ok(ok.instance.closedReason instanceof ExitError);
  assert.deepEqual(ok.lines, ['info service start']);
});

test('service: TRAP_AT makes that tick a real wasm trap', async () => {
  const { instance, lines } = await linkService({ service: { TICKS: '5', INTERVAL_MS: '1', TRAP_AT: '2' } });
  await assert.rejects(instance.run(), TrapError);
  assert.deepEqual(lines, ['info service start', 'info service tick 1 -> 10']);
});

test('service: a malformed variable is logged as an error and exits with code 2', async () => {
  const { instance, lines } = await linkService({ service: { TICKS: 'three' } });
  assert.equal(await instance.run(), 2);
  assert.deepEqual(lines, ['error service bad TICKS: "three"']);
});
