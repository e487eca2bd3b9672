/**
 * An `Engine` in a worker thread, for fuzzing: every compile answers within a deadline, even
 * one stuck in synchronous Wasm (the worker is terminated and a fresh one started), and an
 * uncaught error or a dying worker is reported as the outcome of the input that caused it.
 */
import { Worker } from 'node:worker_threads';

export interface CompileJob {
  id: number;
  bytes: Uint8Array;
  /** After a successful compile, also instantiate with an empty import object. */
  instantiate: boolean;
}

export interface ThrownValue {
  /** `error` for an Error instance, `value` for anything else that was thrown. */
  kind: 'error' | 'value';
  className: string;
  /** An instance of WasmhostError (checked in the worker, where the class lives). */
  wasmhost: boolean;
  code?: string;
  message: string;
  stack: string;
}

export type CompileOutcome =
  | { stage: 'compile' | 'instantiate'; ok: true }
  | { stage: 'compile' | 'instantiate'; ok: false; error: ThrownValue }
  /** No answer within the deadline. */
  | { stage: 'hang'; ok: false; ms: number }
  /** The worker threw outside any job's promise, or exited. */
  | { stage: 'crash'; ok: false; error: ThrownValue };

const WORKER = new URL('./compile-worker.ts', import.meta.url);

export class IsolatedEngine {
  readonly #deadlineMs: number;
  #worker: Worker | undefined;
  #nextId = 0;
  #pending: { id: number; settle: (outcome: CompileOutcome) => void } | undefined;
  /** The job before the next one: jobs never overlap, even if a caller does not wait for its answer. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: { deadlineMs: number }) {
    this.#deadlineMs = options.deadlineMs;
  }

  /** Jobs run one at a time, so an outcome (a crash, a hang) belongs to the input that caused it. */
  run(bytes: Uint8Array, options: { instantiate?: boolean } = {}): Promise<CompileOutcome> {
    // A copy: the caller keeps its bytes (the shrinker reuses them).
    const job = this.#queue.then(() => this.#runNow(bytes.slice(), options.instantiate ?? false));
    this.#queue = job;
    return job;
  }

  #runNow(bytes: Uint8Array<ArrayBuffer>, instantiate: boolean): Promise<CompileOutcome> {
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    return new Promise<CompileOutcome>((resolve) => {
      const started = performance.now();
      const timer = setTimeout(() => {
        this.#pending?.settle({ stage: 'hang', ok: false, ms: Math.round(performance.now() - started) });
        this.#drop();
      }, this.#deadlineMs);
      this.#pending = {
        id,
        settle: (outcome) => {
          clearTimeout(timer);
          this.#pending = undefined;
          resolve(outcome);
        },
      };
      worker.postMessage({ id, bytes, instantiate } satisfies CompileJob, [bytes.buffer]);
    });
  }

  async close(): Promise<void> {
    // A run fast-check abandoned may still be out: end it, and its deadline timer with it.
    this.#pending?.settle({ stage: 'crash', ok: false, error: { kind: 'value', className: 'closed', wasmhost: false, message: 'engine closed', stack: '' } });
    const worker = this.#worker;
    this.#worker = undefined;
    worker?.removeAllListeners();
    await worker?.terminate();
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER);
    worker.on('message', ({ id, outcome }: { id: number; outcome: CompileOutcome }) => {
      if (this.#pending?.id === id) this.#pending.settle(outcome);
    });
    const crashed = (error: ThrownValue) => {
      if (this.#worker === worker) this.#worker = undefined;
      this.#pending?.settle({ stage: 'crash', ok: false, error });
    };
    worker.on('error', (err) =>
      crashed({ kind: 'error', className: err.constructor.name, wasmhost: false, message: err.message, stack: err.stack ?? '' }),
    );
    worker.on('exit', (code) => crashed({ kind: 'value', className: 'exit', wasmhost: false, message: `worker exited with code ${code}`, stack: '' }));
    // An idle worker must not keep the test process alive.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  /** Drops the worker (and the state its jco holds) once the queued jobs are done; the next job starts a fresh one. */
  restart(): Promise<void> {
    const done = this.#queue.then(() => this.#drop());
    this.#queue = done;
    return done;
  }

  #drop(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    worker?.removeAllListeners();
    void worker?.terminate();
  }
}
