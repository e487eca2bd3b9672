import { basename, extname, resolve } from 'node:path';
import { UsageError, type Workload } from '../index.ts';
import { startDevHost, untilSignal } from './dev-host.ts';
import { parseSize } from './limits.ts';
import { parseDir, parseEnv } from './run.ts';

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
}

function count(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} ${value}: expected a whole number`);
  return Number(value);
}

/**
 * `wasmhost serve`, like `wasmtime serve`: one `wasi:http` component as a one-component workload
 * behind the dev router. Prints the URL on its first line and serves until SIGINT/SIGTERM.
 */
export async function serve(file: string, opts: ServeOptions): Promise<number> {
  const workload = serveWorkload(file, opts);
  const { name } = workload;
  const { host, http } = await startDevHost({ ...opts, plugins: false });
  const { workloadStatus } = await host.workloadStart({ workloadId: name, workload });
  if (workloadStatus.workloadState !== 'WORKLOAD_STATE_RUNNING') {
    await host.stop();
    throw new UsageError(workloadStatus.message);
  }
  process.stdout.write(`Serving HTTP on ${http.url.href}\n`);
  if (opts.allowHost.length === 0) process.stderr.write('note: outgoing HTTP may go to any host (development mode); --allow-host restricts it\n');
  return untilSignal(() => host.stop());
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
          localResources: {
            memoryLimitMb: opts.maxMemory ? Math.ceil(parseSize(opts.maxMemory, '--max-memory') / 2 ** 20) : -1,
            cpuLimit: -1,
            config: {},
            environment: parseEnv(opts.env, opts.envInherit),
            volumeMounts: mounts.map((m, i) => ({ name: `dir-${i}`, mountPath: m.guestPath, readOnly: m.readOnly ?? false })),
            allowedHosts: opts.allowHost,
          },
        },
      ],
      hostInterfaces: [
        { namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], version: '', config: opts.timeout ? { 'request-timeout': opts.timeout } : {} },
      ],
    },
  };
}
