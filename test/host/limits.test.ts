// The limits a workload sets for itself, enforced through the Host API (the engine-level
// mechanism has its own tests in test/engine/limits.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LimitExceededError } from '../../src/errors.ts';
import type { Host } from '../../src/host/host.ts';
import { component, startedHost, workload } from './helpers.ts';

async function spin(host: Host, workloadId: string): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const invocation = host.workload(workloadId)!.invocation('spinner');
  try {
    await invocation.call('spin');
    return { error: undefined, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  } finally {
    await invocation.close();
  }
}

test('localResources.timeout stops a spinning call, per component, and the host keeps serving', async () => {
  const { host } = await startedHost();
  try {
    const spinner = (timeout: string) => component('spinner', 'hostile', { localResources: { timeout } });
    await host.workloadStart({ workloadId: 'short', workload: workload([spinner('300ms')], { name: 'short' }) });
    await host.workloadStart({ workloadId: 'longer', workload: workload([spinner('1.2s')], { name: 'longer' }) });

    // One after the other: a spinning guest holds the event loop until its limit stops it.
    const short = await spin(host, 'short');
    const longer = await spin(host, 'longer');
    for (const [result, ms] of [[short, 300], [longer, 1200]] as const) {
      assert.ok(result.error instanceof LimitExceededError, String(result.error));
      assert.equal(result.error.limit, 'timeout');
      assert.match(result.error.message, /ran past its time limit/);
      assert.ok(result.ms >= ms - 5, `stopped after ${result.ms.toFixed(0)} ms, not before ${ms}`);
    }
    assert.ok(short.ms < 1000, `the short one stopped at ${short.ms.toFixed(0)} ms: each component has its own timeout`);
    assert.equal((await host.workloadStatus({ workloadId: 'short' })).workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING');
  } finally {
    await host.stop();
  }
});
