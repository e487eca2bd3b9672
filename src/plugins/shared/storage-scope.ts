import type { PluginWorkload } from '../../plugin/plugin.ts';

/**
 * The storage scope of a workload: its stable identity `<namespace>/<name>`, not its id. An
 * operator restarts a workload under a new id, and its key-value and blob data must still be
 * there; replicas of one workload share their data; different workloads never see each other's.
 */
export function storageScope(workload: Pick<PluginWorkload, 'namespace' | 'name'>): string {
  return `${workload.namespace}/${workload.name}`;
}

/**
 * What a storage plugin keeps per workload (its state, held by the host): the scope, and whether
 * the workload still runs, so that a call still running after its workload stopped cannot
 * recreate what the unbind released.
 */
export interface StorageState {
  readonly scope: string;
  live: boolean;
}
