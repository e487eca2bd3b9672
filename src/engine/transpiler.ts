/**
 * Runs transpile jobs on a worker thread (transpile-worker.ts), one at a time, and replaces the
 * worker after any job that failed, crashed or ran past its deadline: whatever jco did on bad
 * input stays in a thread that no later job uses. The worker is started on the first job and
 * does not keep the process alive while idle.
 */
import { Worker } from 'node:worker_threads';
import * as errors from '../errors.ts';
import type { Transpiled } from './transpile.ts';
import type { ThrownError, TranspileJob, TranspileOptions, TranspileReply, TranspileResult } from './transpile-job.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Long enough for a 12 MB componentize-js component on a slow machine (it takes ~5 s here). */
const DEFAULT_DEADLINE_MS = 120_000;

export interface TranspilerStats {
  jobs: number;
  /** Workers started: 1 + one per job that failed. */
  workers: number;
}

export class Transpiler {
  readonly stats: TranspilerStats = { jobs: 0, workers: 0 };
  readonly #deadlineMs: number;
  #worker: Worker | undefined;
  #nextId = 1;
  /** The tail of the queue: jobs run one after another, so one bad input fails only itself. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: { deadlineMs?: number } = {}) {
    this.#deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  }

  async transpile(options: TranspileOptions): Promise<Transpiled> {
    const out = await this.#enqueue({ op: 'transpile', ...options });
    return { wit: out.wit, glue: out.glue ?? '', coreModules: new Map(out.coreModules) };
  }

  /** The component's world as WIT text; rejects with `InvalidComponentError` when it does not decode. */
  async wit(bytes: Uint8Array, source: string): Promise<string> {
    return (await this.#enqueue({ op: 'wit', bytes, source })).wit;
  }

  #enqueue(job: DistributiveOmit<TranspileJob, 'id'>): Promise<TranspileResult> {
    const run = this.#tail.then(() => this.#run({ ...job, id: this.#nextId++ } as TranspileJob));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Stops the worker; a later job starts a new one. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #run(job: TranspileJob): Promise<TranspileResult> {
    this.stats.jobs++;
    const worker = this.#spawn();
    worker.ref();
    return new Promise<TranspileResult>((resolve, reject) => {
      const settle = (failed: boolean) => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        if (failed) {
          if (this.#worker === worker) this.#worker = undefined;
          void worker.terminate();
        } else worker.unref();
      };
      const onMessage = (reply: TranspileReply) => {
        if (reply.id !== job.id) return;
        settle(!reply.ok);
        if (reply.ok) resolve(reply);
        else reject(rebuild(reply.error));
      };
      const onError = (err: Error) => {
        settle(true);
        reject(new errors.WasmhostError(`${job.source}: the transpiler thread failed: ${err.message || err.name}`, { cause: err }));
      };
      const onExit = (code: number) => {
        settle(true);
        reject(new errors.WasmhostError(`${job.source}: the transpiler thread exited (code ${code}) before it answered`));
      };
      const timer = setTimeout(() => {
        settle(true);
        reject(new errors.WasmhostError(`${job.source}: transpiling took longer than ${this.#deadlineMs / 1000} s; stopped`));
      }, this.#deadlineMs);
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      worker.postMessage(job);
    });
  }

  #spawn(): Worker {
    if (this.#worker) return this.#worker;
    this.stats.workers++;
    this.#worker = new Worker(new URL('./transpile-worker.ts', import.meta.url));
    return this.#worker;
  }
}

/** The process's one transpiler: jco's memory is paid once, whatever the number of engines. */
export const transpiler = new Transpiler();

/** The error the worker threw, as the same class (the ones a transpile can throw), message and hint. */
function rebuild(thrown: ThrownError): Error {
  const classes: Record<string, typeof errors.WasmhostError> = {
    NotWasmError: errors.NotWasmError,
    InvalidComponentError: errors.InvalidComponentError,
    UnsupportedModuleError: errors.UnsupportedModuleError,
    WasmhostError: errors.WasmhostError,
  };
  const Class = classes[thrown.className] ?? errors.WasmhostError;
  const message = Class === errors.WasmhostError && thrown.className !== 'WasmhostError' ? `transpiling failed: ${thrown.message}` : thrown.message;
  return new Class(message, { hint: thrown.hint });
}
