import type { PluginComponent } from '../../plugin/plugin.ts';
import { ManifestError } from '../../errors.ts';

/**
 * The host interface config key that copies the component's environment into its config
 * (`"true"` or `"false"`); it overrides the plugin's `includeEnvironment` option for that workload
 * and is not itself a config value.
 */
export const INCLUDE_ENVIRONMENT_KEY = 'include_environment';

/**
 * One component's config values. Lowest to highest precedence:
 *   1. the component's environment (`localResources.environment`), only when included;
 *   2. the `config` maps of the workload's `wasi:config` host interfaces (shared by the workload);
 *   3. the component's own `localResources.config` (the most specific, so it wins).
 */
export function configValues(component: PluginComponent, includeEnvironmentByDefault: boolean): Map<string, string> {
  const shared: Record<string, string> = {};
  for (const iface of component.interfaces) {
    if (iface.namespace === 'wasi' && iface.package === 'config') Object.assign(shared, iface.config);
  }
  const includeEnvironment = parseSwitch(shared[INCLUDE_ENVIRONMENT_KEY], includeEnvironmentByDefault);
  delete shared[INCLUDE_ENVIRONMENT_KEY];
  return new Map(
    Object.entries({
      ...(includeEnvironment ? component.environment : {}),
      ...shared,
      ...component.config,
    }),
  );
}

function parseSwitch(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ManifestError([
    {
      path: `hostInterfaces[wasi:config].config.${INCLUDE_ENVIRONMENT_KEY}`,
      message: `must be "true" or "false", got ${JSON.stringify(value)}`,
    },
  ]);
}
