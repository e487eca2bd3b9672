// The preparer's thread: preview1 wrapping (jco's wit-component) and instrumentation run off the
// main thread, and a job that fails or breaks a tool costs only the thread it ran on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { InvalidComponentError, UnsupportedModuleError, WasmhostError } from '../../src/errors.ts';
import { Preparer } from '../../src/engine/preparer.ts';
import { fixturePath } from '../fixtures/index.ts';

/** A component preamble, then a custom section that claims 2 GiB. */
const TRUNCATED = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x07);
const calc = new Uint8Array(readFileSync(fixturePath('calc')));
const job = (bytes: Uint8Array, kind: 'component' | 'core-module' = 'component') => ({ bytes, kind, source: 'input.wasm', instrument: true });

test('after a job that fails, the next job runs on a fresh worker and succeeds', async () => {
  const preparer = new Preparer();
  try {
    const ok = await preparer.prepare(job(calc));
    assert.equal(ok.modules.length, 1);
    assert.ok(ok.modules[0].length > 8);
    assert.equal(preparer.stats.workers, 1);

    await assert.rejects(preparer.prepare(job(TRUNCATED)), (err: Error) => {
      assert.ok(err instanceof InvalidComponentError, String(err));
      assert.match(err.message, /^input\.wasm is not a valid component: section 0 claims 2147483647 bytes, but only 0 follow at byte 14$/);
      return true;
    });
    const again = await preparer.prepare(job(calc));
    assert.deepEqual(again.modules[0], ok.modules[0], 'the same output as before the failure');
    assert.equal(preparer.stats.workers, 2, 'the failed worker was replaced');
    await preparer.prepare(job(calc));
    assert.equal(preparer.stats.workers, 2, 'a good job keeps its worker');
  } finally {
    await preparer.close();
  }
});

test('jobs queued behind a failing one are not hurt by it', async () => {
  const preparer = new Preparer();
  try {
    const results = await Promise.allSettled([preparer.prepare(job(calc)), preparer.prepare(job(TRUNCATED)), preparer.prepare(job(calc))]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  } finally {
    await preparer.close();
  }
});

test('errors cross the thread as the same class, with message and hint', async () => {
  const preparer = new Preparer();
  try {
    await assert.rejects(preparer.prepare(job(new Uint8Array(readFileSync(fixturePath('not-wasi-module'))), 'core-module')), (err: Error) => {
      assert.ok(err instanceof UnsupportedModuleError, String(err));
      assert.match(err.message, /^input\.wasm is a core module that imports /);
      assert.match((err as UnsupportedModuleError).hint ?? '', /wasi_snapshot_preview1/);
      return true;
    });
  } finally {
    await preparer.close();
  }
});

test('a preview1 module comes back wrapped into a component with the adapter (main, adapter, shim, fixup)', async () => {
  const preparer = new Preparer();
  try {
    const out = await preparer.prepare(job(new Uint8Array(readFileSync(fixturePath('hello-p1'))), 'core-module'));
    assert.deepEqual([...out.component.subarray(4, 8)], [0x0d, 0x00, 0x01, 0x00], 'a component preamble');
    assert.equal(out.modules.length, 4);
  } finally {
    await preparer.close();
  }
});

test('a job past its deadline is stopped with an error that says so', async () => {
  const preparer = new Preparer({ deadlineMs: 30 });
  try {
    const big = new Uint8Array(readFileSync(fixturePath('hostile-http')));
    const started = performance.now();
    await assert.rejects(preparer.prepare(job(big)), (err: Error) => {
      assert.ok(err instanceof WasmhostError);
      assert.match(err.message, /preparing took longer than 0\.03 s; stopped/);
      return true;
    });
    assert.ok(performance.now() - started < 2000, 'it did not wait for the job to finish');
  } finally {
    await preparer.close();
  }
});
