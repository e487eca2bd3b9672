/**
 * The one composition of the built-in plugins, for the CLI (`serve`, `up`, `dev`, `host`) and
 * embedders alike. Development: memory backends, or files under `dataDir`. Production: NATS for
 * key-value, blobstore and messaging, or PostgreSQL for key-value and blobstore, chosen by name
 * from each capability's registry; `wasmcloud:postgres` when a PostgreSQL URL is given (its
 * client loads only then). A built-in plugin is one line of `PLUGINS` below.
 */
import type { Plugin } from '../plugin/plugin.ts';
import { blobstorePlugin } from './blobstore/plugin.ts';
import { configPlugin } from './config/plugin.ts';
import { keyValuePlugin } from './keyvalue/plugin.ts';
import { loggingPlugin } from './logging/plugin.ts';
import { messagingPlugin } from './messaging/plugin.ts';
import type { BackendResources } from './shared/backends.ts';
import type { WebGpuPluginOptions } from './webgpu/plugin.ts';

export interface DefaultPluginsOptions {
  mode: 'development' | 'production';
  /** Development: key-value and blobstore on disk under this folder (in memory when absent). */
  dataDir?: string;
  /** Production: the data NATS connection (yours to close). */
  nats?: BackendResources['nats'];
  /** Production: PostgreSQL, for `wasmcloud:postgres` (`url`) and for key-value or blobstore when chosen (`pool`, yours to end). */
  postgres?: { url: string; pool?: BackendResources['postgres'] };
  /** Backend names (`memory`, `filesystem`, `nats`, `postgres`); by default the mode's. */
  keyvalue?: string;
  blobstore?: string;
  messaging?: string;
  /**
   * `wasi:webgpu` (its plugin and the `webgpu` package load only when asked): `'auto'` serves it
   * when a GPU adapter (or SwiftShader) can be obtained; `true` or plugin options serve it always
   * (workloads declaring it fail with the reason when there is none); default off.
   */
  webgpu?: 'auto' | boolean | WebGpuPluginOptions;
}

interface Composition {
  options: DefaultPluginsOptions;
  resources: BackendResources;
  production: boolean;
}

/** The built-in plugins in order, each made from the composition (undefined: not on this host). */
const PLUGINS: ((c: Composition) => Plugin | undefined | Promise<Plugin | undefined>)[] = [
  // As the reference's cluster host, production takes a component's environment as part of its config.
  ({ production }) => configPlugin(production ? { includeEnvironment: true } : {}),
  () => loggingPlugin(),
  // A workload may name another backend (its interface's config `backend`): made from the same resources.
  (c) => keyValuePlugin({ backend: c.options.keyvalue ?? storageDefault(c), resources: c.resources }),
  (c) => blobstorePlugin({ backend: c.options.blobstore ?? storageDefault(c), resources: c.resources }),
  (c) => messagingPlugin({ backend: c.options.messaging ?? (c.production ? 'nats' : 'memory'), resources: c.resources }),
  // Loaded only when asked for: embedding the core never loads a PostgreSQL client.
  async (c) => (c.options.postgres ? (await import('./postgres/plugin.ts')).postgresPlugin({ url: c.options.postgres.url }) : undefined),
  async ({ options: { webgpu } }) => {
    if (!webgpu) return undefined;
    const plugin = (await import('./webgpu/plugin.ts')).webgpuPlugin(typeof webgpu === 'object' ? webgpu : {});
    if (webgpu !== 'auto') return plugin;
    return plugin.probe().then(
      () => plugin,
      () => undefined,
    );
  },
];

function storageDefault({ production, options }: Composition): string {
  return production ? 'nats' : options.dataDir ? 'filesystem' : 'memory';
}

export async function defaultPlugins(options: DefaultPluginsOptions): Promise<Plugin[]> {
  const composition: Composition = {
    options,
    resources: { dataDir: options.dataDir, nats: options.nats, postgres: options.postgres?.pool },
    production: options.mode === 'production',
  };
  const plugins: Plugin[] = [];
  for (const make of PLUGINS) {
    const plugin = await make(composition);
    if (plugin) plugins.push(plugin);
  }
  return plugins;
}
