/**
 * The embedded host behind `serve` and `up`: an HTTP server, the development plugins, logs on
 * stderr, and a graceful stop on SIGINT/SIGTERM.
 */
import type { Logger } from 'pino';
import { defaultPlugins, DevRouter, Engine, HostBuilder, HostRouter, HttpServer, UsageError, type Host } from '../index.ts';
import { createLogger, notice } from './output.ts';
import { noteTelemetry, telemetryOption } from './telemetry.ts';
import { guestMemoryLimit } from './limits.ts';
import { readTlsFiles } from './tls.ts';
import { reportFailure } from './workers.ts';

export interface DevHostOptions {
  addr: string;
  router?: 'dev' | 'host';
  tlsCert?: string;
  tlsKey?: string;
  logLevel: string;
  /** Key-value and blobstore on disk under this folder; in memory when undefined. */
  dataDir?: string;
  /** With no plugins, the host serves WASI and HTTP only (`serve`, like `wasmtime serve`). */
  plugins: boolean;
  cacheDir?: string;
  cache?: boolean;
  /** `--no-limits`: compile without the limits instrumentation. */
  limits?: boolean;
  /** `--max-guest-memory`: the memory limit of each instance whose component sets none. */
  maxGuestMemory?: string;
  /** `--allow-host-loopback`: components' `allowedHostLoopbackPorts` count (inert without it). */
  allowHostLoopback?: boolean;
  /** `--webgpu`: serve `wasi:webgpu` (the plugin loads the webgpu package at the first workload declaring it). */
  webgpu?: boolean;
  /** `--otel`: OpenTelemetry (also on when the OTEL_* variables ask for it). */
  otel?: boolean;
  /**
   * Listen only when `DevHost.listen` is called (once the workload runs), so that nothing ever
   * answers on the port before the component is ready; by default the host listens as it starts.
   */
  listenWhenReady?: boolean;
}

export interface DevHost {
  host: Host;
  http: HttpServer;
  logger: Logger;
  /** Starts listening (with `listenWhenReady`; otherwise the host listens already). */
  listen(): Promise<void>;
}

export async function startDevHost(opts: DevHostOptions): Promise<DevHost> {
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const tls = opts.tlsCert && opts.tlsKey ? readTlsFiles(opts.tlsCert, opts.tlsKey, ['--tls-cert', '--tls-key']) : undefined;
  const memory = guestMemoryLimit(opts.maxGuestMemory);
  const log = createLogger(opts.logLevel);
  const http = new HttpServer({
    address: opts.addr,
    router: opts.router === 'host' ? new HostRouter() : new DevRouter(),
    tls,
    logger: log,
    allowAnyOutgoingHost: opts.router !== 'host',
    deferListen: opts.listenWhenReady,
  });
  const builder = new HostBuilder()
    .withEngine(new Engine({ cacheDir: opts.cache === false ? false : opts.cacheDir, instrument: opts.limits !== false }))
    .withHttpHandler(http)
    .withLogger(log)
    .withGuestOutput('inherit');
  if (memory) builder.withLimits(memory);
  if (opts.allowHostLoopback) builder.withHostLoopback();
  if (opts.plugins) for (const plugin of await defaultPlugins({ mode: 'development', dataDir: opts.dataDir, webgpu: opts.webgpu === true })) builder.withPlugin(plugin);
  const telemetry = telemetryOption(opts.otel);
  if (telemetry) builder.withTelemetry(telemetry);
  const host = builder.build();
  await host.start();
  noteTelemetry(host);
  return { host, http, logger: log, listen: () => http.listen() };
}

/**
 * Serves until SIGINT or SIGTERM, then runs `stop` (a graceful stop: requests in flight finish).
 * A second signal during that stop ends the process at once, and says so. `ended`, when given,
 * ends the wait early with its exit code (a workload that failed or completed, see `watchWorkload`).
 */
export function untilSignal(stop: () => Promise<void>, ended?: Promise<number>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const finish = (code: number) => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      resolve(code);
    };
    const halt = (code: number) =>
      stop().then(
        () => finish(code),
        (err: Error) => {
          process.stderr.write(`error: stopping failed: ${err.message}\n`);
          finish(1);
        },
      );
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        notice(`${signal} again: stopping now, without waiting for requests in flight`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      stopping = true;
      notice(`${signal}: stopping (waiting for requests in flight; ${signal === 'SIGINT' ? 'Ctrl-C' : signal} again stops at once)`);
      void halt(0);
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    ended?.then((code) => {
      if (stopping) return;
      stopping = true;
      void halt(code);
    });
  });
}

/**
 * Settles when a running workload ends on its own: in ERROR (its service failed for good: says
 * why, answers 1) or COMPLETED (a service-only workload whose service finished: answers 0).
 * The Host API has no events, so its status is read four times a second.
 */
export function watchWorkload(host: Host, workloadId: string, label: string): Promise<number> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const { workloadState, message } = host.workloadStatus({ workloadId }).workloadStatus;
      if (workloadState === 'WORKLOAD_STATE_ERROR') {
        clearInterval(timer);
        reportFailure(`${label} failed: ${message}`, undefined);
        resolve(1);
      } else if (workloadState === 'WORKLOAD_STATE_COMPLETED') {
        clearInterval(timer);
        notice(`${label} completed: ${message}`);
        resolve(0);
      }
    }, 250);
    timer.unref();
  });
}
