// Plugins through the host: a user's own plugin for their own WIT interface (the README's
// example), the binding rules, and a bind that throws (everything unbound, host healthy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pluginInterface, type Plugin, type PluginComponent } from '../../src/plugin/plugin.ts';
import { component, startedHost, workload } from './helpers.ts';

/** The README's example: serves `test:calc/host` (`ping: func()`), counting pings per component. */
function pingCounter(): Plugin & { pings: Map<string, number> } {
  const pings = new Map<string, number>();
  return {
    id: 'ping-counter',
    imports: [pluginInterface('test:calc/host')],
    pings,
    onComponentBind(component: PluginComponent) {
      const key = `${component.workload.id}/${component.name}`;
      return {
        'test:calc/host': {
          ping: () => void pings.set(key, (pings.get(key) ?? 0) + 1),
        },
      };
    },
    onWorkloadUnbind(workloadId: string) {
      for (const key of pings.keys()) if (key.startsWith(`${workloadId}/`)) pings.delete(key);
    },
  };
}

const calcHost = { namespace: 'test', package: 'calc', interfaces: ['host'], version: '' };

test("a user's plugin serves their own interface to the components that declare it", async () => {
  const plugin = pingCounter();
  const { host } = await startedHost(plugin);
  try {
    const spec = workload([component('calc', 'calc')], { witWorld: { components: [component('calc', 'calc')], hostInterfaces: [calcHost] } });
    const status = (await host.workloadStart({ workloadId: 'p', workload: spec })).workloadStatus;
    assert.equal(status.workloadState, 'WORKLOAD_STATE_RUNNING', status.message);
    const invocation = host.workload('p')!.invocation('calc');
    await invocation.call('ping-host', 3);
    assert.equal(await invocation.call('add', 2, 3), 5);
    await invocation.close();
    assert.equal(plugin.pings.get('p/calc'), 3);
    await host.workloadStop({ workloadId: 'p' });
    assert.equal(plugin.pings.size, 0, 'unbind cleaned up');
  } finally {
    await host.stop();
  }
});

test('an undeclared interface is not bound: the error says which plugin would serve it', async () => {
  const { host } = await startedHost(pingCounter());
  try {
    const status = (await host.workloadStart({ workloadId: 'u', workload: workload([component('calc', 'calc')]) })).workloadStatus;
    assert.equal(status.workloadState, 'WORKLOAD_STATE_ERROR');
    assert.match(status.message, /component "calc" imports test:calc\/host, which nothing serves/);
    assert.match(status.message, /plugin "ping-counter" serves it: declare "test:calc\/host" in witWorld\.hostInterfaces/);
  } finally {
    await host.stop();
  }
});

test('a declared interface no plugin serves fails the workload naming it and the component', async () => {
  const { host } = await startedHost();
  try {
    const spec = { ...workload([]), witWorld: { components: [component('calc', 'calc')], hostInterfaces: [calcHost] } };
    const status = (await host.workloadStart({ workloadId: 'n', workload: spec })).workloadStatus;
    assert.equal(status.workloadState, 'WORKLOAD_STATE_ERROR');
    assert.match(status.message, /component "calc" needs test:calc\/host, which no plugin of this host serves/);
  } finally {
    await host.stop();
  }
});

test('hooks run in order: workload bind once, component bind per component that needs it, resolved, unbind', async () => {
  const calls: string[] = [];
  const recorder: Plugin = {
    id: 'recorder',
    imports: [pluginInterface('test:calc/host')],
    onWorkloadBind: (w) => void calls.push(`workload-bind ${w.id} ${w.interfaces.length}`),
    onComponentBind: (c) => {
      calls.push(`component-bind ${c.name}`);
      return { 'test:calc/host': { ping() {} } };
    },
    onWorkloadResolved: (w) => void calls.push(`resolved ${w.components.map((c) => c.name).join(',')}`),
    onWorkloadUnbind: (id) => void calls.push(`unbind ${id}`),
  };
  const { host } = await startedHost(recorder);
  try {
    const spec = {
      ...workload([]),
      witWorld: { components: [component('calc-1', 'calc'), component('callee', 'chain-callee'), component('calc-2', 'calc')], hostInterfaces: [calcHost] },
    };
    await host.workloadStart({ workloadId: 'h', workload: spec });
    await host.workloadStop({ workloadId: 'h' });
    assert.deepEqual(calls, ['workload-bind h 1', 'component-bind calc-1', 'component-bind calc-2', 'resolved calc-1,callee,calc-2', 'unbind h']);
  } finally {
    await host.stop();
  }
});

test('a plugin whose bind throws fails the start; every plugin bound so far is unbound; the host goes on', async () => {
  const unbound: string[] = [];
  const good = { ...pingCounter(), onWorkloadUnbind: (id: string) => void unbound.push(`good ${id}`) };
  const bad: Plugin = {
    id: 'bad',
    imports: [pluginInterface('test:chain/store@1.0.0')],
    onComponentBind: () => {
      throw new Error('backend unreachable');
    },
    onWorkloadUnbind: (id) => void unbound.push(`bad ${id}`),
  };
  const { host } = await startedHost(good, bad);
  try {
    const spec = {
      ...workload([]),
      witWorld: {
        components: [component('calc', 'calc'), component('middle', 'chain-middle')],
        hostInterfaces: [calcHost, { namespace: 'test', package: 'chain', interfaces: ['store'], version: '1.0.0' }],
      },
    };
    const status = (await host.workloadStart({ workloadId: 'b', workload: spec })).workloadStatus;
    assert.equal(status.workloadState, 'WORKLOAD_STATE_ERROR');
    assert.match(status.message, /plugin "bad": onComponentBind for component "middle" failed: backend unreachable/);
    assert.deepEqual(unbound.sort(), ['bad b', 'good b']);
    // The host still starts workloads.
    const ok = { ...workload([]), witWorld: { components: [component('calc', 'calc')], hostInterfaces: [calcHost] } };
    assert.equal((await host.workloadStart({ workloadId: 'ok', workload: ok })).workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING');
  } finally {
    await host.stop();
  }
});
