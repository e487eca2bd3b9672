/**
 * Reading a plugin's per-workload settings: the `config` maps of the workload's host interfaces
 * of one package, merged, with unknown keys refused (a typo should fail the start, not be ignored).
 */
import { UsageError } from '../errors.ts';
import type { WitInterface } from '../workload/types.ts';

export function hostInterfaceConfig(
  pluginId: string,
  interfaces: readonly WitInterface[],
  pkg: { namespace: string; package: string },
  knownKeys: readonly string[],
): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const i of interfaces) if (i.namespace === pkg.namespace && i.package === pkg.package) Object.assign(merged, i.config);
  for (const key of Object.keys(merged)) {
    if (!knownKeys.includes(key)) {
      throw new UsageError(`${pluginId}: unknown config key ${JSON.stringify(key)} on ${pkg.namespace}:${pkg.package}`, {
        hint: `known keys: ${knownKeys.join(', ')}`,
      });
    }
  }
  return merged;
}

/** A comma-separated list: entries trimmed, empty ones dropped. */
export function listSetting(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
