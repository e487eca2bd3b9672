/**
 * Runs prepare jobs (prepare.ts) on a worker thread (prepare-worker.ts), one at a time, and
 * replaces the worker after any job that failed, crashed or ran past its deadline: whatever a
 * tool did on bad input stays in a thread that no later job uses. The worker is started on the
 * first job and does not keep the process alive while idle.
 */
import { Worker } from 'node:worker_threads';
import * as errors from '../errors.ts';
import type { PrepareJob, PrepareOptions, PrepareReply, Prepared, ThrownError } from './prepare.ts';

/** Long enough for a 12 MB componentize-js component on a slow machine. */
const DEFAULT_DEADLINE_MS = 120_000;

export interface PreparerStats {
  jobs: number;
  /** Workers started: 1 + one per job that failed. */
  workers: number;
}

export class Preparer {
  readonly stats: PreparerStats = { jobs: 0, workers: 0 };
  readonly #deadlineMs: number;
  #worker: Worker | undefined;
  #nextId = 1;
  /** The tail of the queue: jobs run one after another, so one bad input fails only itself. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: { deadlineMs?: number } = {}) {
    this.#deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  }

  prepare(options: PrepareOptions): Promise<Prepared> {
    const run = this.#tail.then(() => this.#run({ ...options, id: this.#nextId++ }));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Stops the worker; a later job starts a new one. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #run(job: PrepareJob): Promise<Prepared> {
    this.stats.jobs++;
    const worker = this.#spawn();
    worker.ref();
    return new Promise<Prepared>((resolve, reject) => {
      const settle = (failed: boolean) => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        if (failed) {
          if (this.#worker === worker) this.#worker = undefined;
          void worker.terminate();
        } else worker.unref();
      };
      const onMessage = (reply: PrepareReply) => {
        if (reply.id !== job.id) return;
        settle(!reply.ok);
        if (reply.ok) resolve(reply);
        else reject(rebuild(reply.error));
      };
      const onError = (err: Error) => {
        settle(true);
        reject(new errors.WasmhostError(`${job.source}: the preparing thread failed: ${err.message || err.name}`, { cause: err }));
      };
      const onExit = (code: number) => {
        settle(true);
        reject(new errors.WasmhostError(`${job.source}: the preparing thread exited (code ${code}) before it answered`));
      };
      const timer = setTimeout(() => {
        settle(true);
        reject(new errors.WasmhostError(`${job.source}: preparing took longer than ${this.#deadlineMs / 1000} s; stopped`));
      }, this.#deadlineMs);
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      worker.postMessage(job);
    });
  }

  #spawn(): Worker {
    if (this.#worker) return this.#worker;
    this.stats.workers++;
    this.#worker = new Worker(new URL(import.meta.url.endsWith('.ts') ? './prepare-worker.ts' : './prepare-worker.js', import.meta.url));
    return this.#worker;
  }
}

/** The process's one preparer: the tools' memory is paid once, whatever the number of engines. */
export const preparer = new Preparer();

/** The error the worker threw, as the same class (the ones preparing can throw), message and hint. */
function rebuild(thrown: ThrownError): Error {
  const classes: Record<string, typeof errors.WasmhostError> = {
    NotWasmError: errors.NotWasmError,
    InvalidComponentError: errors.InvalidComponentError,
    UnsupportedModuleError: errors.UnsupportedModuleError,
    UnsupportedComponentError: errors.UnsupportedComponentError,
    WasmhostError: errors.WasmhostError,
  };
  const Class = classes[thrown.className] ?? errors.WasmhostError;
  const message = Class === errors.WasmhostError && thrown.className !== 'WasmhostError' ? `preparing failed: ${thrown.message}` : thrown.message;
  return new Class(message, { hint: thrown.hint });
}
