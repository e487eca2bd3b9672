/**
 * `wasmhost host`: a cluster host driven by an operator over NATS (the reference's `wash host`,
 * same flag names). Two NATS connections, as in the reference: the scheduler one carries the
 * washlet's control subjects, the data one the plugins' traffic (key-value, blobstore,
 * messaging). Production backends throughout; PostgreSQL for key-value and blobstore on request.
 *
 * With `--workers n` the primary runs the washlet and the workers the hosts (host-workers.ts).
 * Every backend of `host` is a shared server, so no workload is refused for it.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import type { Logger } from 'pino';
import { durationMs, durationProblem, DURATION_HINT } from '../duration.ts';
import { describeBinary } from '../engine.ts';
import { defaultPlugins, Engine, friendlyName, HostBuilder, HostRouter, HttpServer, UsageError, type Host } from '../index.ts';
import { OciImageFetcher } from '../oci/index.ts';
import { guestMemoryLimit } from './limits.ts';
import { untilSignal } from './dev-host.ts';
import { createLogger, useLogFormat } from './output.ts';
import { readTlsFiles } from './tls.ts';
import { telemetryNotices, telemetryOption } from './telemetry.ts';
import { hostApi, WorkerHosts } from './host-workers.ts';
import { announce, answerRequests, isWorker, runWorkers, setUpWorker, untilPrimaryStops, workerCount } from './workers.ts';
import { connectNats, HOST_GROUP_LABEL, hostSubject, Washlet, type NatsConnectOptions } from '../washlet/index.ts';

export interface HostCommandOptions {
  hostGroup: string;
  hostName?: string;
  label: string[];
  schedulerNatsUrl: string;
  schedulerNatsTlsCa?: string;
  schedulerNatsTlsCert?: string;
  schedulerNatsTlsKey?: string;
  schedulerNatsTlsFirst?: boolean;
  schedulerNatsCreds?: string;
  dataNatsUrl: string;
  dataNatsTlsCa?: string;
  dataNatsTlsCert?: string;
  dataNatsTlsKey?: string;
  dataNatsTlsFirst?: boolean;
  dataNatsCreds?: string;
  httpAddr?: string;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  postgresUrl?: string;
  keyvalueBackend: string;
  blobstoreBackend: string;
  allowInsecureRegistries?: boolean;
  registryPullTimeout: string;
  ociCacheDir?: string;
  heartbeatInterval: string;
  logLevel: string;
  /** `--log-format human|json` (see output.ts). */
  logFormat?: string;
  /** `--otel`: OpenTelemetry (also on when the OTEL_* variables ask for it). */
  otel?: boolean;
  cacheDir?: string;
  cache?: boolean;
  /** `--workers <n>` (see workers.ts, host-workers.ts). */
  workers?: string;
  /** `--max-guest-memory <size>` (see limits.ts). */
  maxGuestMemory?: string;
  /** `--allow-host-loopback`: components' `allowedHostLoopbackPorts` count (inert without it). */
  allowHostLoopback?: boolean;
  /** `--webgpu`: serve `wasi:webgpu` to workloads that declare it. */
  webgpu?: boolean;
  /** `--environment <name>`: what the heartbeat says the host runs in. */
  environment?: string;
}

type Backend = 'nats' | 'postgres';

function backendChoice(value: string, flag: string, postgresUrl: string | undefined): Backend {
  if (value !== 'nats' && value !== 'postgres') throw new UsageError(`${flag} ${value}: expected nats or postgres`);
  if (value === 'postgres' && !postgresUrl) throw new UsageError(`${flag} postgres needs --postgres-url`);
  return value;
}

function duration(value: string, flag: string): number {
  const ms = durationMs(value);
  if (ms === undefined) throw new UsageError(`${flag} ${value}: ${durationProblem(value)}`, { hint: DURATION_HINT });
  return ms;
}

/** `--label k=v` flags into a map; the host group has its own flag. */
export function parseLabels(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const label of labels) {
    const eq = label.indexOf('=');
    if (eq <= 0) throw new UsageError(`--label ${label}: expected key=value`);
    const key = label.slice(0, eq).trim();
    if (key === HOST_GROUP_LABEL) throw new UsageError(`--label ${label}: the ${HOST_GROUP_LABEL} label is set with --host-group`);
    out[key] = label.slice(eq + 1);
  }
  return out;
}

function natsOptions(opts: HostCommandOptions, which: 'scheduler' | 'data'): NatsConnectOptions {
  const o = which === 'scheduler'
    ? { tlsCa: opts.schedulerNatsTlsCa, tlsCert: opts.schedulerNatsTlsCert, tlsKey: opts.schedulerNatsTlsKey, tlsFirst: opts.schedulerNatsTlsFirst, creds: opts.schedulerNatsCreds }
    : { tlsCa: opts.dataNatsTlsCa, tlsCert: opts.dataNatsTlsCert, tlsKey: opts.dataNatsTlsKey, tlsFirst: opts.dataNatsTlsFirst, creds: opts.dataNatsCreds };
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new UsageError(`--${which}-nats-tls-cert and --${which}-nats-tls-key go together`);
  return { ...o, name: `wasmhost host (${which})` };
}

/** What a running cluster host holds, in the order `shutdown` lets go of it. */
interface Resources {
  washlet?: Washlet;
  host?: Host;
  connections: NatsConnection[];
  pool?: pg.Pool;
}

async function shutdown(r: Resources, log: Logger): Promise<void> {
  await r.washlet?.stop(); // no more requests or heartbeats
  await r.host?.stop(); // workloads, plugins, HTTP
  for (const nc of r.connections) await nc.drain().catch((err: unknown) => log.warn({ err }, 'draining a NATS connection failed'));
  await r.pool?.end().catch((err: unknown) => log.warn({ err }, 'closing the PostgreSQL pool failed'));
}

export async function hostCommand(opts: HostCommandOptions): Promise<number> {
  // Everything a flag can get wrong fails before anything connects.
  const workers = workerCount(opts.workers);
  if (isWorker) setUpWorker();
  const labels = parseLabels(opts.label);
  const hostGroup = opts.hostGroup.trim();
  if (!hostGroup) throw new UsageError('--host-group must not be empty');
  const keyvalue = backendChoice(opts.keyvalueBackend, '--keyvalue-backend', opts.postgresUrl);
  const blobstore = backendChoice(opts.blobstoreBackend, '--blobstore-backend', opts.postgresUrl);
  const pullTimeoutMs = duration(opts.registryPullTimeout, '--registry-pull-timeout');
  const heartbeatIntervalMs = duration(opts.heartbeatInterval, '--heartbeat-interval');
  const memory = guestMemoryLimit(opts.maxGuestMemory);
  if ((opts.tlsCertPath === undefined) !== (opts.tlsKeyPath === undefined)) throw new UsageError('--tls-cert-path and --tls-key-path go together');
  if (opts.tlsCertPath && !opts.httpAddr) throw new UsageError('--tls-cert-path needs --http-addr (the host serves no HTTP without it)');
  const tls = opts.tlsCertPath && opts.tlsKeyPath ? readTlsFiles(opts.tlsCertPath, opts.tlsKeyPath, ['--tls-cert-path', '--tls-key-path']) : undefined;
  useLogFormat(opts.logFormat, opts.logLevel);
  const schedulerOptions = natsOptions(opts, 'scheduler');
  const dataOptions = natsOptions(opts, 'data');

  const log = createLogger(opts.logLevel);
  const fetcher = new OciImageFetcher({ describeBinary, insecure: opts.allowInsecureRegistries ?? false, timeoutMs: pullTimeoutMs, cacheDir: opts.ociCacheDir });
  if (workers > 1 && !isWorker) {
    return runPrimary(workers, opts, { hostGroup, labels, heartbeatIntervalMs, fetcher, log, schedulerOptions });
  }
  const r: Resources = { connections: [] };
  let httpLine: string;
  try {
    // A worker answers its primary, which alone speaks to the scheduler.
    const scheduler = isWorker ? undefined : await connectNats(opts.schedulerNatsUrl, schedulerOptions);
    if (scheduler) r.connections.push(scheduler);
    const data = await connectNats(opts.dataNatsUrl, dataOptions);
    r.connections.push(data);
    if (opts.postgresUrl) {
      r.pool = new pg.Pool({ connectionString: opts.postgresUrl });
      // An idle connection that dies is reported here; unheard, it would end the process.
      r.pool.on('error', (err) => log.warn({ err: err.message }, 'an idle PostgreSQL connection failed'));
    }

    const postgres = opts.postgresUrl ? { url: opts.postgresUrl, pool: r.pool } : undefined;
    const plugins = await defaultPlugins({ mode: 'production', nats: data, postgres, keyvalue, blobstore, webgpu: opts.webgpu === true });

    const builder = new HostBuilder()
      .withEngine(new Engine({ cacheDir: opts.cache === false ? false : opts.cacheDir }))
      .withLogger(log)
      .withGuestOutput('log')
      .withImageFetcher(fetcher)
      .withLabel(HOST_GROUP_LABEL, hostGroup);
    for (const [k, v] of Object.entries(labels)) builder.withLabel(k, v);
    if (opts.hostName) builder.withHostname(opts.hostName);
    if (memory) builder.withLimits(memory);
    if (opts.allowHostLoopback) builder.withHostLoopback();
    if (opts.environment) builder.withEnvironment(opts.environment);
    let http: HttpServer | undefined;
    if (opts.httpAddr) {
      http = new HttpServer({ address: opts.httpAddr, router: new HostRouter(), tls, logger: log });
      builder.withHttpHandler(http);
    }
    for (const plugin of plugins) builder.withPlugin(plugin);
    const telemetry = telemetryOption(opts.otel);
    if (telemetry) builder.withTelemetry(telemetry);
    r.host = builder.build();
    await r.host.start();
    httpLine = `  HTTP:    ${http ? `${http.url.href} (routed by Host header)` : 'none (--http-addr serves it)'}`;

    if (scheduler) {
      r.washlet = new Washlet({ host: r.host, connection: scheduler, heartbeatIntervalMs, logger: log, imageFetcher: fetcher });
      await r.washlet.start();
    } else answerRequests(hostApi(r.host));
  } catch (err) {
    await shutdown(r, log);
    throw err;
  }
  // Signals are heard before the first lines go out: a script may stop it as soon as it reads them.
  if (isWorker) {
    const stopped = untilPrimaryStops(() => shutdown(r, log));
    announce([httpLine], telemetryNotices(r.host));
    return stopped;
  }
  const stopped = untilSignal(() => shutdown(r, log));
  const lines = hostLines(r.washlet!.hostId, r.host.friendlyName, hostGroup, opts.schedulerNatsUrl, [httpLine]);
  announce(lines, telemetryNotices(r.host));
  return stopped;
}

/** What `host` prints first: who it is, where it is controlled, where it serves HTTP. */
function hostLines(id: string, name: string, hostGroup: string, schedulerUrl: string, httpLines: string[]): string[] {
  return [`Host ${id} (${name}) is running in host group "${hostGroup}"`, `  control: ${hostSubject(id)} on ${schedulerUrl}`, ...httpLines];
}

interface PrimaryContext {
  hostGroup: string;
  labels: Record<string, string>;
  heartbeatIntervalMs: number;
  fetcher: OciImageFetcher;
  log: Logger;
  schedulerOptions: NatsConnectOptions;
}

/**
 * `--workers n`: the primary is the one host the cluster sees. It connects to the scheduler
 * first (a wrong URL fails before any worker starts), and starts its washlet once every worker
 * runs its host; on a stop, the washlet stops before the workers do.
 */
async function runPrimary(n: number, opts: HostCommandOptions, c: PrimaryContext): Promise<number> {
  const scheduler = await connectNats(opts.schedulerNatsUrl, c.schedulerOptions);
  let washlet: Washlet | undefined;
  try {
    return await runWorkers(n, {
      ready: async (workers, first) => {
        const identity = {
          id: randomUUID(),
          hostname: opts.hostName ?? os.hostname(),
          friendlyName: friendlyName(),
          labels: { [HOST_GROUP_LABEL]: c.hostGroup, ...c.labels },
          startedAt: new Date().toISOString(),
        };
        washlet = new Washlet({ host: new WorkerHosts(workers, identity, c.log), connection: scheduler, heartbeatIntervalMs: c.heartbeatIntervalMs, logger: c.log, imageFetcher: c.fetcher });
        await washlet.start();
        const pids = workers.map((w) => w.pid).join(', ');
        return {
          stdout: hostLines(washlet.hostId, identity.friendlyName, c.hostGroup, opts.schedulerNatsUrl, first.stdout),
          notices: [...first.notices, `${n} worker processes (pids ${pids}) run the workloads${opts.httpAddr ? ' and share the HTTP port' : ''}; this one answers the control subjects`],
        };
      },
      stopping: async () => {
        await washlet?.stop();
      },
    });
  } finally {
    await scheduler.drain().catch((err: unknown) => c.log.warn({ err }, 'draining a NATS connection failed'));
  }
}
