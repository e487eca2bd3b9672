/**
 * A workload's service: one long-lived instance running `wasi:cli/run`. When it fails (a trap,
 * an error, a non-zero exit) it is restarted on a fresh instance (never the poisoned one, a
 * defect of the reference) up to `maxRestarts` times, with a short growing pause in between.
 */
import type { Logger } from 'pino';
import { serviceRestart, type ServiceRestartEvent } from '../telemetry/channels.ts';
import type { InvocationScope } from './invocation.ts';

export type ServiceOutcome =
  | { state: 'completed'; message: string }
  | { state: 'failed'; message: string };

export interface ServiceRunnerOptions {
  /** A fresh invocation of the service (with its linked components). */
  start: () => InvocationScope;
  maxRestarts: number;
  /** For telemetry's restart count. */
  workloadId?: string;
  logger: Logger;
  /** Called once when the service ends for good (not when it is stopped). */
  onEnd: (outcome: ServiceOutcome) => void;
}

/** Pause before restart n (1-based): 100 ms, doubling, at most 2 s. */
const restartDelay = (n: number) => Math.min(100 * 2 ** (n - 1), 2000);

/** How long `stop` waits for a running guest to unwind before it lets it go. */
const STOP_WAIT_MS = 2000;

export class ServiceRunner {
  readonly #options: ServiceRunnerOptions;
  #current: InvocationScope | undefined;
  #stopping = false;
  #done: Promise<void> | undefined;
  readonly #wake = new AbortController();
  restarts = 0;

  constructor(options: ServiceRunnerOptions) {
    this.#options = options;
  }

  start(): void {
    this.#done = this.#loop();
  }

  async #loop(): Promise<void> {
    const { logger, maxRestarts } = this.#options;
    for (;;) {
      const scope = (this.#current = this.#options.start());
      let failure: string;
      try {
        logger.info({ restarts: this.restarts }, 'service starting');
        const code = await scope.run();
        if (code === 0) {
          if (!this.#stopping) this.#options.onEnd({ state: 'completed', message: 'service exited with code 0' });
          return;
        }
        failure = `exited with code ${code}`;
      } catch (err) {
        failure = (err as Error).message;
      } finally {
        await scope.close();
      }
      if (this.#stopping) return;
      if (this.restarts >= maxRestarts) {
        const message = `service failed: ${failure} (restarted ${this.restarts} of ${maxRestarts} times)`;
        logger.error(message);
        this.#options.onEnd({ state: 'failed', message });
        return;
      }
      this.restarts++;
      if (serviceRestart.hasSubscribers) {
        serviceRestart.publish({ workloadId: this.#options.workloadId ?? '', restarts: this.restarts, reason: failure } satisfies ServiceRestartEvent);
      }
      logger.warn({ restart: this.restarts, maxRestarts }, `service ${failure}; restarting on a fresh instance`);
      await pause(restartDelay(this.restarts), this.#wake.signal);
      if (this.#stopping) return;
    }
  }

  /** Ends the service: its invocation is closed; waits a bounded time for the guest to unwind. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake.abort();
    await this.#current?.close();
    if (this.#done) await Promise.race([this.#done, pause(STOP_WAIT_MS, undefined, true)]);
  }
}

function pause(ms: number, signal?: AbortSignal, unref = false): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    if (unref) timer.unref();
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
