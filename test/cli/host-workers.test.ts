// `WorkerHosts`, the one host the washlet of `host --workers n` drives, over scripted workers:
// how the answers of n hosts combine into one (the real processes are in test/washlet/cli.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { WorkerHosts, type HostIdentity } from '../../src/cli/host-workers.ts';
import type { WorkerChannel } from '../../src/cli/workers.ts';
import type { HostHeartbeat, WorkloadState, WorkloadStatus } from '../../src/workload/types.ts';

type Script = (method: string, params: any) => unknown;

/** Workers answering from a script, each keeping the calls it received. */
function workers(...scripts: Script[]): (WorkerChannel & { calls: string[] })[] {
  return scripts.map((script, i) => {
    const calls: string[] = [];
    return {
      number: i + 1,
      pid: 101 + i,
      calls,
      request: async (method: string, params: unknown) => {
        calls.push(method);
        return script(method, params);
      },
    };
  });
}

const status = (workloadState: WorkloadState, message: string): { workloadStatus: WorkloadStatus } => ({ workloadStatus: { workloadId: 'w', workloadState, message } });
const running = () => status('WORKLOAD_STATE_RUNNING', 'running');
const identity: HostIdentity = { id: 'primary-id', hostname: 'box', friendlyName: 'calm-otter-1', labels: { hostgroup: 'g' }, startedAt: '2025-01-01T00:00:00.000Z' };
const hostOf = (ws: WorkerChannel[]) => new WorkerHosts(ws, identity, pino({ level: 'silent' }));
const start = { workloadId: 'w', workload: { name: 'w' } };

test('a start is RUNNING only when every worker runs it', async () => {
  const ws = workers(running, running);
  assert.deepEqual(await hostOf(ws).workloadStart(start), running());
  assert.deepEqual(ws.map((w) => w.calls), [['workloadStart'], ['workloadStart']]);
});

test('a start that fails on one worker is stopped on the others, and the failure names the worker', async () => {
  const ws = workers(
    (m) => (m === 'workloadStart' ? running() : status('WORKLOAD_STATE_COMPLETED', 'stopped')),
    () => status('WORKLOAD_STATE_ERROR', 'start failed: out of memory'),
  );
  const answer = await hostOf(ws).workloadStart(start);
  assert.deepEqual(answer, status('WORKLOAD_STATE_ERROR', 'worker 2 (pid 102): start failed: out of memory (stopped on the workers where it had started)'));
  assert.deepEqual(ws.map((w) => w.calls), [['workloadStart', 'workloadStop'], ['workloadStart']]);
});

test('a start every worker refuses alike is answered as one host would, and nothing is stopped', async () => {
  const refuse = () => status('WORKLOAD_STATE_ERROR', 'workload w is already running; it was left as it is');
  const ws = workers(refuse, refuse);
  assert.deepEqual(await hostOf(ws).workloadStart(start), refuse());
  assert.deepEqual(ws.map((w) => w.calls), [['workloadStart'], ['workloadStart']]);
});

test('a worker that cannot be asked counts as an ERROR of that worker', async () => {
  const ws = workers(running, () => {
    throw new Error('worker 102 ended');
  });
  const answer = await hostOf(ws).workloadStatus({ workloadId: 'w' });
  assert.deepEqual(answer, status('WORKLOAD_STATE_ERROR', 'worker 2 (pid 102): worker 102 ended'));
});

test('status is the least-up state across the workers', async () => {
  const cases: [WorkloadState, WorkloadState, WorkloadState][] = [
    ['WORKLOAD_STATE_RUNNING', 'WORKLOAD_STATE_STARTING', 'WORKLOAD_STATE_STARTING'],
    ['WORKLOAD_STATE_COMPLETED', 'WORKLOAD_STATE_RUNNING', 'WORKLOAD_STATE_RUNNING'],
    ['WORKLOAD_STATE_NOT_FOUND', 'WORKLOAD_STATE_ERROR', 'WORKLOAD_STATE_ERROR'],
    ['WORKLOAD_STATE_RUNNING', 'WORKLOAD_STATE_NOT_FOUND', 'WORKLOAD_STATE_NOT_FOUND'],
  ];
  for (const [a, b, expected] of cases) {
    const answer = await hostOf(workers(() => status(a, 'a'), () => status(b, 'b'))).workloadStatus({ workloadId: 'w' });
    assert.equal(answer.workloadStatus.workloadState, expected, `${a} + ${b}`);
    assert.match(answer.workloadStatus.message, /^worker \d \(pid \d+\): [ab]$/);
  }
  const agreed = await hostOf(workers(running, running)).workloadStatus({ workloadId: 'w' });
  assert.deepEqual(agreed, running());
});

test('stop answers COMPLETED when any worker had the workload, NOT_FOUND when none did', async () => {
  const stopped = () => status('WORKLOAD_STATE_COMPLETED', 'stopped');
  const missing = () => status('WORKLOAD_STATE_NOT_FOUND', 'no workload with id w on this host');
  assert.deepEqual(await hostOf(workers(stopped, missing)).workloadStop({ workloadId: 'w' }), stopped());
  assert.deepEqual(await hostOf(workers(missing, missing)).workloadStop({ workloadId: 'w' }), missing());
});

test("the heartbeat is the primary's identity with one worker's counts and port", async () => {
  const beat = (count: number) => ({ id: 'worker', hostname: 'box', friendlyName: 'other', labels: {}, startedAt: 'x', workloadCount: count, componentCount: count, httpPort: 8080 }) as unknown as HostHeartbeat;
  const ws = workers(() => beat(2), () => beat(2));
  const hb = await hostOf(ws).heartbeat();
  assert.deepEqual(
    { id: hb.id, friendlyName: hb.friendlyName, labels: hb.labels, startedAt: hb.startedAt, workloadCount: hb.workloadCount, componentCount: hb.componentCount, httpPort: hb.httpPort },
    { id: 'primary-id', friendlyName: 'calm-otter-1', labels: { hostgroup: 'g' }, startedAt: identity.startedAt, workloadCount: 2, componentCount: 2, httpPort: 8080 },
  );
  assert.deepEqual(ws.map((w) => w.calls), [['heartbeat'], []]);
});
