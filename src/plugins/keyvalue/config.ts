import { UsageError } from '../../errors.ts';
import type { WitInterface } from '../../plugin/plugin.ts';

/**
 * Per-workload settings, from the `config` map of the workload's `wasi:keyvalue` host interface:
 *   buckets  comma-separated identifiers the guest may `open` (others: `access-denied`); absent
 *            = any identifier, present but empty = none
 *   prefix   put before every identifier to form the backend's bucket name, so workloads that
 *            share a persistent store (filesystem, NATS) can be kept apart
 */
export interface KeyValueConfig {
  buckets?: ReadonlySet<string>;
  prefix: string;
}

const KNOWN_KEYS = ['buckets', 'prefix'];

/** Merges the config of every `wasi:keyvalue` interface given; an unknown key is an error. */
export function keyValueConfig(pluginId: string, interfaces: readonly WitInterface[]): KeyValueConfig {
  const merged: Record<string, string> = {};
  for (const i of interfaces) if (i.namespace === 'wasi' && i.package === 'keyvalue') Object.assign(merged, i.config);
  for (const key of Object.keys(merged)) {
    if (!KNOWN_KEYS.includes(key)) {
      throw new UsageError(`${pluginId}: unknown config key ${JSON.stringify(key)} on wasi:keyvalue`, {
        hint: `known keys: ${KNOWN_KEYS.join(', ')}`,
      });
    }
  }
  const buckets = merged.buckets === undefined ? undefined : new Set(splitList(merged.buckets));
  return { buckets, prefix: merged.prefix ?? '' };
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
