import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { configPlugin, INCLUDE_ENVIRONMENT_KEY } from '../../src/plugins/config/index.ts';
import { pluginInterface, type PluginComponent, type PluginWorkload, type WitInterface } from '../../src/plugin/plugin.ts';
import { ManifestError } from '../../src/errors.ts';
import { hosted } from './plugin-harness.ts';

const logger = pino({ level: 'silent' });

function configInterface(text: string, config: Record<string, string>): WitInterface {
  return { ...pluginInterface(text), config };
}

const workload: PluginWorkload = { id: 'w1', namespace: 'default', name: 'app', annotations: {}, interfaces: [], logger };

function component(name: string, parts: Partial<PluginComponent> = {}): PluginComponent {
  return {
    workload,
    name,
    config: {},
    environment: {},
    allowedHosts: [],
    interfaces: [],
    imports: ['wasi:config/store@0.2.0-rc.1'],
    exports: [],
    logger,
    ...parts,
  };
}

interface Store {
  get(key: string): string | undefined;
  getAll(): [string, string][];
}

async function bind(c: PluginComponent, options?: Parameters<typeof configPlugin>[0]) {
  const plugin = hosted(configPlugin(options));
  const impls = (await plugin.onComponentBind!(c))!;
  return {
    store: impls['wasi:config/store@0.2.0-rc.1'] as unknown as Store,
    runtime: impls['wasi:config/runtime@0.2.0-draft'] as unknown as Store,
  };
}

test('declares both wasi:config interfaces under the id wasi-config', () => {
  const plugin = hosted(configPlugin());
  assert.equal(plugin.id, 'wasi-config');
  assert.deepEqual(
    plugin.imports.map((i) => `${i.namespace}:${i.package}/${i.interfaces.join(',')}@${i.version}`),
    ['wasi:config/store@0.2.0-rc.1', 'wasi:config/runtime@0.2.0-draft'],
  );
});

test('store@0.2.0-rc.1 and runtime@0.2.0-draft serve the host interface config by key and in full', async () => {
  const { store, runtime } = await bind(
    component('api', { interfaces: [configInterface('wasi:config/store@0.2.0-rc.1', { b: '2', a: '1' })] }),
  );
  for (const iface of [store, runtime]) {
    assert.equal(iface.get('a'), '1');
    assert.equal(iface.get('missing'), undefined); // ok(none), not an error
    assert.deepEqual(iface.getAll(), [['a', '1'], ['b', '2']]); // sorted by key
  }
});

test("the component's own config wins over the host interface config; keys of both are served", async () => {
  const { store } = await bind(
    component('api', {
      config: { shared: 'component', own: 'yes' },
      interfaces: [configInterface('wasi:config/store@0.2.0-rc.1', { shared: 'interface', other: 'x' })],
    }),
  );
  assert.equal(store.get('shared'), 'component');
  assert.deepEqual(store.getAll(), [['other', 'x'], ['own', 'yes'], ['shared', 'component']]);
});

test('the environment is left out unless included, and then explicit config wins over it', async () => {
  const environment = { HOME_URL: 'env', PORT: '80' };
  const plain = await bind(component('api', { environment }));
  assert.equal(plain.store.get('PORT'), undefined);
  assert.deepEqual(plain.store.getAll(), []);

  const perWorkload = await bind(
    component('api', {
      environment,
      config: { PORT: '8080' },
      interfaces: [configInterface('wasi:config/store@0.2.0-rc.1', { [INCLUDE_ENVIRONMENT_KEY]: 'true' })],
    }),
  );
  assert.equal(perWorkload.store.get('HOME_URL'), 'env');
  assert.equal(perWorkload.store.get('PORT'), '8080');
  // The switch is a setting of the plugin, not a value the guest sees.
  assert.equal(perWorkload.store.get(INCLUDE_ENVIRONMENT_KEY), undefined);

  const byDefault = await bind(component('api', { environment }), { includeEnvironment: true });
  assert.equal(byDefault.store.get('PORT'), '80');
  const optedOut = await bind(
    component('api', { environment, interfaces: [configInterface('wasi:config/store@0.2.0-rc.1', { [INCLUDE_ENVIRONMENT_KEY]: 'false' })] }),
    { includeEnvironment: true },
  );
  assert.equal(optedOut.store.get('PORT'), undefined);
});

test('an include_environment value other than "true" or "false" fails the bind, naming the key', async () => {
  await assert.rejects(
    bind(component('api', { interfaces: [configInterface('wasi:config/store@0.2.0-rc.1', { [INCLUDE_ENVIRONMENT_KEY]: 'yes' })] })),
    (err: unknown) => err instanceof ManifestError && /include_environment/.test(err.message) && /"yes"/.test(err.message),
  );
});

test('each component sees only its own values, and later changes to the inputs do not leak in', async () => {
  const plugin = hosted(configPlugin());
  const shared = configInterface('wasi:config/store@0.2.0-rc.1', { region: 'eu' });
  const apiConfig = { secret: 'api-only' };
  const api = (await plugin.onComponentBind!(component('api', { config: apiConfig, interfaces: [shared] })))!;
  const worker = (await plugin.onComponentBind!(component('worker', { config: { queue: 'jobs' }, interfaces: [shared] })))!;
  const apiStore = api['wasi:config/store@0.2.0-rc.1'] as unknown as Store;
  const workerStore = worker['wasi:config/store@0.2.0-rc.1'] as unknown as Store;
  assert.equal(apiStore.get('secret'), 'api-only');
  assert.equal(workerStore.get('secret'), undefined);
  assert.deepEqual(workerStore.getAll(), [['queue', 'jobs'], ['region', 'eu']]);
  apiConfig.secret = 'changed';
  assert.equal(apiStore.get('secret'), 'api-only');
});

test('getAll hands out a fresh list each time: a caller cannot change the store', async () => {
  const { store } = await bind(component('api', { config: { a: '1' } }));
  store.getAll()[0]![1] = 'tampered';
  store.getAll().push(['b', '2']);
  assert.deepEqual(store.getAll(), [['a', '1']]);
});
