// The transpiler thread: jco runs off the main thread, and a job that breaks jco breaks only
// the thread it ran on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { InvalidComponentError, UnsupportedModuleError, WasmhostError } from '../../src/errors.ts';
import { transpileComponent } from '../../src/engine/transpile.ts';
import { Transpiler } from '../../src/engine/transpiler.ts';
import { fixturePath } from '../fixtures/index.ts';

/** A component preamble, then a custom section that claims 2 GiB: jco's Rust code panics on it. */
const PANICS_JCO = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x07);
const calc = new Uint8Array(readFileSync(fixturePath('calc')));
const job = (bytes: Uint8Array, extra: { kind?: 'component' | 'core-module'; checkFraming?: boolean } = {}) => ({
  bytes,
  kind: extra.kind ?? ('component' as const),
  source: 'input.wasm',
  instrument: true,
  checkFraming: extra.checkFraming ?? true,
});

test('a jco panic poisons jco for its whole thread (why the engine transpiles on a worker)', async () => {
  await assert.rejects(transpileComponent(PANICS_JCO, 'panics.wasm', { checkFraming: false }), /wasm trap|unreachable/);
  await assert.rejects(transpileComponent(calc, 'calc.wasm'), InvalidComponentError, 'a valid component fails in this thread now');
});

test('after a job that panics jco, the next job runs on a fresh worker and succeeds', async () => {
  const transpiler = new Transpiler();
  try {
    const ok = await transpiler.transpile(job(calc));
    assert.ok(ok.glue.includes('instantiate'));
    assert.deepEqual([...ok.coreModules.keys()], ['component.core.wasm']);
    assert.equal(transpiler.stats.workers, 1);

    await assert.rejects(transpiler.transpile(job(PANICS_JCO, { checkFraming: false })), (err: Error) => {
      assert.ok(err instanceof InvalidComponentError, String(err));
      assert.match(err.message, /^input\.wasm is not a valid component: /);
      return true;
    });
    const again = await transpiler.transpile(job(calc));
    assert.equal(again.glue, ok.glue, 'the same output as before the panic');
    assert.equal(transpiler.stats.workers, 2, 'the failed worker was replaced');
    await transpiler.transpile(job(calc));
    assert.equal(transpiler.stats.workers, 2, 'a good job keeps its worker');
  } finally {
    await transpiler.close();
  }
});

test('jobs queued behind a panicking one are not hurt by it', async () => {
  const transpiler = new Transpiler();
  try {
    const results = await Promise.allSettled([
      transpiler.transpile(job(calc)),
      transpiler.transpile(job(PANICS_JCO, { checkFraming: false })),
      transpiler.transpile(job(calc)),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  } finally {
    await transpiler.close();
  }
});

test('errors cross the thread as the same class, with message and hint', async () => {
  const transpiler = new Transpiler();
  try {
    await assert.rejects(transpiler.transpile(job(new Uint8Array(readFileSync(fixturePath('not-wasi-module'))), { kind: 'core-module' })), (err: Error) => {
      assert.ok(err instanceof UnsupportedModuleError, String(err));
      assert.match(err.message, /^input\.wasm is a core module that imports /);
      assert.match((err as UnsupportedModuleError).hint ?? '', /wasi_snapshot_preview1/);
      return true;
    });
  } finally {
    await transpiler.close();
  }
});

test('a job past its deadline is stopped with an error that says so', async () => {
  const transpiler = new Transpiler({ deadlineMs: 30 });
  try {
    const big = new Uint8Array(readFileSync(fixturePath('hostile-http')));
    const started = performance.now();
    await assert.rejects(transpiler.transpile(job(big)), (err: Error) => {
      assert.ok(err instanceof WasmhostError);
      assert.match(err.message, /transpiling took longer than 0\.03 s; stopped/);
      return true;
    });
    assert.ok(performance.now() - started < 2000, 'it did not wait for the transpile to finish');
  } finally {
    await transpiler.close();
  }
});

test('wit jobs read a world on the worker, and refuse bytes that do not decode', async () => {
  const transpiler = new Transpiler();
  try {
    assert.match(await transpiler.wit(calc, 'calc.wasm'), /export add: func\(/);
    await assert.rejects(transpiler.wit(PANICS_JCO, 'panics.wasm'), (err: Error) => {
      assert.ok(err instanceof InvalidComponentError, String(err));
      assert.match(err.message, /^panics\.wasm is not a valid component: section 0 at byte 14 claims 2147483647 bytes, but only 0 follow$/);
      return true;
    });
    assert.match(await transpiler.wit(calc, 'calc.wasm'), /export add: func\(/, 'and keep working');
  } finally {
    await transpiler.close();
  }
});
