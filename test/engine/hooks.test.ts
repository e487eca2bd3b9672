// The fuel check of instrumented code, called where the guest may be suspended and where it may
// not: V8 throws SuspendError for any call of a suspending import with no WebAssembly.promising
// on the stack (a cabi_realloc or post-return the host calls directly), whatever it answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '@bytecodealliance/jco';
import { HOOK_EXPORTS, instrumentModule } from '../../src/engine/limits/instrument.ts';
import { installHooks, wasmHooks } from '../../src/engine/limits/hooks.ts';

const WAT = `(module
  (func (export "spin") (param $n i32)
    (loop $l (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br_if $l (local.get $n)))))`;

const promising = (WebAssembly as unknown as { promising(f: unknown): (...args: number[]) => Promise<unknown> }).promising;

async function spinner(yieldAnswer: () => number) {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(instrumentModule(new Uint8Array(await parse(WAT))))));
  const fuel = instance.exports[HOOK_EXPORTS.fuel] as WebAssembly.Global;
  const counts = { checks: 0, turns: 0 };
  installHooks(
    instance.exports[HOOK_EXPORTS.hooks] as WebAssembly.Table,
    wasmHooks({
      check: () => {
        counts.checks++;
        fuel.value = 1000;
        return yieldAnswer();
      },
      nextTurn: () => {
        counts.turns++;
        return new Promise((resolve) => setImmediate(resolve));
      },
      growMemory: () => -1,
      growTable: () => -1,
      memorySize: () => 0,
    }),
  );
  fuel.value = 1000;
  return { spin: instance.exports.spin as (n: number) => void, counts };
}

test('a fuel check that does not yield runs in code called without promising (no SuspendError)', async () => {
  const { spin, counts } = await spinner(() => 0);
  spin(10_000);
  assert.ok(counts.checks >= 9, `${counts.checks} checks`);
  assert.equal(counts.turns, 0);
});

test('a fuel check that yields suspends the guest until the next turn, and it then goes on', async () => {
  const { spin, counts } = await spinner(() => 1);
  let ticks = 0;
  const ticking = setInterval(() => ticks++, 0);
  try {
    await promising(spin)(10_000);
  } finally {
    clearInterval(ticking);
  }
  assert.ok(counts.turns >= 9, `${counts.turns} turns`);
  assert.equal(counts.turns, counts.checks);
  assert.ok(ticks > 0, 'the event loop ran while the guest was suspended');
});
