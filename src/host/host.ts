/**
 * The Host and its API (the reference's whole control surface): heartbeat, workload start,
 * status and stop. A start that fails answers ERROR with what failed; an id that is already
 * running is refused and the running workload left untouched; unknown ids answer NOT_FOUND.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { pino, type Logger } from 'pino';
import { Engine } from '../engine/engine.ts';
import { UsageError, WasmhostError } from '../errors.ts';
import type { Plugin } from '../plugin/plugin.ts';
import type { TelemetryOptions } from '../telemetry/options.ts';
import type { TelemetryHandle } from '../telemetry/sdk.ts';
import type {
  HostHeartbeat,
  WitInterface,
  WorkloadStartRequest,
  WorkloadStartResponse,
  WorkloadState,
  WorkloadStatus,
  WorkloadStatusRequest,
  WorkloadStatusResponse,
  WorkloadStopRequest,
  WorkloadStopResponse,
} from '../workload/types.ts';
import { validateWorkload } from '../workload/validate.ts';
import { CpuUsage, friendlyName, osArch, osName } from './heartbeat.ts';
import { BoundReplicas } from './bind.ts';
import { HostGuards, type HostLimits } from './limits.ts';
import { RunningWorkload, type HostServices } from './running-workload.ts';
import type { ImageFetcher } from './sources.ts';

const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** How long `stop` gives each plugin by default before going on without it. */
const PLUGIN_STOP_MS = 5000;

export interface HostOptions {
  engine?: Engine;
  /** The HTTP server: a plugin, put before the others (it starts first and stops last). */
  http?: Plugin;
  plugins?: Plugin[];
  hostname?: string;
  friendlyName?: string;
  labels?: Record<string, string>;
  /** The environment the heartbeat says the host runs in (a namespace, a region; the reference's `--environment`). */
  environment?: string;
  logger?: Logger;
  imageFetcher?: ImageFetcher;
  guestOutput?: HostServices['guestOutput'];
  /** How long `stop` waits for each plugin (default 5 s). */
  stopTimeoutMs?: number;
  /** Limits on guests; unset fields keep `DEFAULT_HOST_LIMITS`. */
  limits?: Partial<HostLimits>;
  /** OpenTelemetry traces, metrics and log correlation (off when undefined). */
  telemetry?: TelemetryOptions;
  /**
   * Let components reach the ports of this machine's loopback that their
   * `allowedHostLoopbackPorts` name, through `host.wasmcloud.internal` (default false: such
   * grants are inert, so neither a workload author nor an operator opens that door alone).
   */
  allowHostLoopback?: boolean;
}

/** Builds a Host step by step: `new HostBuilder().withPlugin(p).build()`. */
export class HostBuilder {
  readonly #options: HostOptions = { plugins: [], labels: {} };

  withEngine(engine: Engine): this {
    this.#options.engine = engine;
    return this;
  }

  /** The HTTP server (`HttpServer`), an ordinary plugin that starts before the others and stops after them. */
  withHttpHandler(http: Plugin): this {
    this.#options.http = http;
    return this;
  }

  /** Adds a plugin; a second plugin with the same id is an error at `build()`. */
  withPlugin(plugin: Plugin): this {
    this.#options.plugins!.push(plugin);
    return this;
  }

  withHostname(hostname: string): this {
    this.#options.hostname = hostname;
    return this;
  }

  withFriendlyName(name: string): this {
    this.#options.friendlyName = name;
    return this;
  }

  withLabel(key: string, value: string): this {
    this.#options.labels![key] = value;
    return this;
  }

  /** The environment the heartbeat advertises; an operator schedules a workload only to hosts of its environment. */
  withEnvironment(environment: string): this {
    this.#options.environment = environment;
    return this;
  }

  withLogger(logger: Logger): this {
    this.#options.logger = logger;
    return this;
  }

  withImageFetcher(fetcher: ImageFetcher): this {
    this.#options.imageFetcher = fetcher;
    return this;
  }

  /** Where guests' stdout/stderr go: 'inherit' (default), 'log' or 'ignore'. */
  withGuestOutput(mode: HostServices['guestOutput']): this {
    this.#options.guestOutput = mode;
    return this;
  }

  /** How long `stop` waits for each plugin before going on (default 5 s). */
  withStopTimeout(ms: number): this {
    this.#options.stopTimeoutMs = ms;
    return this;
  }

  /** Honour components' `allowedHostLoopbackPorts` (`--allow-host-loopback`); off by default. */
  withHostLoopback(allow = true): this {
    this.#options.allowHostLoopback = allow;
    return this;
  }

  /** Limits on guests (memory, time, handles, instances); unset fields keep their defaults. */
  withLimits(limits: Partial<HostLimits>): this {
    this.#options.limits = { ...this.#options.limits, ...limits };
    return this;
  }

  /**
   * OpenTelemetry: traces, metrics and trace ids in the host's log lines, exported over OTLP/HTTP
   * as the options and the standard `OTEL_*` variables say. Loaded when the host starts.
   */
  withTelemetry(options: TelemetryOptions = {}): this {
    this.#options.telemetry = options;
    return this;
  }

  build(): Host {
    return new Host(this.#options);
  }
}

interface Entry {
  state: WorkloadState;
  message: string;
  running?: RunningWorkload;
  /** The start in progress, while STARTING. */
  starting?: Promise<RunningWorkload>;
  /** The teardown in progress, while STOPPING; the id is dropped when it ends. */
  teardown?: Promise<void>;
}

export class Host {
  readonly id = randomUUID();
  readonly hostname: string;
  readonly friendlyName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly environment: string;
  readonly version = VERSION;
  readonly engine: Engine;
  readonly logger: Logger;
  readonly #plugins: readonly Plugin[];
  readonly #services: HostServices;
  /** The host's limits in force (defaults filled in). */
  readonly limits: Readonly<HostLimits>;
  readonly #workloads = new Map<string, Entry>();
  readonly #cpu = new CpuUsage();
  readonly #stopTimeoutMs: number;
  #startedAt: Date | undefined;
  #stopping: Promise<void> | undefined;
  readonly #telemetryOptions: TelemetryOptions | undefined;
  #telemetry: { handle: TelemetryHandle; undo: (() => void)[] } | undefined;

  constructor(options: HostOptions = {}) {
    const plugins = [...(options.http ? [options.http] : []), ...(options.plugins ?? [])];
    const seen = new Set<string>();
    for (const p of plugins) {
      if (!p.id) throw new UsageError('a plugin needs a non-empty id');
      if (seen.has(p.id)) throw new UsageError(`two plugins have the id "${p.id}"`, { hint: 'plugin ids must be unique on a host' });
      seen.add(p.id);
    }
    this.hostname = options.hostname ?? os.hostname();
    this.friendlyName = options.friendlyName ?? friendlyName();
    this.labels = { ...options.labels };
    this.environment = options.environment ?? '';
    this.engine = options.engine ?? new Engine();
    this.logger = options.logger ?? pino({ name: 'wasmhost' });
    this.#plugins = plugins;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? PLUGIN_STOP_MS;
    this.#telemetryOptions = options.telemetry;
    const guards = new HostGuards(options.limits);
    this.limits = guards.limits;
    this.#services = {
      guards,
      engine: this.engine,
      plugins,
      replicas: new BoundReplicas(),
      fetcher: options.imageFetcher,
      logger: this.logger,
      guestOutput: options.guestOutput ?? 'inherit',
      allowHostLoopback: options.allowHostLoopback === true,
    };
  }

  /** Guest memory now: bytes of all live instances' memories and tables, against the host's cap. */
  get guestMemory(): { usedBytes: number; capBytes: number; instances: number } {
    const budget = this.#services.guards.budget;
    return { usedBytes: budget?.usedBytes ?? 0, capBytes: budget?.capBytes ?? Infinity, instances: budget?.users ?? 0 };
  }

  get plugins(): readonly Plugin[] {
    return this.#plugins;
  }

  /** Starts telemetry when asked for, then every plugin in order (the HTTP server first). */
  async start(): Promise<void> {
    if (this.#startedAt) return;
    if (this.#telemetryOptions && !this.#telemetry) await this.#startTelemetry(this.#telemetryOptions);
    try {
      for (const plugin of this.#plugins) {
        try {
          await plugin.start?.({ hostId: this.id, logger: this.logger.child({ plugin: plugin.id }) });
        } catch (err) {
          throw new WasmhostError(`plugin "${plugin.id}" failed to start: ${(err as Error).message}`, { cause: err });
        }
      }
    } catch (err) {
      await this.#stopTelemetry();
      throw err;
    }
    this.#startedAt = new Date();
    this.logger.info({ hostId: this.id, friendlyName: this.friendlyName, plugins: this.#plugins.map((p) => p.id) }, 'host started');
  }

  /** Telemetry is loaded only here: a host without it never imports OpenTelemetry. */
  async #startTelemetry(options: TelemetryOptions): Promise<void> {
    const { startTelemetry } = await import('../telemetry/sdk.ts');
    const handle = startTelemetry(options, this.logger);
    this.#telemetry = { handle, undo: [handle.observeHost(this), handle.correlateLogs(this.logger)] };
    this.logger.info({ destination: handle.destination }, 'telemetry on');
  }

  /** The telemetry in use, if any (`destination` says where it exports). */
  get telemetry(): { readonly destination: string } | undefined {
    return this.#telemetry?.handle;
  }

  /** Stops every workload, then the plugins in reverse order (the HTTP server last), each with a bounded wait. Never hangs. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    await Promise.all([...this.#workloads].map(([workloadId, entry]) => this.#tearDown(workloadId, entry)));
    for (const plugin of [...this.#plugins].reverse()) {
      const outcome = await bounded(() => plugin.stop?.(), this.#stopTimeoutMs);
      if (outcome !== 'ok') this.logger.warn({ plugin: plugin.id }, `plugin stop ${outcome}`);
    }
    this.logger.info({ hostId: this.id }, 'host stopped');
    // Last: what the stop itself produced is flushed too.
    await this.#stopTelemetry();
  }

  async #stopTelemetry(): Promise<void> {
    const telemetry = this.#telemetry;
    if (!telemetry) return;
    this.#telemetry = undefined;
    // Flushed first: the last export still observes this host and correlates its log lines.
    const flushed = await bounded(() => telemetry.handle.stop(), this.#stopTimeoutMs);
    for (const undo of telemetry.undo) undo();
    if (flushed !== 'ok') this.logger.warn(`telemetry flush ${flushed}`);
  }

  heartbeat(): HostHeartbeat {
    const running = [...this.#workloads.values()].filter((e) => e.running && e.state === 'WORKLOAD_STATE_RUNNING');
    return {
      id: this.id,
      hostname: this.hostname,
      httpPort: this.#plugins.find((p) => p.port !== undefined)?.port ?? 0,
      friendlyName: this.friendlyName,
      version: this.version,
      labels: { ...this.labels },
      startedAt: (this.#startedAt ?? new Date()).toISOString(),
      osArch: osArch(),
      osName: osName(),
      osKernel: os.release(),
      systemCpuUsage: this.#cpu.read(),
      systemMemoryTotal: os.totalmem(),
      systemMemoryFree: os.freemem(),
      componentCount: running.reduce((n, e) => n + e.running!.componentCount, 0),
      workloadCount: running.length,
      imports: this.#plugins.flatMap((p) => p.imports.map(withConfig)),
      exports: this.#plugins.flatMap((p) => (p.exports ?? []).map(withConfig)),
      environment: this.environment,
    };
  }

  async workloadStart(request: WorkloadStartRequest): Promise<WorkloadStartResponse> {
    const { workloadId } = request;
    const answer = (state: WorkloadState, message: string) => ({ workloadStatus: { workloadId, workloadState: state, message } });
    if (typeof workloadId !== 'string' || workloadId === '') return answer('WORKLOAD_STATE_ERROR', 'workloadId must be a non-empty string');
    if (this.#stopping) return answer('WORKLOAD_STATE_ERROR', 'the host is stopping');
    const existing = this.#workloads.get(workloadId);
    if (existing && isLive(existing.state)) {
      return answer(
        'WORKLOAD_STATE_ERROR',
        `workload ${workloadId} is already ${describe(existing.state)}; it was left as it is (stop it first to replace it)`,
      );
    }
    if (existing) await this.#tearDown(workloadId, existing);

    let workload;
    try {
      workload = validateWorkload(request.workload, { source: `workload ${workloadId}` });
    } catch (err) {
      return this.#failed(workloadId, `invalid workload: ${(err as Error).message}`);
    }
    const entry: Entry = { state: 'WORKLOAD_STATE_STARTING', message: 'starting' };
    this.#workloads.set(workloadId, entry);
    const start = RunningWorkload.start(workloadId, workload, this.#services, (outcome) => {
      if (this.#workloads.get(workloadId) !== entry || entry.state !== 'WORKLOAD_STATE_RUNNING') return;
      // A workload with components keeps serving them after its service completed.
      if (outcome.state === 'failed') entry.state = 'WORKLOAD_STATE_ERROR';
      else if (workload.witWorld.components.length === 0) entry.state = 'WORKLOAD_STATE_COMPLETED';
      entry.message = outcome.message;
    });
    entry.starting = start;
    const outcome = await start.then((running) => ({ running }), (error: unknown) => ({ error }));
    entry.starting = undefined;
    // Stopped while starting: the stop's teardown, waiting on this start, undoes it.
    if (entry.teardown) return answer('WORKLOAD_STATE_NOT_FOUND', `workload ${workloadId} was stopped while it started`);
    if ('error' in outcome) return this.#failed(workloadId, `start failed: ${describeError(outcome.error)}`, entry);
    entry.running = outcome.running;
    entry.state = 'WORKLOAD_STATE_RUNNING';
    entry.message = 'running';
    this.logger.info({ workloadId }, 'workload running');
    return { workloadStatus: this.#status(workloadId, entry) };
  }

  workloadStatus(request: WorkloadStatusRequest): WorkloadStatusResponse {
    const entry = this.#workloads.get(request.workloadId);
    return { workloadStatus: entry ? this.#status(request.workloadId, entry) : notFound(request.workloadId) };
  }

  /**
   * As the reference: the answer is STOPPING, and the final state is what status says afterwards,
   * NOT_FOUND once the teardown is done and the id is free. A running workload is torn down before
   * the answer; one still starting is answered at once (its start may take as long as its pulls
   * and compiles) and torn down when its start ends, its status STOPPING until then.
   */
  async workloadStop(request: WorkloadStopRequest): Promise<WorkloadStopResponse> {
    const { workloadId } = request;
    const entry = this.#workloads.get(workloadId);
    if (!entry) return { workloadStatus: notFound(workloadId) };
    const waitsForStart = entry.starting !== undefined;
    const teardown = this.#tearDown(workloadId, entry);
    if (!waitsForStart) await teardown;
    const message = waitsForStart ? 'stopping once its start ends' : 'stopped';
    return { workloadStatus: { workloadId, workloadState: 'WORKLOAD_STATE_STOPPING', message } };
  }

  /** Marks the entry STOPPING, stops what runs (after its start, if any) and frees the id. Once per entry. */
  #tearDown(workloadId: string, entry: Entry): Promise<void> {
    entry.teardown ??= (async () => {
      entry.state = 'WORKLOAD_STATE_STOPPING';
      entry.message = 'stopping';
      // A failed start has cleaned up after itself.
      const running = entry.starting ? await entry.starting.catch(() => undefined) : entry.running;
      const errors = (await running?.stop()) ?? [];
      for (const err of errors) this.logger.warn({ workloadId, err }, 'while stopping the workload');
      if (this.#workloads.get(workloadId) === entry) this.#workloads.delete(workloadId);
      this.logger.info({ workloadId }, 'workload stopped');
    })();
    return entry.teardown;
  }

  #failed(workloadId: string, message: string, entry: Entry = { state: 'WORKLOAD_STATE_ERROR', message }): WorkloadStartResponse {
    entry.state = 'WORKLOAD_STATE_ERROR';
    entry.message = message;
    if (!this.#workloads.has(workloadId) || this.#workloads.get(workloadId) === entry) this.#workloads.set(workloadId, entry);
    this.logger.error({ workloadId }, message);
    return { workloadStatus: { workloadId, workloadState: 'WORKLOAD_STATE_ERROR', message } };
  }

  #status(workloadId: string, entry: Entry): WorkloadStatus {
    return { workloadId, workloadState: entry.state, message: entry.message };
  }

  /** The running workload behind an id, for embedding programs (calls into its components). */
  workload(workloadId: string): RunningWorkload | undefined {
    const entry = this.#workloads.get(workloadId);
    return entry?.state === 'WORKLOAD_STATE_RUNNING' ? entry.running : undefined;
  }
}

const isLive = (state: WorkloadState) =>
  state === 'WORKLOAD_STATE_STARTING' || state === 'WORKLOAD_STATE_RUNNING' || state === 'WORKLOAD_STATE_STOPPING';

const describe = (state: WorkloadState) => state.replace('WORKLOAD_STATE_', '').toLowerCase();

function notFound(workloadId: string): WorkloadStatus {
  return { workloadId, workloadState: 'WORKLOAD_STATE_NOT_FOUND', message: `no workload with id ${workloadId} on this host` };
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const hint = (err as WasmhostError).hint;
  return hint ? `${err.message} (${hint})` : err.message;
}

function withConfig(i: Pick<WitInterface, 'namespace' | 'package' | 'interfaces' | 'version'>): WitInterface {
  return { namespace: i.namespace, package: i.package, interfaces: [...i.interfaces], version: i.version, config: {} };
}

/** Runs `body`, waiting at most `ms`: 'ok', 'failed: …' or 'timed out after …'. */
async function bounded(body: () => unknown, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`timed out after ${ms} ms`), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(body).then(() => 'ok'), timeout]);
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}
