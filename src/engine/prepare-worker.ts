/**
 * The preparer's thread: preview1 wrapping (jco's wit-component) and limits instrumentation run
 * here, never on the host's main thread, so the seconds a large component takes stay off the
 * event loop, and a panic inside jco's Rust code (which leaves its one shared Wasm instance
 * unusable) costs only this thread: the engine replaces it after any failed job (preparer.ts).
 */
import { parentPort } from 'node:worker_threads';
import { WasmhostError } from '../errors.ts';
import { prepare, type PrepareJob, type PrepareReply } from './prepare.ts';

parentPort!.on('message', async (job: PrepareJob) => {
  let reply: PrepareReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const result = await prepare(job);
    transfer = [result.component, ...result.modules].map((m) => m.buffer as ArrayBuffer);
    reply = { id: job.id, ok: true, ...result };
  } catch (err) {
    const error = err instanceof WasmhostError
      ? { className: err.name, message: err.message, hint: err.hint }
      : { className: 'Error', message: err instanceof Error ? err.message : String(err) };
    reply = { id: job.id, ok: false, error };
  }
  parentPort!.postMessage(reply, transfer);
});
