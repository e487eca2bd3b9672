// Limits on one instance (src/engine/limits): time, CPU, memory, host budget and handles,
// against the hostile fixture. Each attack is stopped with an error that names the limit, and
// the engine goes on running fresh instances.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, LimitExceededError, WasiContext, createWasiImports, type CompiledComponent, type Instance } from '../../src/index.ts';
import { MemoryBudget } from '../../src/engine/limits/budget.ts';
import type { OutputOption } from '../../src/wasi/context.ts';
import { Limiter, type InstanceLimits, type InvocationLimits } from '../../src/engine/limits/limiter.ts';
import { fixturePath } from '../fixtures/index.ts';

const MIB = 2 ** 20;
const engine = new Engine({ cacheDir: false });
let hostile: CompiledComponent;

before(async () => {
  hostile = await engine.compile(fixturePath('hostile'));
});

async function instantiate(limits: InstanceLimits = {}, clocks: InvocationLimits = {}, stdout: OutputOption = 'capture') {
  const ctx = new WasiContext({ stdout });
  const limiter = new Limiter(limits);
  limiter.arm(clocks);
  const instance = await hostile.instantiate(createWasiImports(ctx), { onClose: () => ctx.dispose(), limiter });
  return { instance, limiter, ctx };
}

/** The call fails with this limit; answers the error and how long it took. */
async function stoppedBy(instance: Instance, call: string, limit: string, ...args: unknown[]): Promise<{ err: LimitExceededError; ms: number }> {
  const started = performance.now();
  const err = await instance.call(call, ...args).then(
    () => assert.fail(`${call} returned`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof LimitExceededError, `expected a LimitExceededError, got ${String(err)}`);
  assert.equal(err.limit, limit);
  return { err, ms: performance.now() - started };
}

async function assertEngineCarriesOn(): Promise<void> {
  const { instance } = await instantiate();
  assert.equal(await instance.call('alloc', 1), true);
}

test('spin: a `loop br 0` that never calls the host is stopped at its deadline', { timeout: 10_000 }, async () => {
  const { instance } = await instantiate({}, { timeoutMs: 200 });
  const { err, ms } = await stoppedBy(instance, 'spin', 'timeout');
  assert.match(err.message, /time limit of 200 ms/);
  // The deadline runs from `arm` (before instantiation), so the call itself may take a little less.
  assert.ok(ms < 2000, `stopped after ${ms} ms`);
  // The instance is closed: it is never entered again.
  await assert.rejects(instance.call('alloc', 1), /instance is closed: guest ran past its time limit/);
  await assertEngineCarriesOn();
});

test('spin-calls: a loop of internal calls is stopped too', { timeout: 10_000 }, async () => {
  const { instance } = await instantiate({}, { timeoutMs: 150 });
  await stoppedBy(instance, 'spin-calls', 'timeout');
});

test('cpuLimit: a spinning guest is stopped when its CPU time runs out', { timeout: 10_000 }, async () => {
  const { instance } = await instantiate({}, { cpuMs: 100 });
  const { err, ms } = await stoppedBy(instance, 'spin', 'cpu');
  assert.match(err.message, /CPU time limit of 100 ms/);
  assert.ok(ms < 2000, `stopped after ${ms} ms`);
});

test('a timeout past the range of Node timers is clamped to it, not fired after 1 ms as Node would', { timeout: 10_000 }, async () => {
  const { instance } = await instantiate({}, { timeoutMs: 2 ** 32, cpuMs: 100 });
  // The deadline is ~24.8 days away: the spinner runs until its CPU budget is spent.
  await stoppedBy(instance, 'spin', 'cpu');
});

test('a re-armed limiter gives each invocation its own clock', { timeout: 10_000 }, async () => {
  const { instance, limiter } = await instantiate({}, { timeoutMs: 100 });
  await new Promise((r) => setTimeout(r, 150)); // the first invocation's deadline passes unused
  limiter.arm({ timeoutMs: 5000 });
  assert.equal(await instance.call('alloc', 1), true);
});

test('memory: a memory bomb is refused at its limit and reported as the memory limit', { timeout: 10_000 }, async () => {
  const { instance, limiter } = await instantiate({ memoryBytes: 16 * MIB });
  const { err } = await stoppedBy(instance, 'grow-memory', 'memory');
  assert.match(err.message, /memory limit of 16 MiB/);
  assert.match(err.message, /then trapped/);
  assert.ok(limiter.usedBytes <= 16 * MIB, `uses ${limiter.usedBytes} bytes`);
  await assertEngineCarriesOn();
});

test('memory: a refused growth fails as the spec allows and the guest may go on', async () => {
  const { instance, limiter } = await instantiate({ memoryBytes: 4 * MIB });
  assert.equal(await instance.call('alloc', 1000), false); // 62.5 MiB at once
  assert.equal(limiter.hit?.limit, 'memory');
  assert.equal(await instance.call('alloc', 1), true);
});

test('memory: tables count toward the limit, 8 bytes an element', { timeout: 10_000 }, async () => {
  const { instance, limiter } = await instantiate({ memoryBytes: 4 * MIB });
  const elements = (await instance.call('grow-table')) as number;
  assert.ok(elements > 0 && elements * 8 <= 4 * MIB, `table grew to ${elements} elements`);
  assert.ok(limiter.usedBytes <= 4 * MIB);
});

test('memory: an instance whose initial memory passes the limit does not start', async () => {
  await assert.rejects(instantiate({ memoryBytes: 65536 / 2 }), (err: unknown) => {
    assert.ok(err instanceof LimitExceededError);
    assert.equal(err.limit, 'memory');
    assert.match(err.message, /needs .* to start/);
    return true;
  });
});

test('host budget: instances share the host cap, and memory given back is available again', async () => {
  const budget = new MemoryBudget(24 * MIB);
  const a = await instantiate({ budget });
  const b = await instantiate({ budget });
  assert.equal(await a.instance.call('alloc', 256), true); // 16 MiB
  assert.equal(await b.instance.call('alloc', 256), false);
  assert.equal(b.limiter.hit?.limit, 'host-memory');
  assert.match(b.limiter.hit!.message, /host's guest memory limit of 24 MiB/);
  a.limiter.release(); // a's instance is gone
  assert.equal(await b.instance.call('alloc', 256), true);
  assert.equal(budget.users, 1);
});

test('handles: a guest that never drops its resources is stopped at the cap', { timeout: 20_000 }, async () => {
  const { instance } = await instantiate({ maxResourceHandles: 500 });
  assert.equal(await instance.call('hoard', 400), undefined);
  const { err } = await stoppedBy(instance, 'hoard', 'resource-handles', 200);
  assert.match(err.message, /more than 500 live handles/);
});

test('output flood: a guest writing stdout forever is stopped at its deadline', { timeout: 10_000 }, async () => {
  let bytes = 0;
  const { instance } = await instantiate({}, { timeoutMs: 300 }, (chunk: Uint8Array) => {
    bytes += chunk.length;
  });
  await stoppedBy(instance, 'flood-stdout', 'timeout');
  assert.ok(bytes > 0, 'the guest wrote before it was stopped');
});
