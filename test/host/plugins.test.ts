// Plugins through the host: a user's own plugin for their own WIT interface (the README's
// example), the binding rules, and a bind that throws (everything unbound, host healthy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pluginInterface, type Plugin, type PluginComponent } from '../../src/plugin/plugin.ts';
import { component, startedHost, workload } from './helpers.ts';

/**
 * The README's example: serves `test:calc/host` (`ping: func()`), counting pings per component in
 * its per-workload state. `pings` is the test's window on those states (workload id -> the state
 * the host holds for it); the plugin itself keeps nothing.
 */
function pingCounter(): Plugin<Map<string, number>> & { pings: Map<string, Map<string, number>> } {
  const pings = new Map<string, Map<string, number>>();
  return {
    id: 'ping-counter',
    imports: [pluginInterface('test:calc/host')],
    pings,
    onWorkloadBind(workload) {
      const counts = new Map<string, number>(); // component -> pings: this workload's state
      pings.set(workload.id, counts);
      return counts;
    },
    onComponentBind(component: PluginComponent, counts) {
      return {
        'test:calc/host': {
          ping: () => void counts.set(component.name, (counts.get(component.name) ?? 0) + 1),
        },
      };
    },
    onWorkloadUnbind(_workload, counts) {
      counts.clear();
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
    assert.equal(plugin.pings.get('p')!.get('calc'), 3);
    await host.workloadStop({ workloadId: 'p' });
    assert.equal(plugin.pings.get('p')!.size, 0, 'unbind cleaned up');
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
    onWorkloadUnbind: (w) => void calls.push(`unbind ${w.id}`),
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
  const good: Plugin<Map<string, number>> = { ...pingCounter(), onWorkloadUnbind: (w) => void unbound.push(`good ${w.id}`) };
  const bad: Plugin = {
    id: 'bad',
    imports: [pluginInterface('test:chain/store@1.0.0')],
    onComponentBind: () => {
      throw new Error('backend unreachable');
    },
    onWorkloadUnbind: (w) => void unbound.push(`bad ${w.id}`),
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

test('the state a workload bind answers is the one its component binds, resolve and unbind receive; replicas are counted', async () => {
  const seen: string[] = [];
  const stateful: Plugin<{ workload: string }> = {
    id: 'stateful',
    imports: [pluginInterface('test:calc/host')],
    onWorkloadBind: (w) => ({ workload: w.id }),
    onComponentBind: (c, state) => {
      seen.push(`component ${c.name} of ${state.workload}`);
      return { 'test:calc/host': { ping() {} } };
    },
    onWorkloadResolved: (w, state) => void seen.push(`resolved ${w.id} with ${state.workload}`),
    onWorkloadUnbind: (w, state) => void seen.push(`unbind ${w.id} with ${state.workload}, last replica: ${w.lastReplica}`),
  };
  const { host } = await startedHost(stateful);
  try {
    const spec = { ...workload([]), witWorld: { components: [component('calc', 'calc')], hostInterfaces: [calcHost] } };
    await host.workloadStart({ workloadId: 'r1', workload: spec });
    await host.workloadStart({ workloadId: 'r2', workload: spec });
    await host.workloadStop({ workloadId: 'r1' });
    await host.workloadStop({ workloadId: 'r2' });
    assert.deepEqual(seen, [
      'component calc of r1',
      'resolved r1 with r1',
      'component calc of r2',
      'resolved r2 with r2',
      'unbind r1 with r1, last replica: false',
      'unbind r2 with r2, last replica: true',
    ]);
  } finally {
    await host.stop();
  }
});
