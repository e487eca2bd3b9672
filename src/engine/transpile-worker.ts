/**
 * The transpiler's thread: jco runs here, never on the host's main thread. A panic inside jco's
 * Rust code leaves its one shared Wasm instance unusable for the rest of the thread, so the
 * engine drops this thread after any failed job and starts a fresh one (transpiler.ts). It also
 * keeps the seconds a large component takes to transpile and instrument off the event loop.
 */
import { parentPort } from 'node:worker_threads';
import { WasmhostError } from '../errors.ts';
import { runTranspileJob, type TranspileJob, type TranspileReply } from './transpile-job.ts';

parentPort!.on('message', async (job: TranspileJob) => {
  let reply: TranspileReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const result = await runTranspileJob(job);
    transfer = (result.coreModules ?? []).map(([, data]) => data.buffer as ArrayBuffer);
    reply = { id: job.id, ok: true, ...result };
  } catch (err) {
    const error = err instanceof WasmhostError
      ? { className: err.name, message: err.message, hint: err.hint }
      : { className: 'Error', message: err instanceof Error ? err.message : String(err) };
    reply = { id: job.id, ok: false, error };
  }
  parentPort!.postMessage(reply, transfer);
});
