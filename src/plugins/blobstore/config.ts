import { UsageError } from '../../errors.ts';
import type { WitInterface } from '../../plugin/plugin.ts';
import { hostInterfaceConfig, listSetting } from '../../plugin/config.ts';

/**
 * Per-workload settings, from the `config` map of the workload's `wasi:blobstore` host interface:
 *   buckets    comma-separated container names the guest may use (others are refused); absent =
 *              any name, present but empty = none
 *   read_only  "true" refuses every create, write and delete; "false" (the default) allows them
 *   backend    the type of backend this workload's data lives in (`memory`, `filesystem`, `nats`,
 *              `postgres`), made by the host with its own resources; absent = the host's default
 */
export interface BlobstoreConfig {
  buckets?: ReadonlySet<string>;
  readOnly: boolean;
  backend?: string;
}

/** Merges the config of every `wasi:blobstore` interface given; an unknown key or a bad value is an error. */
export function blobstoreConfig(pluginId: string, interfaces: readonly WitInterface[]): BlobstoreConfig {
  const merged = hostInterfaceConfig(pluginId, interfaces, { namespace: 'wasi', package: 'blobstore' }, ['buckets', 'read_only', 'backend']);
  const readOnly = (merged.read_only ?? 'false').trim().toLowerCase();
  if (readOnly !== 'true' && readOnly !== 'false') {
    throw new UsageError(`${pluginId}: config read_only on wasi:blobstore must be "true" or "false", not ${JSON.stringify(merged.read_only)}`);
  }
  const buckets = merged.buckets === undefined ? undefined : new Set(listSetting(merged.buckets));
  return { buckets, readOnly: readOnly === 'true', backend: merged.backend?.trim() || undefined };
}
