import type { PluginWorkload } from '../../plugin/plugin.ts';

/**
 * The one naming policy of the plugins that isolate workloads by name (key-value buckets,
 * blobstore containers): the plugin decides once what a backend's bucket or container is
 * called, and backends only ever see that name.
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

/**
 * `storageName` in SQL, for the rows an older layout keyed by (scope, name), the scope being what
 * the plugins passed then, the workload's `<namespace>/<name>` unescaped: split at its first `/`
 * (a namespace holding `/` was ambiguous there already: such workloads shared one scope), both
 * parts escaped as `escapePart` does. A scope the plugins cannot have written (empty around its
 * first `/`, or none) keeps its row under `scope U+001F name`: no name the plugins make holds a
 * control character, so it meets no other row and stays for an operator. `scope` and `name` are
 * column names, never guest input.
 */
export function legacyStorageNameSql(scope: string, name: string): string {
  const escaped = (part: string) => `replace(replace(${part}, '%', '%25'), '/', '%2F')`;
  return `CASE WHEN strpos(${scope}, '/') > 1 AND strpos(${scope}, '/') < length(${scope})
  THEN ${escaped(`split_part(${scope}, '/', 1)`)} || '/' || ${escaped(`substr(${scope}, strpos(${scope}, '/') + 1)`)} || '/' || ${name}
  ELSE ${scope} || chr(31) || ${name} END`;
}

function escapePart(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('/', '%2F');
}

/** The inverse of `escapePart`, for its own spelling only (`%41` is not how `A` is written). */
function unescapePart(text: string): string | undefined {
  const plain = text.replaceAll('%2F', '/').replaceAll('%25', '%');
  return escapePart(plain) === text ? plain : undefined;
}
