// Volumes: hostPath (must exist) and emptyDir (fresh, removed at stop), mounts per component
// (and the service's own), readOnly enforced, nothing visible that was not mounted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Host } from '../../src/host/host.ts';
import { fixturePath } from '../fixtures/index.ts';
import { eventually, startedHost, type LogEntry } from './helpers.ts';
import type { LocalResourcesInput, Volume, WorkloadInput } from '../../src/workload/types.ts';

let host: Host;
let entries: LogEntry[];
let shared: string;

before(async () => {
  ({ host, entries } = await startedHost());
  shared = await mkdtemp(join(tmpdir(), 'wasmhost-volumes-test-'));
  await writeFile(join(shared, 'a.txt'), 'from the host\n');
});
after(async () => {
  await host.stop();
  await rm(shared, { recursive: true, force: true });
});

/** Runs cli-app as the workload's service with `command`, waits for its end, returns the status and its output. */
async function runService(id: string, command: string, mounts: LocalResourcesInput['volumeMounts'], volumes: Volume[]) {
  const spec: WorkloadInput = {
    namespace: 'test',
    name: id,
    service: { file: fixturePath('cli-app'), localResources: { environment: { CLI_APP_ARGS: command }, volumeMounts: mounts } },
    witWorld: { components: [] },
    volumes,
  };
  const started = (await host.workloadStart({ workloadId: id, workload: spec })).workloadStatus;
  if (started.workloadState !== 'WORKLOAD_STATE_RUNNING') return { status: started, stdout: '', stderr: '' };
  const status = await eventually(() => {
    const s = host.workloadStatus({ workloadId: id }).workloadStatus;
    return s.workloadState === 'WORKLOAD_STATE_RUNNING' ? undefined : s;
  });
  const output = (stream: string) => entries.filter((e) => e.workloadId === id && e.stream === stream).map((e) => e.msg).join('\n');
  return { status, stdout: output('stdout'), stderr: output('stderr') };
}

const data = (readOnly: boolean) => [{ name: 'data', mountPath: '/data', readOnly }];
const hostPath = () => [{ name: 'data', hostPath: { localPath: shared } }];

test('a hostPath volume is readable at its mount path', async () => {
  const { status, stdout } = await runService('read', 'read /data/a.txt', data(true), hostPath());
  assert.equal(status.workloadState, 'WORKLOAD_STATE_COMPLETED', status.message);
  assert.equal(stdout, 'from the host');
});

test('a readOnly mount refuses writes, and the host directory is unchanged', async () => {
  const { status, stderr } = await runService('ro', 'write /data/b.txt nope', data(true), hostPath());
  assert.equal(status.workloadState, 'WORKLOAD_STATE_ERROR');
  assert.match(stderr, /error: \/data\/b\.txt: (read-only|not-permitted|access)/);
  assert.equal(existsSync(join(shared, 'b.txt')), false);
});

test('a writable mount writes through to the host directory', async () => {
  const { status } = await runService('rw', 'write /data/c.txt written by the guest', data(false), hostPath());
  assert.equal(status.workloadState, 'WORKLOAD_STATE_COMPLETED', status.message);
  assert.equal(await readFile(join(shared, 'c.txt'), 'utf8'), 'written by the guest');
});

test('without a mount the guest sees no files at all', async () => {
  const { status, stderr } = await runService('none', 'read /data/a.txt', [], hostPath());
  assert.equal(status.workloadState, 'WORKLOAD_STATE_ERROR');
  assert.match(stderr, /no preopened directory contains this path/);
});

test('an emptyDir is fresh, writable, and removed when the workload stops', async () => {
  const before = new Set(await readdir(tmpdir()));
  const { status } = await runService('scratch', 'write /scratch/x.txt temp', [{ name: 'tmp', mountPath: '/scratch' }], [{ name: 'tmp', emptyDir: {} }]);
  assert.equal(status.workloadState, 'WORKLOAD_STATE_COMPLETED', status.message);
  const created = (await readdir(tmpdir())).filter((n) => !before.has(n) && n.startsWith('wasmhost-scratch-tmp-'));
  assert.equal(created.length, 1);
  assert.equal(await readFile(join(tmpdir(), created[0], 'x.txt'), 'utf8'), 'temp');
  await host.workloadStop({ workloadId: 'scratch' });
  assert.equal(existsSync(join(tmpdir(), created[0])), false);
});

test('a hostPath that does not exist fails the start, naming the volume and the path', async () => {
  const { status } = await runService('bad', 'ls /data', data(true), [{ name: 'data', hostPath: { localPath: '/no/such/dir' } }]);
  assert.equal(status.workloadState, 'WORKLOAD_STATE_ERROR');
  assert.match(status.message, /volume "data": host path \/no\/such\/dir does not exist/);
});

test('a hostPath that is a file fails the start', async () => {
  const { status } = await runService('file', 'ls /data', data(true), [{ name: 'data', hostPath: { localPath: join(shared, 'a.txt') } }]);
  assert.match(status.message, /volume "data": host path .*a\.txt is not a directory/);
});

test('a mount of an undeclared volume is a manifest error naming the field', async () => {
  const { status } = await runService('undeclared', 'ls /x', [{ name: 'ghost', mountPath: '/x' }], []);
  assert.equal(status.workloadState, 'WORKLOAD_STATE_ERROR');
  assert.match(status.message, /service\.localResources\.volumeMounts\[0\]\.name.*no volume named "ghost"/);
});
