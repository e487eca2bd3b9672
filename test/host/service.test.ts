// A workload's service: a long-running wasi:cli/run calling a linked component, restarted on a
// fresh instance up to maxRestarts, stopped with its workload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loggingPlugin } from '../../src/plugins/logging/index.ts';
import { fixturePath } from '../fixtures/index.ts';
import { component, eventually, startedHost, type LogEntry } from './helpers.ts';

const logging = { namespace: 'wasi', package: 'logging', interfaces: ['logging'], version: '0.1.0-draft' };

function tickerWorkload(env: Record<string, string>, maxRestarts = 0) {
  return {
    namespace: 'test',
    name: 'ticking',
    service: { file: fixturePath('apps-service'), maxRestarts, localResources: { environment: env } },
    witWorld: {
      components: [component('ticker', 'apps-ticker', { localResources: { environment: { OFFSET: '7' } } })],
      hostInterfaces: [logging],
    },
  };
}

const serviceLines = (entries: LogEntry[]) => entries.filter((e) => e.component === 'service' && e.context === 'service').map((e) => e.msg);

test('the service runs and calls its linked component periodically', async () => {
  const { host, entries } = await startedHost(loggingPlugin());
  try {
    const status = (await host.workloadStart({ workloadId: 's', workload: tickerWorkload({ TICKS: '3', INTERVAL_MS: '5' }) })).workloadStatus;
    assert.equal(status.workloadState, 'WORKLOAD_STATE_RUNNING', status.message);
    await eventually(() => (host.workloadStatus({ workloadId: 's' }).workloadStatus.message === 'service exited with code 0' ? true : undefined));
    assert.deepEqual(serviceLines(entries), ['start', 'tick 1 -> 17', 'tick 2 -> 27', 'tick 3 -> 37']);
    // The ticker is still there for other callers: the workload stays RUNNING.
    assert.equal(host.workloadStatus({ workloadId: 's' }).workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING');
  } finally {
    await host.stop();
  }
});

test('a failing service is restarted on fresh instances up to maxRestarts, then the workload is in ERROR', async () => {
  const { host, entries } = await startedHost(loggingPlugin());
  try {
    await host.workloadStart({ workloadId: 'f', workload: tickerWorkload({ TICKS: '1', INTERVAL_MS: '1', EXIT_CODE: '3' }, 2) });
    const status = await eventually(() => {
      const s = host.workloadStatus({ workloadId: 'f' }).workloadStatus;
      return s.workloadState === 'WORKLOAD_STATE_ERROR' ? s : undefined;
    });
    assert.match(status.message, /service failed: exited with code 3 \(restarted 2 of 2 times\)/);
    // Three runs, each from the start: a fresh instance every time.
    assert.deepEqual(serviceLines(entries), ['start', 'tick 1 -> 17', 'start', 'tick 1 -> 17', 'start', 'tick 1 -> 17']);
  } finally {
    await host.stop();
  }
});

test('a service that traps is restarted too, and the trap is reported', async () => {
  const { host, entries } = await startedHost(loggingPlugin());
  try {
    await host.workloadStart({ workloadId: 't', workload: tickerWorkload({ TICKS: '5', INTERVAL_MS: '1', TRAP_AT: '2' }, 1) });
    const status = await eventually(() => {
      const s = host.workloadStatus({ workloadId: 't' }).workloadStatus;
      return s.workloadState === 'WORKLOAD_STATE_ERROR' ? s : undefined;
    });
    assert.match(status.message, /service failed: guest trapped/);
    assert.deepEqual(serviceLines(entries), ['start', 'tick 1 -> 17', 'start', 'tick 1 -> 17']);
  } finally {
    await host.stop();
  }
});

test('a service-only workload that exits 0 is COMPLETED', async () => {
  const { host } = await startedHost();
  try {
    const spec = {
      namespace: 'test',
      name: 'once',
      service: { file: fixturePath('cli-app'), localResources: { environment: { CLI_APP_ARGS: 'exit 0' } } },
      witWorld: { components: [] },
    };
    await host.workloadStart({ workloadId: 'once', workload: spec });
    const status = await eventually(() => {
      const s = host.workloadStatus({ workloadId: 'once' }).workloadStatus;
      return s.workloadState === 'WORKLOAD_STATE_COMPLETED' ? s : undefined;
    });
    assert.equal(status.message, 'service exited with code 0');
  } finally {
    await host.stop();
  }
});

test('stopping the workload stops its service: no tick after the stop answered', async () => {
  const { host, entries } = await startedHost(loggingPlugin());
  try {
    await host.workloadStart({ workloadId: 'forever', workload: tickerWorkload({ INTERVAL_MS: '10' }) });
    await eventually(() => (serviceLines(entries).length >= 3 ? true : undefined));
    await host.workloadStop({ workloadId: 'forever' });
    const seen = serviceLines(entries).length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(serviceLines(entries).length, seen);
    assert.equal(host.workloadStatus({ workloadId: 'forever' }).workloadStatus.workloadState, 'WORKLOAD_STATE_NOT_FOUND');
  } finally {
    await host.stop();
  }
});
