import { pluginInterface, type Plugin, type PluginComponent } from '../../plugin/plugin.ts';
import { configValues } from './values.ts';

export interface ConfigPluginOptions {
  /**
   * Copy each component's environment into its config unless the workload's host interface says
   * otherwise (`include_environment`). Default false: config and environment stay apart.
   */
  includeEnvironment?: boolean;
}

const STORE = 'wasi:config/store@0.2.0-rc.1';
/** The interface older guests import: the same functions, its error variant named `config-error`. */
const RUNTIME = 'wasi:config/runtime@0.2.0-draft';

/**
 * Serves `wasi:config/store` (and the older `wasi:config/runtime`) from memory: each component
 * sees a snapshot of its own values taken at bind time (see `configValues` for precedence).
 */
export function configPlugin(options: ConfigPluginOptions = {}): Plugin {
  const includeEnvironment = options.includeEnvironment ?? false;
  return {
    id: 'wasi-config',
    imports: [pluginInterface(STORE), pluginInterface(RUNTIME)],
    onComponentBind(component: PluginComponent) {
      const store = configStore(configValues(component, includeEnvironment));
      return { [STORE]: store, [RUNTIME]: store };
    },
  };
}

/** Both interfaces' functions. The in-memory store has no upstream, so neither ever errs. */
function configStore(values: ReadonlyMap<string, string>) {
  const sorted = [...values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    get: (key: string): string | undefined => values.get(key),
    getAll: (): [string, string][] => sorted.map(([k, v]) => [k, v]),
  };
}
