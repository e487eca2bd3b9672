// The Host API: heartbeat, start / status / stop with the reference's states and messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { HostBuilder } from '../../src/host/host.ts';
import { pluginInterface, type Plugin } from '../../src/plugin/plugin.ts';
import { UsageError } from '../../src/errors.ts';
import { fixturePath } from '../fixtures/index.ts';
import { component, engine, memoryLogger, startedHost, workload } from './helpers.ts';
import type { WorkloadInput } from '../../src/workload/types.ts';

const plugin = (id: string): Plugin => ({ id, imports: [pluginInterface('test:calc/host')] });

test('a second plugin with the same id is refused', () => {
  assert.throws(() => new HostBuilder().withPlugin(plugin('p')).withPlugin(plugin('p')).build(), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /two plugins have the id "p"/);
    return true;
  });
});

test('the heartbeat carries every field with real values', async () => {
  const { logger } = memoryLogger();
  const host = new HostBuilder()
    .withEngine(engine)
    .withLogger(logger)
    .withHostname('box-1')
    .withLabel('hostgroup', 'edge')
    .withPlugin({ ...plugin('calc-host'), exports: [pluginInterface('test:calc/callback@1.0.0')] })
    .build();
  await host.start();
  try {
    await host.workloadStart({ workloadId: 'w1', workload: workload([component('calc', 'calc')]) });
    const hb = host.heartbeat();
    assert.deepEqual(Object.keys(hb).sort(), [
      'componentCount', 'environment', 'exports', 'friendlyName', 'hostname', 'httpPort', 'id', 'imports', 'labels', 'osArch', 'osKernel',
      'osName', 'startedAt', 'systemCpuUsage', 'systemMemoryFree', 'systemMemoryTotal', 'version', 'workloadCount',
    ]);
    assert.match(hb.id, /^[0-9a-f-]{36}$/);
    assert.equal(hb.hostname, 'box-1');
    assert.match(hb.friendlyName, /^[a-z]+-[a-z]+-\d{4}$/, 'generated when not given');
    assert.deepEqual(hb.labels, { hostgroup: 'edge' });
    assert.equal(hb.version, '0.1.0');
    assert.ok(!Number.isNaN(Date.parse(hb.startedAt)));
    assert.equal(hb.osArch, ({ x64: 'x86_64', arm64: 'aarch64' } as Record<string, string>)[os.arch()] ?? os.arch());
    assert.equal(hb.osName, 'linux');
    assert.equal(hb.osKernel, os.release());
    assert.ok(hb.systemCpuUsage >= 0 && hb.systemCpuUsage <= 100);
    assert.equal(hb.systemMemoryTotal, os.totalmem());
    assert.ok(hb.systemMemoryFree > 0 && hb.systemMemoryFree <= hb.systemMemoryTotal);
    assert.equal(hb.workloadCount, 0, 'calc imports test:calc/host, not declared: the start failed');
    assert.deepEqual(hb.imports, [{ namespace: 'test', package: 'calc', interfaces: ['host'], version: '', config: {} }]);
    assert.deepEqual(hb.exports, [{ namespace: 'test', package: 'calc', interfaces: ['callback'], version: '1.0.0', config: {} }]);
    assert.equal(hb.httpPort, 0, 'no HTTP handler yet');
  } finally {
    await host.stop();
  }
});

test('start, status, stop: RUNNING, then STOPPING on stop, then NOT_FOUND; counts follow', async () => {
  const { host } = await startedHost();
  try {
    const started = await host.workloadStart({ workloadId: 'w', workload: workload([component('callee', 'chain-callee')]) });
    assert.deepEqual(started.workloadStatus, { workloadId: 'w', workloadState: 'WORKLOAD_STATE_RUNNING', message: 'running' });
    assert.equal(host.workloadStatus({ workloadId: 'w' }).workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING');
    assert.equal(host.heartbeat().workloadCount, 1);
    assert.equal(host.heartbeat().componentCount, 1);
    const stopped = await host.workloadStop({ workloadId: 'w' });
    assert.equal(stopped.workloadStatus.workloadState, 'WORKLOAD_STATE_STOPPING');
    assert.equal(host.workloadStatus({ workloadId: 'w' }).workloadStatus.workloadState, 'WORKLOAD_STATE_NOT_FOUND');
    assert.equal(host.heartbeat().workloadCount, 0);
  } finally {
    await host.stop();
  }
});

test('a stop while the workload starts answers STOPPING at once; the start then ends NOT_FOUND and the id is freed', async () => {
  let release!: (bytes: Uint8Array) => void;
  const pulled = new Promise<Uint8Array>((resolve) => (release = resolve));
  const host = new HostBuilder().withEngine(engine).withLogger(memoryLogger().logger).withImageFetcher({ fetch: () => pulled }).build();
  await host.start();
  try {
    const starting = host.workloadStart({ workloadId: 's', workload: { name: 's', witWorld: { components: [{ name: 'pure', image: 'registry.test/pure:1' }] } } });
    assert.equal(host.workloadStatus({ workloadId: 's' }).workloadStatus.workloadState, 'WORKLOAD_STATE_STARTING');
    assert.deepEqual((await host.workloadStop({ workloadId: 's' })).workloadStatus, {
      workloadId: 's',
      workloadState: 'WORKLOAD_STATE_STOPPING',
      message: 'stopping once its start ends',
    });
    assert.equal(host.workloadStatus({ workloadId: 's' }).workloadStatus.workloadState, 'WORKLOAD_STATE_STOPPING');
    const again = await host.workloadStart({ workloadId: 's', workload: workload([component('pure', 'pure')]) });
    assert.match(again.workloadStatus.message, /already stopping/);
    release(await readFile(fixturePath('pure')));
    assert.equal((await starting).workloadStatus.workloadState, 'WORKLOAD_STATE_NOT_FOUND');
    for (let i = 0; i < 100 && host.workloadStatus({ workloadId: 's' }).workloadStatus.workloadState !== 'WORKLOAD_STATE_NOT_FOUND'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(host.workloadStatus({ workloadId: 's' }).workloadStatus.workloadState, 'WORKLOAD_STATE_NOT_FOUND');
    assert.equal(host.heartbeat().workloadCount, 0);
  } finally {
    await host.stop();
  }
});

test('unknown ids answer NOT_FOUND for status and stop', async () => {
  const { host } = await startedHost();
  try {
    assert.deepEqual(host.workloadStatus({ workloadId: 'nope' }).workloadStatus, {
      workloadId: 'nope',
      workloadState: 'WORKLOAD_STATE_NOT_FOUND',
      message: 'no workload with id nope on this host',
    });
    assert.equal((await host.workloadStop({ workloadId: 'nope' })).workloadStatus.workloadState, 'WORKLOAD_STATE_NOT_FOUND');
  } finally {
    await host.stop();
  }
});

test('starting an id that is running is refused and leaves the running workload untouched', async () => {
  const { host } = await startedHost();
  try {
    await host.workloadStart({ workloadId: 'dup', workload: workload([component('callee', 'chain-callee')]) });
    const again = await host.workloadStart({ workloadId: 'dup', workload: workload([component('other', 'missing-import')]) });
    assert.equal(again.workloadStatus.workloadState, 'WORKLOAD_STATE_ERROR');
    assert.match(again.workloadStatus.message, /workload dup is already running; it was left as it is/);
    assert.equal(host.workloadStatus({ workloadId: 'dup' }).workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING');
    const invocation = host.workload('dup')!.invocation('callee');
    const store = (await invocation.instance('callee')).getFunction('test:chain/store@1.0.0#whoami');
    assert.equal(await store(), 'callee:<unset>');
    await invocation.close();
  } finally {
    await host.stop();
  }
});

test('a failed workload can be started again under its id, and the host stays healthy', async () => {
  const { host } = await startedHost();
  try {
    const failed = await host.workloadStart({ workloadId: 'again', workload: workload([component('x', 'missing-import')]) });
    assert.equal(failed.workloadStatus.workloadState, 'WORKLOAD_STATE_ERROR');
    const ok = await host.workloadStart({ workloadId: 'again', workload: workload([component('callee', 'chain-callee')]) });
    assert.equal(ok.workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING');
  } finally {
    await host.stop();
  }
});

test('invalid workloads answer ERROR naming each bad field', async () => {
  const { host } = await startedHost();
  try {
    // Off the wire or out of JSON: nothing here is typed, so the host must check it all.
    const bad: unknown = {
      namespace: 'test',
      name: 'bad',
      witWorld: {
        components: [{ name: 'c', file: '/nope.wasm', localResources: { memoryLimitMb: 'lots' } }],
        hostInterfaces: [{ namespace: 'wasi', package: 'keyvalue', interfaces: [], version: '0.2.0-draft' }],
      },
      colour: 'blue',
    };
    const status = (await host.workloadStart({ workloadId: 'bad', workload: bad as WorkloadInput })).workloadStatus;
    assert.equal(status.workloadState, 'WORKLOAD_STATE_ERROR');
    assert.match(status.message, /^invalid workload: /);
    assert.match(status.message, /witWorld\.components\[0\]\.localResources\.memoryLimitMb/);
    assert.match(status.message, /witWorld\.hostInterfaces\[0\]\.interfaces/);
    assert.match(status.message, /colour/);
    const empty = (await host.workloadStart({ workloadId: '', workload: workload([]) })).workloadStatus;
    assert.match(empty.message, /workloadId must be a non-empty string/);
  } finally {
    await host.stop();
  }
});

test('a component file that does not exist, or is not a component, fails naming the component', async () => {
  const { host } = await startedHost();
  try {
    const missing = await host.workloadStart({ workloadId: 'm', workload: workload([{ name: 'ghost', file: '/no/such.wasm' }]) });
    assert.match(missing.workloadStatus.message, /component "ghost": cannot read \/no\/such\.wasm: no such file/);
    const junk = await host.workloadStart({
      workloadId: 'j',
      workload: workload([{ name: 'junk', bytes: new TextEncoder().encode('not wasm at all') }]),
    });
    assert.equal(junk.workloadStatus.workloadState, 'WORKLOAD_STATE_ERROR');
    assert.match(junk.workloadStatus.message, /component "junk": .*not a WebAssembly/i);
    const image = await host.workloadStart({ workloadId: 'i', workload: workload([{ name: 'img', image: 'ghcr.io/x/y:1' }]) });
    assert.match(image.workloadStatus.message, /component "img": cannot pull image ghcr\.io\/x\/y:1: this host has no OCI client/);
  } finally {
    await host.stop();
  }
});

test('a component given as bytes (the embedding API) runs like one from a file', async () => {
  const { host } = await startedHost();
  try {
    const bytes = await readFile(fixturePath('chain-callee'));
    const status = (await host.workloadStart({ workloadId: 'b', workload: workload([{ name: 'callee', bytes }]) })).workloadStatus;
    assert.equal(status.workloadState, 'WORKLOAD_STATE_RUNNING', status.message);
    const invocation = host.workload('b')!.invocation('callee');
    assert.equal(await invocation.call('test:chain/store@1.0.0#whoami'), 'callee:<unset>');
    await invocation.close();
  } finally {
    await host.stop();
  }
});

test('stop never hangs on a plugin that does not stop; the others still stop', async () => {
  let stopped = false;
  const { host, entries } = await startedHost(
    { id: 'stuck', imports: [], stop: () => new Promise(() => {}) },
    { id: 'fine', imports: [], stop: () => void (stopped = true) },
  );
  const hostStop = host.stop();
  await hostStop;
  assert.equal(stopped, true);
  assert.ok(entries.some((e) => e.plugin === 'stuck' && /timed out/.test(e.msg)));
});
