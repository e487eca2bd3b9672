/**
 * Worker side of `IsolatedEngine`: compiles (and optionally instantiates) what it is sent and
 * answers how that ended. It runs in a worker because jco transpiles synchronously inside its
 * own Wasm: only `worker.terminate()` can stop a compile that never returns.
 */
import { parentPort } from 'node:worker_threads';
import { Engine } from '../../src/engine/engine.ts';
import { WasmhostError } from '../../src/errors.ts';
import type { CompileJob, CompileOutcome, ThrownValue } from './isolated-engine.ts';

const engine = new Engine({ cacheDir: false });

parentPort!.on('message', async (job: CompileJob) => {
  parentPort!.postMessage({ id: job.id, outcome: await run(job) });
});

async function run(job: CompileJob): Promise<CompileOutcome> {
  let compiled;
  try {
    compiled = await engine.compile(job.bytes, 'fuzzed');
  } catch (err) {
    return { stage: 'compile', ok: false, error: describe(err) };
  }
  if (!job.instantiate) return { stage: 'compile', ok: true };
  try {
    await compiled.instantiate({});
    return { stage: 'instantiate', ok: true };
  } catch (err) {
    return { stage: 'instantiate', ok: false, error: describe(err) };
  }
}

/** What was thrown, as plain data (class identity does not survive postMessage). */
function describe(err: unknown): ThrownValue {
  if (!(err instanceof Error)) return { kind: 'value', className: typeof err, wasmhost: false, message: String(err), stack: '' };
  return {
    kind: 'error',
    className: err.constructor.name,
    wasmhost: err instanceof WasmhostError,
    code: err instanceof WasmhostError ? err.code : undefined,
    message: err.message,
    stack: err.stack ?? '',
  };
}
