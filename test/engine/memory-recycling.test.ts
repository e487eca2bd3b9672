// Fresh instances on recycled linear memories (src/engine/wasm/import-memory.ts,
// src/engine/canon/memory-pool.ts) and restored instance groups (src/engine/wasm/export-state.ts,
// src/engine/canon/restore.ts): a new instance must find exactly what a fresh one holds,
// whatever the last one wrote, and nothing is handed on while something can still touch it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '@bytecodealliance/jco';
import { Engine, InstanceClosedError, WasiContext, createWasiImports, type CompiledComponent, type Instance } from '../../src/index.ts';
import { IdleMemory, MemoryPool } from '../../src/engine/canon/memory-pool.ts';
import { importMemory, MEMORY_IMPORT } from '../../src/engine/wasm/import-memory.ts';
import { exportState, GLOBAL_EXPORT_PREFIX } from '../../src/engine/wasm/export-state.ts';
import { fixturePath } from '../fixtures/index.ts';

const wat = async (source: string) => (await parse(source)) as Uint8Array;
const SEED_AT = 1024;
const SEED = 0x5eed;

let scratchpad: Promise<CompiledComponent> | undefined;
const component = () => (scratchpad ??= new Engine({ cacheDir: false }).compile(fixturePath('scratchpad')));
const closed = () => new InstanceClosedError('test done');

test('a module defining one memory imports it instead; its data segments still land', async () => {
  const rewritten = importMemory(await wat('(module (memory (export "m") 2 5) (data (i32.const 8) "hi") (func (export "f") (result i32) (i32.load8_u (i32.const 9))))'));
  assert.ok(rewritten);
  assert.deepEqual(rewritten.memory, { initial: 2, maximum: 5 });
  const module = new WebAssembly.Module(rewritten.bytes as Uint8Array<ArrayBuffer>);
  assert.deepEqual(
    WebAssembly.Module.imports(module).map((i) => [i.module, i.name, i.kind]),
    [[MEMORY_IMPORT.module, MEMORY_IMPORT.name, 'memory']],
  );
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 5 });
  const instance = new WebAssembly.Instance(module, { [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory } });
  assert.equal(instance.exports.m, memory, 'the export is the memory the host gave');
  assert.equal((instance.exports.f as () => number)(), 'i'.charCodeAt(0));
});

test('modules that do not fit the simple case are left alone', async () => {
  const cases = {
    'no memory': '(module (func (export "f")))',
    'an imported memory': '(module (import "env" "m" (memory 1)))',
    'two memories': '(module (memory 1) (memory 1))',
    'a shared memory': '(module (memory 1 1 shared))',
    'a 64-bit memory': '(module (memory i64 1))',
  };
  for (const [what, source] of Object.entries(cases)) assert.equal(importMemory(await wat(source)), undefined, what);
});

test('the pool hands back zeroed memories of the right size, drops grown ones, and keeps a bounded number', () => {
  assert.equal(MemoryPool.recyclable({ initial: 65 }), false, 'over 4 MiB: not worth zeroing');
  const pool = new MemoryPool({ initial: 1, maximum: 3 }, new IdleMemory());
  const first = pool.take();
  new Uint8Array(first.buffer).fill(0xab);
  pool.give(first);
  assert.equal(pool.idle, 1);
  const again = pool.take();
  assert.equal(again, first);
  assert.ok(new Uint8Array(again.buffer).every((b) => b === 0), 'zeroed');
  again.grow(1);
  pool.give(again);
  assert.equal(pool.idle, 0, 'a grown memory is not taken back');
  const many = Array.from({ length: 1100 }, () => pool.take());
  for (const m of many) pool.give(m);
  assert.equal(pool.idle, 1024, '64 MiB of idle 64 KiB memories at most per component');
  while (pool.idle > 0) pool.take();
  const big = new MemoryPool({ initial: 65 }, new IdleMemory());
  big.give(big.take());
  assert.equal(big.idle, 0, 'a memory over 4 MiB is not kept zeroed');
});

test('all components together keep at most 256 MiB of idle memories', () => {
  const pools = Array.from({ length: 5 }, () => new MemoryPool({ initial: 64 }, new IdleMemory()));
  const taken = pools.map((pool) => Array.from({ length: 16 }, () => pool.take()));
  pools.forEach((pool, i) => taken[i].forEach((m) => pool.give(m)));
  const idle = pools.reduce((sum, pool) => sum + pool.idle, 0);
  assert.equal(idle, 64, 'sixty-four 4 MiB memories, though each pool would keep sixteen');
  for (const pool of pools) while (pool.idle > 0) pool.take();
});

test('a JavaScript component (a 9 MiB memory) is restored too: no new core instance after the first', async () => {
  const compiled = await new Engine({ cacheDir: false }).compile(fixturePath('greeter'));
  const logged: string[] = [];
  const imports = { 'test:greeter/host': { log: (m: string) => void logged.push(m) } };
  (await compiled.instantiate(imports)).close(closed());
  const { created } = await countingCoreInstances(async () => {
    for (let round = 0; round < 3; round++) {
      const instance = await compiled.instantiate(imports);
      assert.equal(await instance.call('greet', `r${round}`), `Hello, r${round}!`);
      instance.close(closed());
    }
  });
  assert.equal(created, 0);
});

/** Counts the core instances V8 creates while `body` runs. */
async function countingCoreInstances<T>(body: () => Promise<T>): Promise<{ result: T; created: number }> {
  const original = WebAssembly.Instance;
  let created = 0;
  WebAssembly.Instance = new Proxy(original, {
    construct(target, args) {
      created++;
      return Reflect.construct(target, args);
    },
  });
  try {
    return { result: await body(), created };
  } finally {
    WebAssembly.Instance = original;
  }
}

test('a module whose whole state the host can restore gets its mutable globals exported', async () => {
  const memoryImported = async (source: string) => importMemory(await wat(source))!.bytes;
  const state = exportState(
    await memoryImported('(module (memory 1) (global (mut i32) (i32.const 1)) (global i32 (i32.const 2)) (global (mut i64) (i64.const 3)) (data (i32.const 0) "x"))'),
  );
  assert.ok(state);
  assert.deepEqual(state.globals, [`${GLOBAL_EXPORT_PREFIX}0`, `${GLOBAL_EXPORT_PREFIX}2`], 'the mutable ones, by index');
  const module = new WebAssembly.Module(state.bytes as Uint8Array<ArrayBuffer>);
  const instance = new WebAssembly.Instance(module, { [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: new WebAssembly.Memory({ initial: 1 }) } });
  assert.equal((instance.exports[state.globals[1]] as WebAssembly.Global).value, 3n);
  // Imported globals come first in the index space: the defined ones are numbered after them.
  const after = exportState(await wat('(module (import "env" "m" (memory 1)) (import "env" "g" (global (mut i32))) (global (mut i32) (i32.const 5)))'));
  assert.deepEqual(after?.globals, [`${GLOBAL_EXPORT_PREFIX}1`]);

  // What another module of the group provides, and start functions (checked when the group is made), are fine.
  assert.ok(exportState(await memoryImported('(module (memory 1) (func $s) (start $s))')), 'a start function');
  assert.ok(exportState(await wat('(module (import "env" "m" (memory 1)) (import "env" "t" (table 1 funcref)))')), 'an imported memory and table');
  const cases = {
    'its own memory (not imported)': await wat('(module (memory 1))'),
    'a passive data segment': await memoryImported('(module (memory 1) (data "x"))'),
    'a passive element segment': await memoryImported('(module (memory 1) (table 1 funcref) (func $f) (elem func $f))'),
    'a mutable v128 global': await memoryImported('(module (memory 1) (global (mut v128) (v128.const i64x2 0 0)))'),
    'table.set': await memoryImported('(module (memory 1) (table 1 funcref) (func (table.set (i32.const 0) (ref.null func))))'),
    'table.grow': await memoryImported('(module (memory 1) (table 1 funcref) (func (drop (table.grow (ref.null func) (i32.const 1)))))'),
  };
  for (const [what, bytes] of Object.entries(cases)) assert.equal(exportState(bytes), undefined, what);
  assert.ok(exportState(await memoryImported('(module (memory 1) (table 1 funcref) (func $f) (elem (i32.const 0) $f) (elem declare func $f))')), 'active and declarative segments are fine');
});

test('a finished instance serves as the next fresh one: same memory bytes and globals as a new one, no new core instance', async () => {
  const compiled = await component();
  (await compiled.instantiate({})).close(closed()); // the first core instance
  const { created } = await countingCoreInstances(async () => {
    for (let round = 0; round < 5; round++) {
      const instance = await compiled.instantiate({});
      assert.equal(await instance.call('bump'), 8, `round ${round}: the global starts at 7`);
      assert.equal(await instance.call('bump'), 9);
      await instance.call('poke', 4096, 0xdeadbeef);
      instance.close(closed());
    }
  });
  assert.equal(created, 0, 'every round ran on a restored instance');
});

test('an instance that trapped, or was closed by a failure, is never restored: the next one is new', async () => {
  const compiled = await component();
  const { created } = await countingCoreInstances(async () => {
    const trapped = await compiled.instantiate({});
    await trapped.call('bump');
    await assert.rejects(trapped.call('crash'));
    trapped.close(closed());
    const next = await compiled.instantiate({});
    assert.equal(await next.call('bump'), 8);
    next.close(closed());
  });
  assert.ok(created >= 1, 'the trapped instance was not handed on');
});

test('each new instance finds a fresh memory: nothing a finished instance wrote, its data segments anew', async () => {
  const compiled = await component();
  for (let round = 0; round < 20; round++) {
    const instance = await compiled.instantiate({});
    // Every byte but the data segment is zero, as in a memory just allocated.
    for (let offset = 0; offset < 65536; offset += 4) {
      const value = await instance.call('peek', offset);
      if (value !== (offset === SEED_AT ? SEED : 0)) assert.fail(`round ${round}: ${value} at ${offset}`);
    }
    for (let offset = 0; offset < 65536; offset += 4096) await instance.call('poke', offset, 0xdeadbeef);
    await instance.call('poke', SEED_AT, 1);
    instance.close(closed());
  }
});

test('a memory that grew is restored: the next guest sees the first size, and its growth finds zeroed pages', async () => {
  const compiled = await component();
  const grower = await compiled.instantiate({});
  assert.equal(await grower.call('grow', 2), 1);
  assert.equal(await grower.call('pages'), 3);
  await grower.call('poke', 65536 * 2 + 8, 0xdeadbeef);
  grower.close(closed());

  const { result: next, created } = await countingCoreInstances(() => compiled.instantiate({}));
  assert.equal(created, 0, 'the grown instance was restored');
  assert.equal(await next.call('pages'), 1, 'the size a new instance has');
  assert.equal(await next.call('peek', SEED_AT), SEED);
  assert.equal(await next.call('grow', 2), 1, 'growth starts from the first size');
  assert.equal(await next.call('pages'), 3);
  assert.equal(await next.call('peek', 65536 * 2 + 8), 0, 'the pages it grows into are zero');
  next.close(closed());
});

test('a closed instance is never entered again, even through its exports object', async () => {
  const compiled = await component();
  const instance: Instance = await compiled.instantiate({});
  const peek = instance.getFunction('peek');
  instance.close(closed());
  await assert.rejects(instance.call('peek', 0), InstanceClosedError);
  await assert.rejects(Promise.resolve().then(() => peek(0)), InstanceClosedError);
});

test('a group is handed on only when the call suspended in it has ended', async () => {
  // The abi fixture's `relay-u64` asks the host for a u64, and the host answers later.
  const compiled = await new Engine({ cacheDir: false }).compile(fixturePath('abi'));
  let answer!: (value: bigint) => void;
  const imports = (giveU64: () => unknown) => {
    const object: Record<string, Record<string, unknown>> = {};
    for (const [key, members] of compiled.requiredImports) {
      object[key] = Object.fromEntries(members.map((m) => [m, /^[A-Z]/.test(m) ? class {} : () => 0]));
    }
    object['test:abi/host'].giveU64 = giveU64;
    return object;
  };
  const first = await compiled.instantiate(imports(() => new Promise((resolve) => (answer = resolve))));
  const pending = first.call('test:abi/api#relay-u64');
  await new Promise((resolve) => setImmediate(resolve));
  first.close(closed());
  assert.deepEqual(compiled.runtime.idle, { restored: 0, shells: 0 }, 'released while suspended: its group stays with it');

  const second = await compiled.instantiate(imports(() => 7n));
  assert.equal(await second.call('test:abi/api#relay-u64'), 7n, 'the next instance runs on a group of its own');
  second.close(closed());
  assert.deepEqual(compiled.runtime.idle, { restored: 1, shells: 0 });

  answer(2n ** 64n - 1n);
  assert.equal(await pending, 2n ** 64n - 1n, 'the suspended call finishes on its own group');
  assert.deepEqual(compiled.runtime.idle, { restored: 2, shells: 0 }, 'and only then is its group handed on');
  await assert.rejects(first.call('test:abi/api#relay-u64'), InstanceClosedError);
});

test('a component of several core modules (main, preview1 adapter, shim, fixup) is restored whole', async () => {
  const compiled = await new Engine({ cacheDir: false }).compile(fixturePath('c-cli'));
  assert.equal(compiled.plan.coreInstances.length, 4);
  const run = async (args: string[], env: Record<string, string>) => {
    const ctx = new WasiContext({ args: ['c-cli', ...args], env, stdout: 'capture' });
    const instance = await compiled.instantiate(createWasiImports(ctx), { onClose: () => ctx.dispose() });
    const code = await instance.run();
    instance.close(closed());
    return { code, out: ctx.capturedStdout().toString() };
  };
  assert.deepEqual(await run(['args', 'a', 'b'], {}), { code: 0, out: 'a\nb\n' });
  const { result, created } = await countingCoreInstances(async () => {
    const outs = [];
    for (let round = 0; round < 5; round++) outs.push(await run(['env'], { ROUND: String(round) }));
    return outs;
  });
  assert.equal(created, 0, 'no new core instance after the first');
  assert.deepEqual(result.map((r) => r.out), [0, 1, 2, 3, 4].map((n) => `ROUND=${n}\n`), 'each run sees its own environment');
});
