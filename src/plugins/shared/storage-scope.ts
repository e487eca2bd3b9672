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

/**
 * The one naming policy of a plugin that isolates workloads by bucket name (key-value): the
 * plugin decides once what a backend's bucket is called, and backends only ever see that name.
 *
 *   'workload'  `<namespace>/<name>/<bucket>`: each workload (its stable identity, the same across
 *               restarts and replicas) has its own buckets
 *   'shared'    `<bucket>`: workloads that name a bucket alike share it
 *
 * Namespace and name may hold `/` (the workload schema allows it), so both are written with `%`
 * as `%25` and `/` as `%2F`: the first two `/` of a workload's name always end its identity, and
 * `a/b` + `c` never meets `a` + `b/c`. An identity without `%` or `/` (the usual one) is written
 * as itself. Isolation is a host's setting: hosts sharing a store must agree on it, since a
 * bucket a 'shared' workload names `default/app/x` is the one workload `default/app` calls `x`.
 */
export type StorageIsolation = 'workload' | 'shared';

export const STORAGE_ISOLATIONS: readonly StorageIsolation[] = ['workload', 'shared'];

/** What every name of a workload-isolated workload starts with: `<namespace>/<name>/`, escaped. */
export function workloadNamePrefix(workload: Pick<PluginWorkload, 'namespace' | 'name'>): string {
  return `${escapePart(workload.namespace)}/${escapePart(workload.name)}/`;
}

/** The backend's name for `bucket` (the config `prefix` + the guest's identifier) of `workload`. */
export function storageName(isolation: StorageIsolation, workload: Pick<PluginWorkload, 'namespace' | 'name'>, bucket: string): string {
  return isolation === 'shared' ? bucket : workloadNamePrefix(workload) + bucket;
}

/**
 * The identity and bucket a 'workload' name was made of, or undefined when `name` is not one.
 * Only for a backend that must find data it stored under its naming from before this policy
 * (NATS: the scope and the bucket were encoded apart there): a shared name with two `/` splits
 * too, so the answer is what the name would mean under 'workload', not proof of it.
 */
export function splitStorageName(name: string): { namespace: string; name: string; bucket: string } | undefined {
  const first = name.indexOf('/');
  const second = first < 0 ? -1 : name.indexOf('/', first + 1);
  if (second < 0) return undefined;
  const namespace = unescapePart(name.slice(0, first));
  const workload = unescapePart(name.slice(first + 1, second));
  const bucket = name.slice(second + 1);
  if (namespace === undefined || workload === undefined || namespace === '' || workload === '' || bucket === '') return undefined;
  return { namespace, name: workload, bucket };
}

function escapePart(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('/', '%2F');
}

/** The inverse of `escapePart`, for its own spelling only (`%41` is not how `A` is written). */
function unescapePart(text: string): string | undefined {
  const plain = text.replaceAll('%2F', '/').replaceAll('%25', '%');
  return escapePart(plain) === text ? plain : undefined;
}
