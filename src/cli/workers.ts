/**
 * `--workers <n>` on `serve` and `up`: n processes sharing the listening port (node:cluster: the
 * primary holds the socket and hands connections to the workers in turn), each a full host
 * running the same command line. Guests of one process share its event loop; n processes use n
 * cores.
 *
 * The primary speaks for all of them: it prints the command's first lines once every worker is
 * listening (so the port never answers before a component is ready), prints a failure once,
 * and on SIGINT/SIGTERM asks every worker to stop gracefully. A worker that fails to start, or
 * ends (its workload failed, it crashed), stops the others and the command ends with exit 1.
 *
 * State a plugin keeps in process memory would silently split n ways, so a workload that uses
 * such a backend is refused (see `refuseProcessState`).
 */
import cluster, { type Worker } from 'node:cluster';
import { UsageError } from '../errors.ts';
import type { Workload } from '../workload/types.ts';
import { notice, reportError } from './output.ts';

/** What a worker tells the primary. */
type WorkerMessage =
  | { wasmhost: 'ready'; stdout: string[]; notices: string[] }
  | { wasmhost: 'error'; message: string; hint?: string };

export const isWorker = cluster.isWorker;

/** `--workers <n>`: a whole number, at least 1. */
export function workerCount(value: string | undefined): number {
  if (value === undefined) return 1;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 256) {
    throw new UsageError(`--workers ${value}: expected a whole number from 1 to 256`, { hint: 'one per core is the usual choice (nproc)' });
  }
  return Number(value);
}

/**
 * The command's first lines (stdout) and notes: printed here, or, in a worker, handed to the
 * primary, which prints the first worker's once all are ready.
 */
export function announce(stdout: string[], notices: string[]): void {
  if (isWorker) {
    send({ wasmhost: 'ready', stdout, notices });
    return;
  }
  for (const line of stdout) process.stdout.write(`${line}\n`);
  for (const text of notices) notice(text);
}

let sending: Promise<void> = Promise.resolve();

function send(message: WorkerMessage): void {
  if (!process.send || !process.connected) return;
  const sent = new Promise<void>((resolve) => process.send!(message, undefined, {}, () => resolve()));
  sending = sending.then(() => sent);
}

/** Settles once every message to the primary has gone out (a worker about to exit awaits it). */
export function messagesSent(): Promise<void> {
  return sending;
}

/** A command's failure: printed, or, in a worker, handed to the primary, which prints one for all. */
export function reportFailure(message: string, hint: string | undefined): void {
  if (isWorker && process.connected) send({ wasmhost: 'error', message, hint });
  else reportError(message, hint);
}

/** What a worker does when the primary says stop (or goes away): until it serves, just exit. */
let onStop: () => void = () => process.exit(0);

/**
 * Called first thing in a worker. A Ctrl-C in the terminal sends SIGINT to every process of the
 * group: the primary handles it and tells the workers, so they ignore it themselves.
 */
export function setUpWorker(): void {
  process.on('SIGINT', () => {});
  process.on('message', (m: { wasmhost?: string }) => m?.wasmhost === 'stop' && onStop());
  process.on('disconnect', () => onStop());
}

/**
 * In a worker, instead of waiting for signals: the primary's `stop` (or its going away) stops the
 * host gracefully; so does a SIGTERM sent to this worker alone.
 */
export function untilPrimaryStops(stop: () => Promise<void>, ended?: Promise<number>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const halt = (code: number) => {
      if (stopping) return;
      stopping = true;
      stop().then(
        () => resolve(code),
        () => resolve(1),
      );
    };
    onStop = () => halt(0);
    process.on('SIGTERM', () => halt(0));
    if (!process.connected) halt(0);
    ended?.then((code) => halt(code));
  });
}

/**
 * The primary: forks `n` workers running this same command line, and lives as long as they do.
 * Answers the exit code: 0 after a requested stop, 1 when a worker failed or ended on its own.
 */
export function runWorkers(n: number): Promise<number> {
  return new Promise((resolve) => {
    const workers: Worker[] = [];
    const ready = new Set<Worker>();
    let first: Extract<WorkerMessage, { wasmhost: 'ready' }> | undefined;
    let stopping = false;
    let failed = false;
    let reported = false;

    const stopAll = () => {
      for (const w of workers) if (w.isConnected()) w.send({ wasmhost: 'stop' });
    };
    const fail = (message?: string, hint?: string) => {
      if (message && !reported) {
        reported = true;
        reportError(message, hint);
      }
      failed = true;
      if (!stopping) {
        stopping = true;
        stopAll();
      }
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        notice(`${signal} again: stopping now, without waiting for requests in flight`);
        for (const w of workers) w.process.kill('SIGKILL');
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      stopping = true;
      notice(`${signal}: stopping ${n} workers (waiting for requests in flight; ${signal === 'SIGINT' ? 'Ctrl-C' : signal} again stops at once)`);
      stopAll();
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);

    for (let i = 0; i < n; i++) {
      const worker = cluster.fork({ WASMHOST_WORKER: String(i + 1) });
      workers.push(worker);
      worker.on('message', (m: WorkerMessage) => {
        if (m?.wasmhost === 'error') fail(m.message, m.hint);
        if (m?.wasmhost !== 'ready') return;
        first ??= m;
        ready.add(worker);
        if (ready.size === n && !stopping) {
          for (const line of first.stdout) process.stdout.write(`${line}\n`);
          for (const text of first.notices) notice(text);
          notice(`${n} worker processes (pids ${workers.map((w) => w.process.pid).join(', ')}) share the port`);
        }
      });
      worker.on('exit', (code, signal) => {
        if (!stopping) fail(`worker ${worker.process.pid} ended (${signal ?? `exit code ${code}`})`, 'the other workers were stopped too');
        else if (code !== 0) failed = true;
        if (workers.every((w) => w.isDead())) {
          process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
          resolve(failed ? 1 : 0);
        }
      });
    }
  });
}

/**
 * Refuses `--workers n > 1` for a workload whose state would live in one process's memory: the
 * development backends of key-value and blobstore (without `--data-dir`), and the in-memory
 * messaging broker (always, in `up`).
 */
export function refuseProcessState(n: number, workload: Workload, dataDir: string | undefined): void {
  if (n <= 1) return;
  const uses = (pkg: string) => workload.witWorld.hostInterfaces.some((i) => i.package === pkg && (i.namespace === 'wasi' || i.namespace === 'wasmcloud'));
  const inMemory = [
    ...(!dataDir && uses('keyvalue') ? ['key-value'] : []),
    ...(!dataDir && uses('blobstore') ? ['blobstore'] : []),
    ...(uses('messaging') ? ['messaging'] : []),
  ];
  if (inMemory.length === 0) return;
  throw new UsageError(
    `--workers ${n}: workload ${workload.namespace}/${workload.name} uses ${inMemory.join(', ')}, which up keeps in one process's memory; ${n} processes would each see their own`,
    {
      hint: `keep the state where processes share it: key-value and blobstore on the filesystem (--data-dir), or on NATS or PostgreSQL (wasmhost host${inMemory.includes('messaging') ? ', whose messaging is on NATS' : ''}); or run one worker`,
    },
  );
}
