// memory.fill and memory.copy done in metered chunks by instrumentation: the same bytes and the
// same traps as the instructions themselves, with the fuel check reached while a large one runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { instrumentModule, HOOK_EXPORTS } from '../../src/engine/limits/instrument.ts';
import { installHooks, wasmHooks } from '../../src/engine/limits/hooks.ts';
import { parse } from '@bytecodealliance/jco';

const PAGES = 160; // 10 MiB: several chunks in one instruction

const WAT = `(module
  (memory (export "mem") ${PAGES})
  (memory (export "other") 2)
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy-across") (param i32 i32 i32) (memory.copy 1 0 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "seed") (local $i i32)
    (loop $l
      (i32.store8 (local.get $i) (i32.mul (local.get $i) (i32.const 31)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const ${PAGES * 65536}))))))`;

type Exports = Record<'fill' | 'copy' | 'copy-across', (a: number, b: number, c: number) => unknown> & {
  seed(): unknown;
  mem: WebAssembly.Memory;
  other: WebAssembly.Memory;
};

interface Pair {
  plain: Exports;
  metered: Exports;
  /** How many times the metered module ran out of fuel. */
  checks(): number;
}

async function pair(): Promise<Pair> {
  const bytes = new Uint8Array(await parse(WAT));
  const plain = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as Exports;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(instrumentModule(bytes))));
  const fuel = instance.exports[HOOK_EXPORTS.fuel] as WebAssembly.Global;
  let checks = 0;
  installHooks(
    instance.exports[HOOK_EXPORTS.hooks] as WebAssembly.Table,
    wasmHooks({
      check: () => {
        checks++;
        fuel.value = 10_000;
        return 0;
      },
      nextTurn: () => Promise.resolve(),
      growMemory: () => -1,
      growTable: () => -1,
      memorySize: () => PAGES,
    }),
  );
  fuel.value = 10_000;
  // The hooks may suspend (JSPI: nextTurn): the metered functions are called as promising ones.
  const promising = (WebAssembly as unknown as { promising(f: unknown): (...args: number[]) => unknown }).promising;
  const metered = { ...instance.exports } as unknown as Exports;
  for (const name of ['fill', 'copy', 'copy-across', 'seed'] as const) metered[name] = promising(instance.exports[name]);
  return { plain, metered, checks: () => checks };
}

const digest = (m: WebAssembly.Memory) => createHash('sha256').update(new Uint8Array(m.buffer)).digest('hex');

/** Runs one call on both modules: both trap or neither, and their memories end equal. */
async function same(p: Pair, name: 'fill' | 'copy' | 'copy-across', ...args: [number, number, number]): Promise<void> {
  const run = async (e: Exports) => {
    try {
      await e[name](...args);
      return 'ok';
    } catch (err) {
      assert.ok(err instanceof WebAssembly.RuntimeError, String(err));
      return err.message;
    }
  };
  assert.equal(await run(p.metered), await run(p.plain), `${name}(${args.join(', ')})`);
  assert.equal(digest(p.metered.mem), digest(p.plain.mem), `memory after ${name}(${args.join(', ')})`);
  assert.equal(digest(p.metered.other), digest(p.plain.other), `second memory after ${name}(${args.join(', ')})`);
}

test('a large memory.fill reaches the fuel check between chunks and writes what the instruction would', async () => {
  const p = await pair();
  await same(p, 'fill', 0, 0xab, PAGES * 65536);
  assert.ok(p.checks() >= 10, `a 10 MiB fill ran out of fuel ${p.checks()} times`);
  await same(p, 'fill', 12345, 7, 3 * 65536 + 17);
});

test('memory.copy of overlapping ranges, either direction and several chunks long, matches the instruction', async () => {
  const p = await pair();
  p.plain.seed();
  await p.metered.seed();
  const mib = 1 << 20;
  await same(p, 'copy', 1000, 0, 3 * mib + 5); // destination above the source: copied back to front
  await same(p, 'copy', 0, 4096, 2 * mib + 1); // below: front to back
  await same(p, 'copy', 5 * mib, 5 * mib, mib); // onto itself
  await same(p, 'copy', 8 * mib, 1 * mib, 2 * mib); // no overlap
  await same(p, 'copy-across', 7, 3 * mib, 65536 + 9); // into the second memory
});

test('out-of-bounds fills and copies trap before writing anything; empty ones at the end do not', async () => {
  const p = await pair();
  const end = PAGES * 65536;
  await same(p, 'fill', end - 100, 1, 101);
  await same(p, 'fill', 0, 1, -1); // 4 GiB - 1 bytes: a length read unsigned
  await same(p, 'fill', end, 1, 0);
  await same(p, 'fill', end + 1, 1, 0);
  await same(p, 'copy', 0, end - 10, 11);
  await same(p, 'copy', end - 10, 0, 11);
  await same(p, 'copy', end, end, 0);
  await same(p, 'copy-across', 2 * 65536 - 3, 0, 4);
});
