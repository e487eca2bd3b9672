// Components of one workload linked to each other: the chain entry -> middle -> callee with a
// resource crossing both boundaries, lazy instantiation, own environments, and the failures
// (unserved import, cycle, ambiguous exporter, version mismatch).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Host } from '../../src/host/host.ts';
import { component, startedHost, workload } from './helpers.ts';
import type { WorkloadInput } from '../../src/workload/types.ts';

let host: Host;
before(async () => ({ host } = await startedHost()));
after(() => host.stop());

const chain = () =>
  workload([
    component('entry', 'chain-entry'),
    component('middle', 'chain-middle', { localResources: { environment: { NAME: 'm' } } }),
    component('callee', 'chain-callee', { localResources: { environment: { NAME: 'c' } } }),
  ]);

async function start(id: string, spec: WorkloadInput) {
  return (await host.workloadStart({ workloadId: id, workload: spec })).workloadStatus;
}

test('a three-component chain links, a resource crosses two boundaries, each sees its own environment', async () => {
  const status = await start('chain', chain());
  assert.equal(status.workloadState, 'WORKLOAD_STATE_RUNNING', status.message);
  const invocation = host.workload('chain')!.invocation('entry');
  try {
    // make(5) builds the counter in the callee through middle (5 + 100), bump adds 2.
    assert.equal(await invocation.call('go', 5), '107,107,middle:m/callee:c');
    assert.deepEqual(invocation.instantiated, ['entry', 'middle', 'callee']);
  } finally {
    await invocation.close();
  }
  await host.workloadStop({ workloadId: 'chain' });
});

test('linked components are instantiated lazily, once per invocation, at their first call', async () => {
  await start('lazy', chain());
  const running = host.workload('lazy')!;
  const first = running.invocation('entry');
  await first.instance('entry');
  assert.deepEqual(first.instantiated, ['entry']);
  // counter-via-open only needs the callee: the middle is never instantiated.
  assert.equal(await first.call('counter-via-open', 5), 10);
  assert.deepEqual(first.instantiated, ['entry', 'callee']);
  assert.equal(await first.call('counter-via-open', 1), 6);
  assert.deepEqual(first.instantiated, ['entry', 'callee']);
  await first.close();
  // A new invocation starts from fresh instances: the callee's state is not shared.
  const second = running.invocation('entry');
  assert.equal(await second.call('go', 0), '102,102,middle:m/callee:c');
  await second.close();
  await assert.rejects(first.call('go', 0), /closed/);
  await host.workloadStop({ workloadId: 'lazy' });
});

test('environments do not leak between components: a component without NAME sees none', async () => {
  const spec = chain();
  spec.witWorld!.components![2].localResources = {};
  await start('env', spec);
  const invocation = host.workload('env')!.invocation('entry');
  assert.equal(await invocation.call('go', 1), '103,103,middle:m/callee:<unset>');
  await invocation.close();
  await host.workloadStop({ workloadId: 'env' });
});

test('an import nothing serves fails the start, naming the component and the interface', async () => {
  const status = await start('missing', workload([component('lonely', 'missing-import')]));
  assert.equal(status.workloadState, 'WORKLOAD_STATE_ERROR');
  assert.match(status.message, /component "lonely" imports acme:missing\/thing@1\.0\.0, which nothing serves/);
  assert.equal(host.workloadStatus({ workloadId: 'missing' }).workloadStatus.workloadState, 'WORKLOAD_STATE_ERROR');
});

test('a chain without its callee names what the middle lacks', async () => {
  const status = await start('no-callee', workload([component('entry', 'chain-entry'), component('middle', 'chain-middle')]));
  assert.equal(status.workloadState, 'WORKLOAD_STATE_ERROR');
  assert.match(status.message, /component "entry" imports test:chain\/store@1\.0\.0, which nothing serves/);
});

test('components importing each other are a cycle, named in order', async () => {
  const status = await start('cycle', workload([component('a', 'cycle-a'), component('b', 'cycle-b')]));
  assert.equal(status.workloadState, 'WORKLOAD_STATE_ERROR');
  assert.match(status.message, /cycle: "a" -> "b" -> "a"/);
});

test('two exporters of an imported interface are ambiguous; unimported, they are fine', async () => {
  const both = workload([
    component('middle', 'chain-middle'),
    component('callee-1', 'chain-callee'),
    component('callee-2', 'chain-callee'),
  ]);
  const status = await start('ambiguous', both);
  assert.equal(status.workloadState, 'WORKLOAD_STATE_ERROR');
  assert.match(status.message, /imports test:chain\/store@1\.0\.0, which 2 components export: "callee-1", "callee-2"/);

  const unimported = workload([component('callee-1', 'chain-callee'), component('callee-2', 'chain-callee')]);
  assert.equal((await start('two-callees', unimported)).workloadState, 'WORKLOAD_STATE_RUNNING');
  await host.workloadStop({ workloadId: 'two-callees' });
});

test('resolution is deterministic: the same workload gives the same error every time', async () => {
  const messages = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const spec = workload([component('b', 'cycle-b'), component('a', 'cycle-a')]);
    messages.add((await start(`cycle-${i}`, spec)).message);
  }
  assert.equal(messages.size, 1);
  assert.match([...messages][0], /cycle: "b" -> "a" -> "b"/);
});
