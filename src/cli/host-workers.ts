/**
 * `wasmhost host --workers <n>`: the cluster sees one host. The primary runs the washlet (one
 * host id, one heartbeat, one set of control subjects) over `WorkerHosts`, which forwards each
 * Host API call to every worker (see workers.ts) and answers for all of them; each worker runs a
 * full Host (engine, plugins, the shared HTTP port) with no washlet, answering through
 * `hostApi`.
 *
 * The workers run the same set of workloads: a start answers RUNNING only when every worker
 * runs it, and one that fails anywhere is stopped everywhere it started. Status answers the
 * worst state across the workers (a workload is only as up as its least-up copy), naming the
 * worker when they disagree.
 *
 * Images are pulled once, by the washlet in the primary, and the bytes go to the workers: one
 * pull per start whatever n is, one cache writer, and a failed pull answered before any worker
 * is asked, as with one process. (Each worker pulling for itself would race n writers on the
 * shared cache and could fail on some workers only.)
 */
import type { Logger } from 'pino';
import type {
  Host,
  HostHeartbeat,
  WorkloadStartRequest,
  WorkloadStartResponse,
  WorkloadState,
  WorkloadStatus,
  WorkloadStatusRequest,
  WorkloadStatusResponse,
  WorkloadStopRequest,
  WorkloadStopResponse,
} from '../index.ts';
import type { WashletHost } from '../washlet/index.ts';
import type { WorkerChannel } from './workers.ts';

/** The Host API calls the washlet makes, by name: what crosses to a worker. */
type Method = 'heartbeat' | 'workloadStart' | 'workloadStatus' | 'workloadStop';

/** In a worker: the primary's forwarded Host API calls, answered by this process's host. */
export function hostApi(host: Host): (method: string, params: unknown) => Promise<unknown> {
  return async (method, params) => {
    switch (method) {
      case 'heartbeat':
        return host.heartbeat();
      case 'workloadStart':
        return host.workloadStart(params as WorkloadStartRequest);
      case 'workloadStatus':
        return host.workloadStatus(params as WorkloadStatusRequest);
      case 'workloadStop':
        return host.workloadStop(params as WorkloadStopRequest);
      default:
        throw new Error(`unknown Host API call ${method}`);
    }
  };
}

/** Who the cluster sees: the primary's identity, whatever the workers' own ids are. */
export interface HostIdentity {
  id: string;
  hostname: string;
  friendlyName: string;
  labels: Record<string, string>;
  startedAt: string;
}

/** From worst to best: the combined state is the first one any worker is in. */
const RANK: readonly WorkloadState[] = [
  'WORKLOAD_STATE_ERROR',
  'WORKLOAD_STATE_NOT_FOUND',
  'WORKLOAD_STATE_UNSPECIFIED',
  'WORKLOAD_STATE_STARTING',
  'WORKLOAD_STATE_STOPPING',
  'WORKLOAD_STATE_RUNNING',
  'WORKLOAD_STATE_COMPLETED',
];

/** One worker's answer: its status, or what went wrong asking it, as an ERROR status. */
interface Reply {
  worker: WorkerChannel;
  status: WorkloadStatus;
}

/** n worker hosts as the one host the washlet drives. */
export class WorkerHosts implements WashletHost {
  readonly id: string;
  readonly logger: Logger;
  readonly #identity: HostIdentity;
  readonly #workers: readonly WorkerChannel[];

  constructor(workers: readonly WorkerChannel[], identity: HostIdentity, logger: Logger) {
    if (workers.length === 0) throw new RangeError('WorkerHosts needs at least one worker');
    this.#workers = workers;
    this.#identity = identity;
    this.id = identity.id;
    this.logger = logger;
  }

  /**
   * The first worker's heartbeat under the primary's identity. Its counts are the host's: every
   * worker runs the same set of workloads (a start is RUNNING only where all run it), so adding
   * them up would report each workload n times. Its HTTP port is the one all workers share, and
   * its plugins are theirs.
   */
  async heartbeat(): Promise<HostHeartbeat> {
    const hb = (await this.#workers[0].request('heartbeat', undefined)) as HostHeartbeat;
    const { id, hostname, friendlyName, labels, startedAt } = this.#identity;
    return { ...hb, id, hostname, friendlyName, labels: { ...labels }, startedAt };
  }

  async workloadStart(request: WorkloadStartRequest): Promise<WorkloadStartResponse> {
    const replies = await this.#all('workloadStart', request);
    const started = replies.filter((r) => r.status.workloadState === 'WORKLOAD_STATE_RUNNING');
    if (started.length === replies.length) return { workloadStatus: replies[0].status };
    // Where it did start, it goes again: the host runs a workload everywhere or nowhere.
    const stopped = await Promise.all(started.map((r) => this.#ask(r.worker, 'workloadStop', { workloadId: request.workloadId })));
    for (const r of stopped) if (r.status.workloadState === 'WORKLOAD_STATE_ERROR') this.logger.warn({ workloadId: request.workloadId, worker: r.worker.pid }, r.status.message);
    const failure = combine(replies.filter((r) => r.status.workloadState !== 'WORKLOAD_STATE_RUNNING'), replies.length);
    return { workloadStatus: { ...failure, workloadState: 'WORKLOAD_STATE_ERROR', message: started.length > 0 ? `${failure.message} (stopped on the workers where it had started)` : failure.message } };
  }

  async workloadStatus(request: WorkloadStatusRequest): Promise<WorkloadStatusResponse> {
    return { workloadStatus: combine(await this.#all('workloadStatus', request)) };
  }

  /** Stopped everywhere it was: STOPPING (or what a worker answered) if any worker had it, NOT_FOUND if none did. */
  async workloadStop(request: WorkloadStopRequest): Promise<WorkloadStopResponse> {
    const replies = await this.#all('workloadStop', request);
    const had = replies.filter((r) => r.status.workloadState !== 'WORKLOAD_STATE_NOT_FOUND');
    return { workloadStatus: combine(had.length > 0 ? had : replies) };
  }

  #all(method: Method, request: { workloadId: string }): Promise<Reply[]> {
    return Promise.all(this.#workers.map((worker) => this.#ask(worker, method, request)));
  }

  async #ask(worker: WorkerChannel, method: Method, request: { workloadId: string }): Promise<Reply> {
    try {
      const { workloadStatus } = (await worker.request(method, request)) as { workloadStatus: WorkloadStatus };
      return { worker, status: workloadStatus };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { worker, status: { workloadId: request.workloadId, workloadState: 'WORKLOAD_STATE_ERROR', message } };
    }
  }
}

/**
 * The worst status among the replies. When the workers (all `of` them) agree, it is theirs as
 * it is; when they differ, its message names the worker it came from.
 */
function combine(replies: readonly Reply[], of = replies.length): WorkloadStatus {
  const worst = replies.reduce((a, b) => (RANK.indexOf(b.status.workloadState) < RANK.indexOf(a.status.workloadState) ? b : a));
  const agree = replies.length === of && replies.every((r) => r.status.workloadState === worst.status.workloadState && r.status.message === worst.status.message);
  if (agree) return worst.status;
  return { ...worst.status, message: `worker ${worst.worker.number} (pid ${worst.worker.pid}): ${worst.status.message}` };
}
