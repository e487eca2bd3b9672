import { basename, extname, resolve } from 'node:path';
import { Engine, UsageError, type CompiledComponent, type Workload } from '../index.ts';
import { isWatText, readComponentFile } from './component-file.ts';
import { startDevHost, untilSignal, watchWorkload } from './dev-host.ts';
import { parseSize } from './limits.ts';
import { useLogFormat } from './output.ts';
import { parseDir, parseEnv } from './run.ts';
import { announce, isWorker, runWorkers, setUpWorker, untilPrimaryStops, workerCount } from './workers.ts';

export interface ServeOptions {
  addr: string;
  dir: string[];
  dirRo: string[];
  env: string[];
  envInherit?: boolean;
  allowHost: string[];
  poolSize: string;
  maxInvocations: string;
  timeout?: string;
  maxMemory?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel: string;
  cacheDir?: string;
  cache?: boolean;
  limits?: boolean;
  /** `--log-format human|json` (see output.ts). */
  logFormat?: string;
  /** `--workers <n>` (see workers.ts). */
  workers?: string;
}

function count(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} ${value}: expected a whole number`);
  return Number(value);
}

/**
 * `wasmhost serve`, like `wasmtime serve`: one `wasi:http` component (.wasm or .wat) as a
 * one-component workload behind the dev router. It listens only once the component runs, then
 * prints the URL on its first line, and serves until SIGINT/SIGTERM.
 */
export async function serve(file: string, opts: ServeOptions): Promise<number> {
  useLogFormat(opts.logFormat, opts.logLevel);
  const workers = workerCount(opts.workers);
  if (isWorker) setUpWorker();
  const workload = serveWorkload(file, opts);
  const { name } = workload;
  const bytes = await readComponentFile(file);
  if (workers > 1 && !isWorker) {
    // Checked once here, and prepared into the disk cache the workers then load it from.
    checkHttpComponent(file, await new Engine({ cacheDir: opts.cache === false ? false : opts.cacheDir, instrument: opts.limits !== false }).compile(bytes, file));
    return runWorkers(workers);
  }
  if (isWatText(file, bytes)) {
    const { file: _path, image: _image, bytes: _bytes, ...rest } = workload.witWorld.components[0];
    workload.witWorld.components[0] = { ...rest, bytes };
  }
  const { host, http, listen } = await startDevHost({ ...opts, plugins: false, listenWhenReady: true });
  try {
    checkHttpComponent(file, await host.engine.compile(bytes, file));
    const { workloadStatus } = await host.workloadStart({ workloadId: name, workload });
    if (workloadStatus.workloadState !== 'WORKLOAD_STATE_RUNNING') throw new UsageError(`${file} did not start: ${workloadStatus.message}`);
    await listen();
  } catch (err) {
    await host.stop();
    throw err;
  }
  // Signals are heard before the URL goes out: a script may stop the server as soon as it reads it.
  const stopped = (isWorker ? untilPrimaryStops : untilSignal)(() => host.stop(), watchWorkload(host, name, file));
  announce([`Serving HTTP on ${http.url.href}`], opts.allowHost.length === 0 ? ['outgoing HTTP may go to any host (development mode); --allow-host restricts it'] : []);
  return stopped;
}

/** `serve` takes a `wasi:http/incoming-handler` component: say what to do with anything else. */
function checkHttpComponent(file: string, component: CompiledComponent): void {
  if (component.exportsInterface('wasi:http/incoming-handler')) return;
  if (component.exportsInterface('wasi:cli/run')) {
    throw new UsageError(`${file} is a command (it exports wasi:cli/run), not an HTTP component (wasi:http/incoming-handler)`, {
      hint: `run it: wasmhost run ${file}`,
    });
  }
  throw new UsageError(`${file} does not export wasi:http/incoming-handler, so it has no HTTP to serve`, {
    hint: `serve takes a wasi:http component; call its exports with wasmhost run --invoke '<function>(...)' ${file}`,
  });
}

/** The one-component workload `serve` (and `dev`) runs a component file as, named after the file. */
export function serveWorkload(file: string, opts: ServeOptions): Workload {
  const name = basename(file, extname(file)).replace(/[^a-zA-Z0-9-]/g, '-') || 'component';
  const mounts = [...opts.dir.map((d) => parseDir(d, false)), ...opts.dirRo.map((d) => parseDir(d, true))];
  return {
    namespace: 'default',
    name,
    annotations: {},
    volumes: mounts.map((m, i) => ({ name: `dir-${i}`, hostPath: { localPath: m.hostPath } })),
    witWorld: {
      components: [
        {
          name,
          file: resolve(file),
          imagePullPolicy: 'IMAGE_PULL_POLICY_IF_NOT_PRESENT',
          poolSize: count(opts.poolSize, '--pool-size'),
          maxInvocations: count(opts.maxInvocations, '--max-invocations'),
          reclaimWindowSeconds: 0,
          reclaimMinInstances: 0,
          maxConcurrency: 0,
          localResources: {
            memoryLimitMb: opts.maxMemory ? Math.ceil(parseSize(opts.maxMemory, '--max-memory') / 2 ** 20) : -1,
            cpuLimit: -1,
            config: {},
            environment: parseEnv(opts.env, opts.envInherit),
            volumeMounts: mounts.map((m, i) => ({ name: `dir-${i}`, mountPath: m.guestPath, readOnly: m.readOnly ?? false })),
            allowedHosts: opts.allowHost,
            allowedIpNameLookups: [],
            allowedHostLoopbackPorts: [],
          },
        },
      ],
      hostInterfaces: [
        { namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], version: '', config: opts.timeout ? { 'request-timeout': opts.timeout } : {} },
      ],
    },
  };
}
