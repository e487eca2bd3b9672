/**
 * The embedded host behind `serve` and `up`: an HTTP server, the development plugins, logs on
 * stderr, and a graceful stop on SIGINT/SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { destination, pino, type Logger } from 'pino';
import { Engine, HostBuilder, UsageError, type Host, type Plugin } from '../index.ts';
import { HttpServer } from '../http/server.ts';
import { DevRouter, HostRouter } from '../http/router.ts';
import { blobstorePlugin, FilesystemBlobstoreBackend, MemoryBlobstoreBackend } from '../plugins/blobstore/index.ts';
import { configPlugin } from '../plugins/config/index.ts';
import { FilesystemKeyValueBackend, keyValuePlugin, MemoryKeyValueBackend } from '../plugins/keyvalue/index.ts';
import { loggingPlugin } from '../plugins/logging/index.ts';
import { InMemoryBroker, messagingPlugin } from '../plugins/messaging/index.ts';
import { noteTelemetry, telemetryOption } from './telemetry.ts';

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
  /** `--otel`: OpenTelemetry (also on when the OTEL_* variables ask for it). */
  otel?: boolean;
}

export interface DevHost {
  host: Host;
  http: HttpServer;
  logger: Logger;
}

function logger(level: string): Logger {
  return pino({ level, base: undefined }, destination(2));
}

function developmentPlugins(dataDir: string | undefined): Plugin[] {
  return [
    configPlugin(),
    loggingPlugin(),
    keyValuePlugin({ backend: dataDir ? new FilesystemKeyValueBackend({ root: join(dataDir, 'keyvalue') }) : new MemoryKeyValueBackend() }),
    blobstorePlugin({ backend: dataDir ? new FilesystemBlobstoreBackend({ root: join(dataDir, 'blobstore') }) : new MemoryBlobstoreBackend() }),
    messagingPlugin({ backend: new InMemoryBroker(), ownsBackend: true }),
  ];
}

export async function startDevHost(opts: DevHostOptions): Promise<DevHost> {
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const log = logger(opts.logLevel);
  const http = new HttpServer({
    address: opts.addr,
    router: opts.router === 'host' ? new HostRouter() : new DevRouter(),
    tls: opts.tlsCert && opts.tlsKey ? { cert: readFileSync(opts.tlsCert), key: readFileSync(opts.tlsKey) } : undefined,
    logger: log,
    allowAnyOutgoingHost: opts.router !== 'host',
  });
  const builder = new HostBuilder()
    .withEngine(new Engine({ cacheDir: opts.cache === false ? false : opts.cacheDir, instrument: opts.limits !== false }))
    .withHttpHandler(http)
    .withLogger(log)
    .withGuestOutput('inherit');
  if (opts.plugins) for (const plugin of developmentPlugins(opts.dataDir)) builder.withPlugin(plugin);
  const telemetry = telemetryOption(opts.otel);
  if (telemetry) builder.withTelemetry(telemetry);
  const host = builder.build();
  await host.start();
  noteTelemetry(host);
  return { host, http, logger: log };
}

/**
 * Serves until SIGINT or SIGTERM, then runs `stop` (a graceful stop). The handlers are `once`: a
 * second signal gets Node's default and ends the process at once.
 */
export function untilSignal(stop: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      process.stderr.write(`${signal}: stopping\n`);
      stop().then(
        () => resolve(0),
        (err: Error) => {
          process.stderr.write(`error: stopping failed: ${err.message}\n`);
          resolve(1);
        },
      );
    };
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  });
}
