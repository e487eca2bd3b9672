/**
 * `--workers <n>` on `serve`, `up` and `host`: n processes sharing the listening port
 * (node:cluster: the primary holds the socket and hands connections to the workers in turn),
 * each a full host running the same command line. Guests of one process share its event loop;
 * n processes use n cores.
 *
 * The primary speaks for all of them: it prints the command's first lines once every worker is
 * listening (so the port never answers before a component is ready), prints a failure once,
 * and on SIGINT/SIGTERM asks every worker to stop gracefully. A worker that fails to start, or
 * ends (its workload failed, it crashed), stops the others and the command ends with exit 1.
 * For `host`, the primary also asks the workers things (the Host API, forwarded): a request
 * carries an id, and the worker's response the same id.
 *
 * State a plugin keeps in process memory would silently split n ways, so a workload that uses
 * such a backend is refused (see `refuseProcessState`).
 */
import cluster, { type Worker } from 'node:cluster';
import { UsageError } from '../errors.ts';
import type { Workload } from '../index.ts';
import { notice, reportError } from './output.ts';

/** A command's first lines: what it prints on stdout, and its notes on stderr. */
export interface Announcement {
  stdout: string[];
  notices: string[];
}

/** What a worker tells the primary. */
type WorkerMessage =
  | ({ wasmhost: 'ready' } & Announcement)
  | { wasmhost: 'error'; message: string; hint?: string }
  | { wasmhost: 'response'; id: number; value?: unknown; error?: string };

/** What the primary tells a worker. */
type PrimaryMessage = { wasmhost: 'stop' } | { wasmhost: 'request'; id: number; method: string; params: unknown };

/** The primary's line to one worker. */
export interface WorkerChannel {
  /** 1 to n, as the worker's WASMHOST_WORKER says. */
  readonly number: number;
  readonly pid: number;
  /** Asks the worker (see `answerRequests`); rejects with the worker's error, or when it ends. */
  request(method: string, params: unknown): Promise<unknown>;
}

/** What the command's primary adds to `runWorkers` (`host` runs its washlet there). */
export interface PrimaryHooks {
  /**
   * Once every worker is ready, with the first worker's announcement: answers what to print
   * instead. A failure stops the workers, and the command exits 1.
   */
  ready?(workers: readonly WorkerChannel[], first: Announcement): Promise<Announcement>;
  /** Before the workers are told to stop (on a signal or a failure), awaited. */
  stopping?(): Promise<void>;
}

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
  writeLines(stdout);
  for (const text of notices) notice(text);
}

/** One write, so that a reader of the pipe gets the lines together. */
function writeLines(lines: string[]): void {
  if (lines.length > 0) process.stdout.write(lines.map((line) => `${line}\n`).join(''));
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

/**
 * In a worker: answers the primary's requests with `handle` (its value, or its error's message).
 * Values cross as structured clones (`runWorkers` sets advanced serialization), so bytes and
 * bigints arrive as they left.
 */
export function answerRequests(handle: (method: string, params: unknown) => Promise<unknown>): void {
  process.on('message', (m: PrimaryMessage) => {
    if (m?.wasmhost !== 'request') return;
    const { id } = m;
    Promise.resolve()
      .then(() => handle(m.method, m.params))
      .then(
        (value) => send({ wasmhost: 'response', id, value }),
        (err: unknown) => send({ wasmhost: 'response', id, error: err instanceof Error ? err.message : String(err) }),
      );
  });
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
export function runWorkers(n: number, hooks: PrimaryHooks = {}): Promise<number> {
  // Structured clones rather than JSON: a forwarded workload start carries component bytes.
  cluster.setupPrimary({ serialization: 'advanced' });
  return new Promise((resolve) => {
    const workers: Worker[] = [];
    const channels: WorkerChannel[] = [];
    const ready = new Set<Worker>();
    let first: Announcement | undefined;
    let stopping = false;
    let failed = false;
    let reported = false;
    /** The `ready` hook while it runs: `stopping` waits for it, so it never misses what it started. */
    let readying: Promise<unknown> = Promise.resolve();
    let halted: Promise<void> = Promise.resolve();

    const stopAll = () => {
      halted = readying
        .then(() => hooks.stopping?.())
        .catch((err: unknown) => notice(`while stopping: ${err instanceof Error ? err.message : String(err)}`))
        .then(() => {
          for (const w of workers) if (w.isConnected()) w.send({ wasmhost: 'stop' } satisfies PrimaryMessage);
        });
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

    const allReady = async (announced: Announcement) => {
      let shown: Announcement = {
        stdout: announced.stdout,
        notices: [...announced.notices, `${n} worker processes (pids ${workers.map((w) => w.process.pid).join(', ')}) share the port`],
      };
      if (hooks.ready) {
        try {
          shown = await hooks.ready(channels, announced);
        } catch (err) {
          fail(err instanceof Error ? err.message : String(err), (err as { hint?: string }).hint);
          return;
        }
      }
      if (stopping) return;
      writeLines(shown.stdout);
      for (const text of shown.notices) notice(text);
    };

    let nextId = 0;
    for (let i = 0; i < n; i++) {
      const worker = cluster.fork({ WASMHOST_WORKER: String(i + 1) });
      workers.push(worker);
      const pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
      channels.push({
        number: i + 1,
        pid: worker.process.pid!,
        request: (method, params) =>
          new Promise((resolve, reject) => {
            if (!worker.isConnected()) return reject(new Error(`worker ${worker.process.pid} has ended`));
            const id = ++nextId;
            pending.set(id, { resolve, reject });
            worker.send({ wasmhost: 'request', id, method, params } satisfies PrimaryMessage, (err) => {
              if (err && pending.delete(id)) reject(err);
            });
          }),
      });
      worker.on('message', (m: WorkerMessage) => {
        if (m?.wasmhost === 'response') {
          const waiting = pending.get(m.id);
          pending.delete(m.id);
          if (m.error !== undefined) waiting?.reject(new Error(m.error));
          else waiting?.resolve(m.value);
        }
        if (m?.wasmhost === 'error') fail(m.message, m.hint);
        if (m?.wasmhost !== 'ready') return;
        first ??= { stdout: m.stdout, notices: m.notices };
        ready.add(worker);
        if (ready.size === n && !stopping) readying = allReady(first);
      });
      worker.on('exit', (code, signal) => {
        for (const { reject } of pending.values()) reject(new Error(`worker ${worker.process.pid} ended`));
        pending.clear();
        if (!stopping) fail(`worker ${worker.process.pid} ended (${signal ?? `exit code ${code}`})`, 'the other workers were stopped too');
        else if (code !== 0) failed = true;
        if (workers.every((w) => w.isDead())) {
          process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
          void halted.then(() => resolve(failed ? 1 : 0));
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
