import { resolve } from 'node:path';
import { loadWorkloadManifest, UsageError } from '../index.ts';
import { startDevHost, untilSignal } from './dev-host.ts';

export interface UpOptions {
  addr: string;
  router: string;
  dataDir?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel: string;
  cacheDir?: string;
  cache?: boolean;
}

/**
 * `wasmhost up`: an embedded host with the development plugins (key-value and blobstore in
 * memory, or on disk under `--data-dir`), the workload of a manifest, and its URLs printed.
 */
export async function up(manifest: string, opts: UpOptions): Promise<number> {
  if (opts.router !== 'dev' && opts.router !== 'host') throw new UsageError(`--router ${opts.router}: expected dev or host`);
  const workload = await loadWorkloadManifest(manifest);
  const { host, http } = await startDevHost({ ...opts, router: opts.router, dataDir: opts.dataDir && resolve(opts.dataDir), plugins: true });
  const workloadId = `${workload.namespace}-${workload.name}`;
  const { workloadStatus } = await host.workloadStart({ workloadId, workload });
  if (workloadStatus.workloadState !== 'WORKLOAD_STATE_RUNNING') {
    await host.stop();
    throw new UsageError(`workload ${workload.namespace}/${workload.name} did not start: ${workloadStatus.message}`);
  }
  const urls = http.urls(workloadId);
  process.stdout.write(`Workload ${workload.namespace}/${workload.name} is running${urls.length ? '' : ' (it serves no HTTP)'}\n`);
  for (const url of urls) process.stdout.write(`  ${url}\n`);
  if (opts.router !== 'host') process.stderr.write('note: outgoing HTTP may go to any host from components without allowedHosts (development mode)\n');
  process.stderr.write(`key-value and blobstore: ${opts.dataDir ? `on disk under ${resolve(opts.dataDir)}` : 'in memory (gone when stopped; --data-dir keeps them)'}\n`);
  return untilSignal(() => host.stop());
}
