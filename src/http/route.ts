/**
 * A workload's HTTP entry: its component that exports `wasi:http/incoming-handler`, with the
 * route's limits. Each request gets an invocation from the workload (a fresh instance, or a warm
 * one when the component has a pool), runs within its time limit, and gives the instance back
 * only if the guest ended cleanly. A stopping route answers 503 and waits for its requests.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { LimitExceededError } from '../errors.ts';
import type { Invocation, ResolvedWorkload } from '../plugin/plugin.ts';
import { Exchange, plainStatus } from './exchange.ts';
import { Gate } from '../host/gate.ts';
import { httpRequest, type HttpRequestEvent } from '../telemetry/channels.ts';
import type { RouteConfig } from './route-config.ts';

const HANDLE = 'wasi:http/incoming-handler#handle';
const TIMED_OUT = Symbol('timed out');

export class WorkloadRoute {
  readonly workloadId: string;
  readonly entry: string;
  readonly config: RouteConfig;
  readonly #workload: ResolvedWorkload;
  readonly #gate: Gate | undefined;
  readonly #logger: Logger;
  readonly #scheme: 'http' | 'https';
  #inFlight = 0;
  #abandoned = 0;
  #stopping = false;
  #idle: (() => void) | undefined;

  constructor(workload: ResolvedWorkload, entry: string, config: RouteConfig, scheme: 'http' | 'https', logger: Logger) {
    this.workloadId = workload.id;
    this.entry = entry;
    this.config = config;
    this.#workload = workload;
    this.#scheme = scheme;
    this.#gate = Number.isFinite(config.maxConcurrency) ? new Gate(config.maxConcurrency) : undefined;
    this.#logger = logger.child({ workloadId: workload.id, component: entry });
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests whose client went away before their guest started (they were not run). */
  get abandoned(): number {
    return this.#abandoned;
  }

  /** Serves a request; with telemetry listening, within a `wasmhost:http.request` event (telemetry/channels.ts). */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!httpRequest.hasSubscribers) return this.#serve(req, res);
    const event: HttpRequestEvent = { req, res, workloadId: this.workloadId, component: this.entry };
    return httpRequest.runStores(event, this.#serve, this, req, res);
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#stopping) return plainStatus(res, 503, { 'retry-after': '1' });
    if (this.#gate && !(await this.#gate.enter(this.config.queueTimeoutMs))) {
      this.#logger.warn({ maxConcurrentRequests: this.config.maxConcurrency }, 'request turned away: too many concurrent requests');
      return plainStatus(res, 503, { 'retry-after': '1' });
    }
    if (this.#clientGone(req, res)) {
      this.#gate?.leave();
      return;
    }
    this.#inFlight++;
    try {
      await this.#run(req, res);
    } finally {
      this.#gate?.leave();
      if (--this.#inFlight === 0) this.#idle?.();
    }
  }

  async #run(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const exchange = new Exchange(req, res, this.#scheme);
    let invocation: Invocation | undefined;
    let timer: NodeJS.Timeout | undefined;
    let clean = false;
    try {
      // The guest itself is stopped at the deadline too, even when it never yields.
      invocation = await this.#workload.instantiate(this.entry, { timeoutMs: this.config.timeoutMs });
      // It may have waited for an instance: the instance goes back unused.
      if (this.#clientGone(req, res)) {
        clean = true;
        return;
      }
      const running = invocation;
      exchange.guestBusy = () => running.awaitingTurn;
      const handled = invocation.call(HANDLE, exchange.request, exchange.outparam);
      // Whichever comes first; a guest failing after its timeout is already answered.
      const outcome = await new Promise((resolve, reject) => {
        timer = setTimeout(resolve, this.config.timeoutMs, TIMED_OUT);
        handled.then(resolve, reject);
      });
      if (outcome === TIMED_OUT) {
        this.#logger.warn({ timeoutMs: this.config.timeoutMs, url: req.url }, 'request timed out: the guest did not finish in time');
        exchange.timedOut();
      } else {
        exchange.handlerReturned();
        clean = true;
      }
    } catch (err) {
      const limit = err instanceof LimitExceededError ? err.limit : undefined;
      if (limit === 'instances' || limit === 'host-memory') {
        this.#logger.warn({ limit, url: req.url }, `request turned away: ${(err as Error).message}`);
        exchange.unavailable();
      } else if (limit === 'timeout') {
        this.#logger.warn({ timeoutMs: this.config.timeoutMs, url: req.url }, 'request timed out: the guest was stopped');
        exchange.timedOut();
      } else {
        this.#logger.warn({ err, url: req.url }, 'request failed in the guest');
        exchange.failed();
      }
    } finally {
      clearTimeout(timer);
      // A guest that failed or ran out of time is never entered again.
      await (clean ? invocation?.close() : invocation?.discard());
    }
  }

  /** A client that went away while its request waited is not served: no guest runs for nobody. */
  #clientGone(req: IncomingMessage, res: ServerResponse): boolean {
    if (!res.destroyed && !req.socket.destroyed) return false;
    this.#abandoned++;
    this.#logger.debug({ url: req.url }, 'request dropped: its client went away before the guest started');
    return true;
  }

  /** New requests get 503; resolves when the ones in flight are done (or `timeoutMs` passed). */
  drain(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
