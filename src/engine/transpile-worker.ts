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
    const out = await runTranspileJob(job);
    const coreModules = [...out.coreModules].map(([name, data]): [string, Uint8Array] => [name, owned(data)]);
    transfer = coreModules.map(([, data]) => data.buffer as ArrayBuffer);
    reply = { id: job.id, ok: true, glue: out.glue, wit: out.wit, coreModules };
  } catch (err) {
    const error = err instanceof WasmhostError
      ? { className: err.name, message: err.message, hint: err.hint }
      : { className: 'Error', message: err instanceof Error ? err.message : String(err) };
    reply = { id: job.id, ok: false, error };
  }
  parentPort!.postMessage(reply, transfer);
});

/** A copy in a buffer of its own: jco's outputs may sit in Node's untransferable Buffer pool. */
function owned(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}
