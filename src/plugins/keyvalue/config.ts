import type { WitInterface } from '../../plugin/plugin.ts';
import { hostInterfaceConfig, listSetting } from '../../plugin/config.ts';

/**
 * Per-workload settings, from the `config` map of the workload's `wasi:keyvalue` host interface:
 *   buckets  comma-separated identifiers the guest may `open` (others: `access-denied`); absent
 *            = any identifier, present but empty = none
 *   prefix   put before every identifier to form the backend's bucket name, so workloads that
 *            share a persistent store (filesystem, NATS) can be kept apart
 *   backend  the type of backend this workload's data lives in (`memory`, `filesystem`, `nats`,
 *            `postgres`), made by the host with its own resources; absent = the host's default
 */
export interface KeyValueConfig {
  buckets?: ReadonlySet<string>;
  prefix: string;
  backend?: string;
}

/** Merges the config of every `wasi:keyvalue` interface given; an unknown key is an error. */
export function keyValueConfig(pluginId: string, interfaces: readonly WitInterface[]): KeyValueConfig {
  const merged = hostInterfaceConfig(pluginId, interfaces, { namespace: 'wasi', package: 'keyvalue' }, ['buckets', 'prefix', 'backend']);
  const buckets = merged.buckets === undefined ? undefined : new Set(listSetting(merged.buckets));
  return { buckets, prefix: merged.prefix ?? '', backend: merged.backend?.trim() || undefined };
}
