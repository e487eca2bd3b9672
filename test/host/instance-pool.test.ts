// The warm-instance pool's reclaiming: idle instances beyond the last window's peak in use are
// closed, never below reclaimMinInstances. The pool sees its instances only through
// InvocationScope's lifecycle (arm, reusable, close), so these scopes stand in for instances.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { InstancePool, type PoolOptions } from '../../src/host/instance-pool.ts';
import type { InvocationScope } from '../../src/host/invocation.ts';
import { eventually } from './helpers.ts';

function counted(options: PoolOptions) {
  const made = { created: 0, closed: 0 };
  const create = () => {
    made.created++;
    let closed = false;
    return {
      root: 'c',
      reusable: true,
      awaitingTurn: false,
      arm() {},
      instance: async () => undefined,
      call: async () => undefined,
      close: async () => {
        if (!closed) made.closed++;
        closed = true;
      },
    } as unknown as InvocationScope;
  };
  return { pool: new InstancePool(create, options), made };
}

test('a quiet pool is reclaimed down to reclaimMinInstances, a busy one keeps its peak', async () => {
  const { pool, made } = counted({ poolSize: 6, maxInvocations: 0, reclaimWindowSeconds: 1, reclaimMinInstances: 1 });
  await pool.warm();
  assert.equal(pool.idle, 6);

  // Three at once during the first window: the next reclaim keeps three.
  const burst = [pool.take(), pool.take(), pool.take()];
  await Promise.all(burst.map((i) => i.close()));
  // Polled, not slept: timers run late on a loaded machine, and each window is a second apart.
  await eventually(() => (pool.idle < 6 ? true : undefined), 5000);
  assert.equal(pool.idle, 3, 'the peak of the last window (3) stays warm');
  assert.equal(made.closed, 3);

  // A window with nothing in use: down to the minimum.
  await eventually(() => (pool.idle < 3 ? true : undefined), 5000);
  assert.equal(pool.idle, 1);
  assert.equal(made.closed, 5);

  // A new burst instantiates what it needs again, and the pool grows back to poolSize at most.
  const again = Array.from({ length: 8 }, () => pool.take());
  await Promise.all(again.map((i) => i.close()));
  assert.equal(pool.idle, 6);
  assert.equal(made.created, 6 + 7);
  await pool.close();
  assert.equal(pool.idle, 0);
});

test('instances in use are never reclaimed, and count toward what is kept', async () => {
  const { pool, made } = counted({ poolSize: 4, maxInvocations: 0, reclaimWindowSeconds: 1, reclaimMinInstances: 0 });
  await pool.warm();
  const held = [pool.take(), pool.take()];
  await eventually(() => (pool.idle < 2 ? true : undefined), 5000);
  // Peak 2, 2 in use: no idle one is needed.
  assert.equal(pool.idle, 0);
  assert.equal(made.closed, 2);
  await Promise.all(held.map((i) => i.close()));
  assert.equal(pool.idle, 2, 'the held ones come back warm');
  await pool.close();
});

test('without reclaimWindowSeconds a pool keeps poolSize instances however quiet', async () => {
  const { pool, made } = counted({ poolSize: 3, maxInvocations: 0 });
  await pool.warm();
  await sleep(1200);
  assert.equal(pool.idle, 3);
  assert.equal(made.closed, 0);
  await pool.close();
});
