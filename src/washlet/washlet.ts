/**
 * The washlet: a host driven by a cluster operator over NATS, wire-compatible with the
 * reference's. It answers `runtime.host.<hostId>.{heartbeat, workload.start, workload.status,
 * workload.stop}` and publishes the host's heartbeat on `runtime.operator.heartbeat.<hostId>` at
 * start and every 15 s. It drives the host only through the Host API, as any operator would.
 *
 * Where it differs from the reference, on purpose:
 * - Requests are served concurrently (the reference serves one at a time, so a slow start held
 *   up every status behind it).
 * - A request the host cannot act on (not JSON, a wrong field, an unknown command) is answered,
 *   in the shape of the command's response: `workloadStatus` with state ERROR and a message that
 *   names the problem, plus the `Nats-Service-Error` headers NATS services use. The reference
 *   only logs it and leaves the operator to time out.
 */
import { headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { ImageFetcher } from '../host/sources.ts';
import type {
  HostHeartbeat,
  WorkloadStartRequest,
  WorkloadStartResponse,
  WorkloadStatus,
  WorkloadStatusRequest,
  WorkloadStatusResponse,
  WorkloadStopRequest,
  WorkloadStopResponse,
} from '../workload/types.ts';
import { pullImages, PullError } from './pull.ts';
import { decodeIdRequest, decodeStartRequest, InvalidRequestError } from './requests.ts';
import { checkHostId, commandOf, COMMANDS, heartbeatSubject, hostSubject } from './subjects.ts';
import { encode, heartbeatJson, workloadResponseJson } from './wire.ts';

/** The label operators place hosts by. */
export const HOST_GROUP_LABEL = 'hostgroup';
export const DEFAULT_HOST_GROUP = 'default';
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 15_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/**
 * What the washlet uses of a host: the Host API, its id and its logger. A `Host` is one; so is
 * an object that forwards the calls to hosts elsewhere (`wasmhost host --workers`), which is
 * why the heartbeat and the status may be answered later.
 */
export interface WashletHost {
  readonly id: string;
  readonly logger: Logger;
  heartbeat(): HostHeartbeat | Promise<HostHeartbeat>;
  workloadStart(request: WorkloadStartRequest): Promise<WorkloadStartResponse>;
  workloadStatus(request: WorkloadStatusRequest): WorkloadStatusResponse | Promise<WorkloadStatusResponse>;
  workloadStop(request: WorkloadStopRequest): Promise<WorkloadStopResponse>;
}

export interface WashletOptions {
  /** The host it drives (started by its owner before `Washlet.start`). */
  host: WashletHost;
  /** The scheduler (control plane) connection; the washlet never closes it. */
  connection: NatsConnection;
  /** One subject token; default the host's id. The heartbeat's `id` says the same. */
  hostId?: string;
  /** Default 15 s, as the reference. */
  heartbeatIntervalMs?: number;
  logger?: Logger;
  /**
   * Pulls the images of a start request before the host is asked, each with its own secret and
   * policy (the reference's order: a failed pull never reaches the host). Without one, image
   * sources go to the host as they are, for its own fetcher.
   */
  imageFetcher?: ImageFetcher;
  /** How long `stop` waits for requests in flight (default 10 s). */
  stopTimeoutMs?: number;
}

export interface Answer {
  body: Record<string, unknown>;
  /** Set when the request could not be served: goes into the NATS service error headers too. */
  error?: { message: string; code: 400 | 500 };
}

export class Washlet {
  readonly hostId: string;
  readonly #host: WashletHost;
  readonly #connection: NatsConnection;
  readonly #intervalMs: number;
  readonly #stopTimeoutMs: number;
  readonly #logger: Logger;
  readonly #fetcher: ImageFetcher | undefined;
  readonly #inflight = new Set<Promise<void>>();
  #subscription: Subscription | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: WashletOptions) {
    this.#host = options.host;
    this.#connection = options.connection;
    this.hostId = checkHostId(options.hostId ?? options.host.id);
    this.#intervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    if (!(this.#intervalMs > 0)) throw new RangeError(`heartbeatIntervalMs must be positive, got ${this.#intervalMs}`);
    this.#stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    this.#logger = (options.logger ?? options.host.logger).child({ part: 'washlet', hostId: this.hostId });
    this.#fetcher = options.imageFetcher;
  }

  /**
   * Subscribes to the host's subject, then announces the host with a first heartbeat (so an
   * operator that reacts to it finds the host listening) and keeps publishing one every interval.
   */
  async start(): Promise<void> {
    if (this.#stopping) throw new Error('the washlet was stopped; make a new one');
    if (this.#subscription) return;
    this.#subscription = this.#connection.subscribe(hostSubject(this.hostId), {
      callback: (err, msg) => {
        if (err) this.#logger.warn({ err }, 'request subscription error');
        else this.#track(this.#serve(msg));
      },
    });
    await this.#connection.flush();
    this.#publishHeartbeat();
    this.#timer = setInterval(() => this.#publishHeartbeat(), this.#intervalMs);
    this.#logger.info({ subject: hostSubject(this.hostId), heartbeat: heartbeatSubject(this.hostId) }, 'washlet listening');
  }

  /**
   * Stops the heartbeats, drains the subscription (messages already received are still
   * served) and waits for requests in flight, at most `stopTimeoutMs`. The host and the
   * connection are its owner's to stop.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const subscription = this.#subscription;
    if (subscription && !subscription.isClosed()) await subscription.drain().catch((err: unknown) => this.#logger.warn({ err }, 'draining the subscription failed'));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.#stopTimeoutMs)));
    const outcome = await Promise.race([Promise.allSettled([...this.#inflight]), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.#logger.warn({ inflight: this.#inflight.size }, `requests still in flight after ${this.#stopTimeoutMs} ms`);
    this.#logger.info('washlet stopped');
  }

  /** The heartbeat this washlet sends: the host's, under the washlet's id, always with a host group. */
  async heartbeat(): Promise<HostHeartbeat> {
    const hb = await this.#host.heartbeat();
    return { ...hb, id: this.hostId, labels: { [HOST_GROUP_LABEL]: DEFAULT_HOST_GROUP, ...hb.labels } };
  }

  /**
   * Answers one command (the subject's rest after the host id) with its payload: what a
   * request on NATS gets, without NATS. Never throws.
   */
  async answer(command: string, payload: Uint8Array): Promise<Answer> {
    try {
      switch (command) {
        case 'heartbeat':
          return { body: heartbeatJson(await this.heartbeat()) };
        case 'workload.start':
          return { body: workloadResponseJson(await this.#start(payload)) };
        case 'workload.status':
          return { body: workloadResponseJson(await this.#host.workloadStatus(decodeIdRequest(payload, command))) };
        case 'workload.stop':
          return { body: workloadResponseJson(await this.#host.workloadStop(decodeIdRequest(payload, command))) };
        default:
          return failure('', `unknown command ${JSON.stringify(command)} (expected one of ${COMMANDS.join(', ')})`, 400);
      }
    } catch (err) {
      if (err instanceof InvalidRequestError) return failure(err.workloadId, err.message, 400);
      this.#logger.error({ err, command }, 'request failed');
      return failure('', `${command} failed: ${err instanceof Error ? err.message : String(err)}`, 500);
    }
  }

  async #start(payload: Uint8Array): Promise<WorkloadStartResponse> {
    const request = decodeStartRequest(payload);
    const { workloadId } = request;
    let { workload } = request;
    // An id that is live already is refused by the host; no point pulling for it first.
    const current = (await this.#host.workloadStatus({ workloadId })).workloadStatus.workloadState;
    const live = current === 'WORKLOAD_STATE_STARTING' || current === 'WORKLOAD_STATE_RUNNING' || current === 'WORKLOAD_STATE_STOPPING';
    if (this.#fetcher && !live) {
      try {
        workload = await pullImages(workload, this.#fetcher);
      } catch (err) {
        if (!(err instanceof PullError)) throw err;
        this.#logger.error({ workloadId, reason: err.message }, 'failed to start workload');
        return { workloadStatus: { workloadId, workloadState: 'WORKLOAD_STATE_ERROR', message: err.message } };
      }
    }
    this.#logger.info({ workloadId, namespace: workload.namespace, name: workload.name }, 'starting workload');
    return this.#host.workloadStart({ workloadId, workload });
  }

  async #serve(msg: Msg): Promise<void> {
    const command = commandOf(msg.subject, this.hostId) ?? msg.subject;
    this.#logger.debug({ command, reply: msg.reply }, 'request');
    const { body, error } = await this.answer(command, msg.data);
    if (error) this.#logger.warn({ command, error: error.message }, 'request refused');
    if (!msg.reply) return;
    const h = error ? headers() : undefined;
    if (h && error) {
      // Header values are one line; the body carries the full message.
      h.set('Nats-Service-Error', error.message.split('\n').map((l) => l.trim()).join(' '));
      h.set('Nats-Service-Error-Code', String(error.code));
    }
    try {
      msg.respond(encode(body, 'pretty'), h ? { headers: h } : undefined);
    } catch (err) {
      this.#logger.warn({ err, command }, 'could not send the reply');
    }
  }

  #publishHeartbeat(): void {
    const publish = async () => {
      const beat = encode(heartbeatJson(await this.heartbeat()), 'compact');
      if (!this.#stopping) this.#connection.publish(heartbeatSubject(this.hostId), beat);
    };
    // Tracked like a request, so `stop` waits for a heartbeat being put together.
    this.#track(publish().catch((err: unknown) => this.#logger.warn({ err }, 'could not publish the heartbeat')));
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch((err: unknown) => this.#logger.error({ err }, 'request handling failed')).finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
  }
}

function failure(workloadId: string, message: string, code: 400 | 500): Answer {
  const status: WorkloadStatus = { workloadId, workloadState: 'WORKLOAD_STATE_ERROR', message };
  return { body: workloadResponseJson({ workloadStatus: status }), error: { message, code } };
}
