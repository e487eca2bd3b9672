import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadWorkloadManifest, UsageError } from '../index.ts';
import { startDevHost, untilSignal, watchWorkload } from './dev-host.ts';
import { useLogFormat } from './output.ts';
import { announce, isWorker, refuseProcessState, runWorkers, setUpWorker, untilPrimaryStops, workerCount } from './workers.ts';

export interface UpOptions {
  addr: string;
  router: string;
  dataDir?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel: string;
  cacheDir?: string;
  cache?: boolean;
  /** `--log-format human|json` (see output.ts). */
  logFormat?: string;
  /** `--workers <n>` (see workers.ts). */
  workers?: string;
  /** `--max-guest-memory <size>` (see limits.ts). */
  maxGuestMemory?: string;
  allowHostLoopback?: boolean;
  /** `--webgpu` (see dev-host.ts). */
  webgpu?: boolean;
}

/**
 * `wasmhost up`: an embedded host with the development plugins (key-value and blobstore in
 * memory, or on disk under `--data-dir`), the workload of a manifest, and its URLs printed once
 * it runs and the port listens. It ends with exit code 1 when the workload fails later (its
 * service failed for good), and 0 when a service-only workload completes.
 */
export async function up(manifest: string, opts: UpOptions): Promise<number> {
  useLogFormat(opts.logFormat, opts.logLevel);
  if (opts.router !== 'dev' && opts.router !== 'host') throw new UsageError(`--router ${opts.router}: expected dev or host`);
  const workers = workerCount(opts.workers);
  if (isWorker) setUpWorker();
  await refuseComponent(manifest);
  const workload = await loadWorkloadManifest(manifest);
  refuseProcessState(workers, workload, opts.dataDir);
  if (workers > 1 && !isWorker) return runWorkers(workers);
  const label = `workload ${workload.namespace}/${workload.name}`;
  const { host, http, listen } = await startDevHost({ ...opts, router: opts.router, dataDir: opts.dataDir && resolve(opts.dataDir), plugins: true, listenWhenReady: true });
  const workloadId = `${workload.namespace}-${workload.name}`;
  try {
    const { workloadStatus } = await host.workloadStart({ workloadId, workload });
    if (workloadStatus.workloadState !== 'WORKLOAD_STATE_RUNNING') throw new UsageError(`${label} did not start: ${workloadStatus.message}`);
    await listen();
  } catch (err) {
    await host.stop();
    throw err;
  }
  const urls = http.urls(workloadId);
  // Signals are heard before the URLs go out: a script may stop it as soon as it reads them.
  const stopped = (isWorker ? untilPrimaryStops : untilSignal)(() => host.stop(), watchWorkload(host, workloadId, label));
  announce(
    [`Workload ${workload.namespace}/${workload.name} is running${urls.length ? '' : ' (it serves no HTTP)'}`, ...urls.map((url) => `  ${url}`)],
    [
      ...(opts.router !== 'host' ? ['outgoing HTTP may go to any host from components without allowedHosts (development mode)'] : []),
      `key-value and blobstore: ${opts.dataDir ? `on disk under ${resolve(opts.dataDir)}` : 'in memory (gone when stopped; --data-dir keeps them)'}`,
    ],
  );
  return stopped;
}

/** `up` takes a manifest: a component given instead is named, with the commands that take one. */
async function refuseComponent(file: string): Promise<void> {
  const head = Buffer.alloc(64);
  let length = 0;
  try {
    const handle = await open(file, 'r');
    try {
      length = (await handle.read(head, 0, head.length, 0)).bytesRead;
    } finally {
      await handle.close();
    }
  } catch {
    return; // the manifest loader says what is wrong with the path
  }
  const text = head.subarray(0, length).toString('latin1');
  if (text.startsWith('\0asm') || /\.(wasm|wat)$/i.test(file) || /^\s*\((component|module)\b/.test(text)) {
    throw new UsageError(`${file} is a component, not a workload manifest`, {
      hint: `serve an HTTP component with wasmhost serve ${file}, run a command with wasmhost run ${file}; up takes a workload manifest (.yaml or .json) that names components`,
    });
  }
}
