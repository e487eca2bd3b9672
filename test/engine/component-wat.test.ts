// The component-WAT fixtures (test/fixtures/README.md, "Component WAT fixtures"): whole components
// written in component text, run by wasmhost's Engine. `encodings` checks every string encoding
// of the canonical ABI (utf8, utf16, latin1+utf16) both ways between host and guest; `composed`
// a statically composed component (two instances of one nested provider, a consumer) with
// strings transcoded between guests and a guest-defined resource created, borrowed, moved and
// dropped across components; `composed-ls` a composed command that lends a WASI descriptor from
// one inner component to another. Expected values are what the README says (checked with jco,
// and for latin1+utf16, which jco cannot run, against CanonicalABI.md's own algorithms).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Engine,
  InstanceClosedError,
  TrapError,
  WasiContext,
  createWasiImports,
  type CompiledComponent,
  type Instance,
  type WasiOptions,
} from '../../src/index.ts';
import { fixturePath } from '../fixtures/index.ts';

const engine = new Engine({ cacheDir: false });

const compiled = new Map<string, Promise<CompiledComponent>>();
function compile(name: string): Promise<CompiledComponent> {
  let c = compiled.get(name);
  if (!c) compiled.set(name, (c = engine.compile(fixturePath(name))));
  return c;
}

const TAG = 0x80000000;
const hex = (bytes: unknown) => Buffer.from(bytes as Uint8Array).toString('hex');
const list = (values: unknown) => Array.from(values as Iterable<unknown>);

// --- encodings -----------------------------------------------------------------------------------

const ENCODINGS = ['utf8', 'utf16', 'latin1-utf16'] as const;
type Encoding = (typeof ENCODINGS)[number];
const TEXTS = ['café', '20 €', '𝄞 clef', '', 'naïve'];

/** A fresh encodings instance whose host `echo` answers `<s>` and records what it was given. */
async function encodings(): Promise<{ instance: Instance; seen: string[] }> {
  const seen: string[] = [];
  const instance = await (await compile('encodings')).instantiate({
    'test:enc/host': {
      echo: (s: string) => {
        seen.push(s);
        return `<${s}>`;
      },
    },
  });
  return { instance, seen };
}

/** The length the canonical ABI hands a guest for `s` in each encoding. */
function lengthIn(encoding: Encoding, s: string): number {
  if (encoding === 'utf8') return Buffer.byteLength(s, 'utf8');
  if (encoding === 'utf16') return s.length;
  return [...s].every((c) => c.codePointAt(0)! < 0x100) ? s.length : (s.length | TAG) >>> 0;
}

const SAMPLES = ['', 'a', 'café', '20 €', '𝄞 clef', 'naïve', 'ÿ', 'Ā', 'éĀ', '\u{10FFFF}\u0000end'];


test('encodings: text-* hand out the data segment in each encoding', async () => {
  const { instance } = await encodings();
  for (const e of ENCODINGS) {
    for (let n = 0; n < TEXTS.length; n++) assert.equal(await instance.call(`text-${e}`, n), TEXTS[n], `text-${e}(${n})`);
  }
});

test('encodings: the lengths a guest is given are exact in each encoding (latin1+utf16 tagged)', async () => {
  const { instance } = await encodings();
  // The README's examples, spelled out.
  const expected: Array<[string, number, number, number]> = [
    ['café', 5, 4, 4],
    ['20 €', 6, 4, 0x80000004],
    ['𝄞', 4, 2, 0x80000002],
    ['ÿ', 2, 1, 1],
    ['Ā', 2, 1, 0x80000001],
    ['', 0, 0, 0],
  ];
  for (const [s, utf8, utf16, latin1] of expected) {
    assert.deepEqual(
      [await instance.call('units-utf8', s), await instance.call('units-utf16', s), await instance.call('units-latin1-utf16', s)],
      [utf8, utf16, latin1],
      `units of ${JSON.stringify(s)}`,
    );
  }
  for (const e of ENCODINGS) {
    for (const s of SAMPLES) assert.equal(await instance.call(`units-${e}`, s), lengthIn(e, s), `units-${e}(${JSON.stringify(s)})`);
  }
});

test('encodings: the bytes a guest is given are exact in each encoding', async () => {
  const { instance } = await encodings();
  assert.equal(hex(await instance.call('bytes-utf8', '€')), 'e282ac');
  assert.equal(hex(await instance.call('bytes-utf16', 'café')), '630061006600e900');
  assert.equal(hex(await instance.call('bytes-utf16', '𝄞')), '34d81edd');
  assert.equal(hex(await instance.call('bytes-latin1-utf16', 'café')), '636166e9');
  assert.equal(hex(await instance.call('bytes-latin1-utf16', 'éĀ')), 'e9000001');
  assert.equal(hex(await instance.call('bytes-latin1-utf16', '')), '');
  for (const s of SAMPLES) {
    assert.equal(hex(await instance.call('bytes-utf8', s)), Buffer.from(s, 'utf8').toString('hex'), `bytes-utf8(${JSON.stringify(s)})`);
    assert.equal(hex(await instance.call('bytes-utf16', s)), Buffer.from(s, 'utf16le').toString('hex'), `bytes-utf16(${JSON.stringify(s)})`);
    const latin1 = lengthIn('latin1-utf16', s) & TAG ? Buffer.from(s, 'utf16le') : Buffer.from(s, 'latin1');
    assert.equal(hex(await instance.call('bytes-latin1-utf16', s)), latin1.toString('hex'), `bytes-latin1-utf16(${JSON.stringify(s)})`);
  }
});

test('encodings: echo-* give back what they were given, in each encoding, 70000 characters included', async () => {
  const { instance } = await encodings();
  const long = 'é€𝄞x'.repeat(14000); // 70000 UTF-16 code units: the guest's memory grows
  for (const e of ENCODINGS) {
    for (const s of [...SAMPLES, long, 'x'.repeat(70000)]) {
      assert.equal(await instance.call(`echo-${e}`, s), s, `echo-${e}(${JSON.stringify(s.slice(0, 12))}, ${s.length} units)`);
    }
  }
});

test('encodings: send-* pass the guest\'s own texts to the host and return its answers', async () => {
  const { instance, seen } = await encodings();
  const units: Record<Encoding, number[]> = {
    utf8: [7, 8, 11, 2, 8],
    utf16: [6, 6, 9, 2, 7],
    'latin1-utf16': [6, 0x80000006, 0x80000009, 2, 7],
  };
  for (const e of ENCODINGS) {
    for (let n = 0; n < TEXTS.length; n++) {
      seen.length = 0;
      assert.equal(await instance.call(`send-${e}`, n), `<${TEXTS[n]}>`, `send-${e}(${n})`);
      assert.deepEqual(seen, [TEXTS[n]], `the host's echo, lowered ${e}, given text ${n}`);
      seen.length = 0;
      assert.equal(await instance.call(`send-units-${e}`, n), units[e][n], `send-units-${e}(${n})`);
      assert.deepEqual(seen, [TEXTS[n]]);
    }
  }
});

test('encodings: relay-* hand the host the string as received and return its answer', async () => {
  const { instance, seen } = await encodings();
  for (const e of ENCODINGS) {
    for (const s of SAMPLES) {
      seen.length = 0;
      assert.equal(await instance.call(`relay-${e}`, s), `<${s}>`, `relay-${e}(${JSON.stringify(s)})`);
      assert.deepEqual(seen, [s]);
    }
  }
});

test('encodings: list<string> in utf16 and latin1+utf16, both ways', async () => {
  const { instance } = await encodings();
  assert.deepEqual(list(await instance.call('texts-utf16')), TEXTS);
  assert.deepEqual(list(await instance.call('reverse-utf16', ['a', 'é€', '', '𝄞'])), ['𝄞', '', 'é€', 'a']);
  assert.deepEqual(list(await instance.call('reverse-utf16', [])), []);
  assert.deepEqual(list(await instance.call('units-list-latin1-utf16', ['café', '€', '', '𝄞', 'ÿ'])), [4, 0x80000001, 0, 0x80000002, 1]);
});

test('encodings: records with a string field in latin1+utf16, both ways', async () => {
  const { instance } = await encodings();
  for (let n = 0; n < TEXTS.length; n++) {
    assert.deepEqual(await instance.call('entry-latin1-utf16', n), { id: n, text: TEXTS[n] }, `entry-latin1-utf16(${n})`);
  }
  assert.deepEqual(await instance.call('measure-latin1-utf16', { id: 7, text: 'café' }), { id: 7, units: 4, text: 'café' });
  assert.deepEqual(await instance.call('measure-latin1-utf16', { id: 8, text: '20 €' }), { id: 8, units: 0x80000004, text: '20 €' });
  assert.deepEqual(await instance.call('measure-latin1-utf16', { id: 9, text: '' }), { id: 9, units: 0, text: '' });
});

test('encodings: post-return runs once after each export answering through memory, and only those', async () => {
  const { instance } = await encodings();
  assert.equal(await instance.call('post-returns'), 0);
  await instance.call('text-utf8', 0);
  await instance.call('echo-utf16', 'x');
  await instance.call('units-utf8', 'x'); // a u32: no post-return
  await instance.call('bytes-latin1-utf16', 'x');
  assert.equal(await instance.call('post-returns'), 3);
  await instance.call('send-units-latin1-utf16', 1); // no post-return either
  await instance.call('texts-utf16');
  await instance.call('entry-latin1-utf16', 2);
  assert.equal(await instance.call('post-returns'), 5);
});

test('encodings: text n > 4 is a trap that closes the instance', async () => {
  const { instance } = await encodings();
  await assert.rejects(instance.call('text-utf16', 5), TrapError);
  await assert.rejects(instance.call('text-utf8', 0), InstanceClosedError);
});

// --- composed ------------------------------------------------------------------------------------


async function composed(): Promise<Instance> {
  return (await compile('composed')).instantiate({});
}

type Cell = { get(): unknown; set(v: number): unknown; [Symbol.dispose](): unknown };
type CellClass = new (v: number) => Cell;

/** An exported provider interface of the composed instance, by its full name. */
function providerOf(instance: Instance, name: 'test:composed/provider' | 'test:composed/spare') {
  const iface = instance.exports[name] as Record<string, unknown> | undefined;
  assert.ok(iface, `expected an export ${name}, got ${Object.keys(instance.exports).join(', ')}`);
  return iface as { Cell: CellClass } & Record<string, unknown>;
}

const counters = async (instance: Instance) => [await instance.call('live'), await instance.call('dropped')];

test('composed: strings cross from the consumer (utf8) to the provider (utf16) and back', async () => {
  const instance = await composed();
  for (const [s, units, bytes] of [
    ['', 0, 4],
    ['café', 4, 9],
    ['20 €', 4, 10],
    ['𝄞 clef', 7, 13],
    ['naïve', 5, 10],
  ] as const) {
    assert.equal(await instance.call('units', s), units, `units(${JSON.stringify(s)})`);
    assert.equal(await instance.call('wrap-utf8', s), `«${s}»`);
    assert.equal(await instance.call('wrap-units-utf8', s), bytes, `wrap-units-utf8(${JSON.stringify(s)})`);
  }
  assert.equal(await instance.call('motto-utf8'), 'café € 𝄞');
  assert.equal(await instance.call('motto-units-utf8'), 14);
});

test('composed: strings cross from a latin1+utf16 consumer to the utf16 provider and back', async () => {
  const instance = await composed();
  for (const [s, units] of [
    ['', 2],
    ['a', 3],
    ['café', 6],
    ['naïve', 7],
    ['ÿ', 3],
    ['20 €', 0x80000006],
    ['𝄞 clef', 0x80000009],
    ['Ā', 0x80000003],
  ] as const) {
    assert.equal(await instance.call('wrap-latin1-utf16', s), `«${s}»`, `wrap-latin1-utf16(${JSON.stringify(s)})`);
    assert.equal(await instance.call('wrap-units-latin1-utf16', s), units, `wrap-units-latin1-utf16(${JSON.stringify(s)})`);
  }
  assert.equal(await instance.call('motto-latin1-utf16'), 'café € 𝄞');
  assert.equal(await instance.call('motto-units-latin1-utf16'), 0x80000009);
});

test('composed: cells made by the consumer are borrowed, moved back as own and dropped; the destructor runs', async () => {
  const instance = await composed();
  assert.deepEqual(await counters(instance), [0, 0]);
  assert.equal(await instance.call('cell-get', 7), 7);
  assert.deepEqual(await counters(instance), [0, 1], 'the consumer dropped its handle: destroyed');
  assert.deepEqual(list(await instance.call('cell-update', 5)), [10, 11]);
  assert.deepEqual(await counters(instance), [0, 2], 'consume: the provider dropped the cell it was given');

  assert.equal(await instance.call('hold', 1), 1);
  assert.equal(await instance.call('hold', 2), 2);
  assert.equal(await instance.call('hold', 3), 3);
  assert.deepEqual(await counters(instance), [3, 2], 'held cells stay alive across calls');
  assert.equal(await instance.call('sum-held'), 6);
  assert.equal(await instance.call('sum-held'), 6, 'borrowing does not consume');
  assert.equal(await instance.call('consume-held'), 6);
  assert.deepEqual(await counters(instance), [0, 5]);
  assert.equal(await instance.call('sum-held'), 0);

  assert.equal(await instance.call('hold', 10), 1);
  assert.equal(await instance.call('hold', 20), 2);
  assert.equal(await instance.call('drop-held'), 2);
  assert.deepEqual(await counters(instance), [0, 7]);
  assert.equal(await instance.call('drop-held'), 0);
});

test('composed: the host uses $p1 through the exported interface, sharing its counters with the consumer', async () => {
  const instance = await composed();
  const provider = providerOf(instance, 'test:composed/provider');
  const cell = await new provider.Cell(40);
  assert.equal(await cell.get(), 40);
  assert.deepEqual(await counters(instance), [1, 0]);
  assert.equal(await instance.call('hold', 1), 1);
  assert.equal(await instance.call('test:composed/provider#live'), 2);
  assert.equal(await instance.call('test:composed/provider#peek', cell), 40);
  await cell.set(41);
  assert.equal(await cell.get(), 41);
  assert.equal(await instance.call('test:composed/provider#consume', cell), 41);
  assert.deepEqual(await counters(instance), [1, 1]);
  await assert.rejects(async () => cell.get(), 'the host\'s handle moved to $p1 with consume');
  const other = await new provider.Cell(3);
  await other[Symbol.dispose]();
  assert.deepEqual(await counters(instance), [1, 2], 'disposing the host\'s handle runs the destructor');
  assert.equal(await instance.call('drop-held'), 1);
  assert.deepEqual(await counters(instance), [0, 3]);
  assert.equal(await instance.call('test:composed/provider#units', '𝄞'), 2);
  assert.equal(await instance.call('test:composed/provider#wrap', 'x'), '«x»');
  assert.equal(await instance.call('test:composed/provider#motto'), 'café € 𝄞');
});

test('composed: the second provider instance ($p2, exported as spare) has its own state', async () => {
  const instance = await composed();
  const spare = providerOf(instance, 'test:composed/spare');
  assert.deepEqual([await instance.call('test:composed/spare#live'), await instance.call('test:composed/spare#dropped')], [0, 0]);
  const cell = await new spare.Cell(50);
  assert.equal(await instance.call('test:composed/spare#live'), 1);
  assert.deepEqual(await counters(instance), [0, 0], '$p1 knows nothing of it');
  assert.equal(await instance.call('cell-get', 1), 1);
  assert.deepEqual([await instance.call('test:composed/spare#live'), await instance.call('test:composed/spare#dropped')], [1, 0]);
  assert.equal(await instance.call('test:composed/spare#consume', cell), 50);
  assert.deepEqual([await instance.call('test:composed/spare#live'), await instance.call('test:composed/spare#dropped')], [0, 1]);
  assert.deepEqual(await counters(instance), [0, 1]);
});

test('composed: a spare cell is not a provider cell (two instances, two resource types)', async () => {
  const instance = await composed();
  const provider = providerOf(instance, 'test:composed/provider');
  const spare = providerOf(instance, 'test:composed/spare');
  // A live $p1 cell at the same address as the spare one, so that only a type check can tell.
  const mine = await new provider.Cell(1);
  const theirs = await new spare.Cell(2);
  await assert.rejects(instance.call('test:composed/provider#peek', theirs));
  void mine;
});

// --- composed-ls ----------------------------------------------------------------------------------

const scratch = mkdtempSync(join(tmpdir(), 'wasmhost-composed-ls-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function directory(name: string, files: string[], dirs: string[] = []): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(join(dir, f), f);
  for (const d of dirs) mkdirSync(join(dir, d));
  return dir;
}

async function ls(options: WasiOptions, runs = 1): Promise<{ codes: number[]; stdout: string }> {
  const ctx = new WasiContext({ stdout: 'capture', ...options });
  try {
    const instance = await (await compile('composed-ls')).instantiate(createWasiImports(ctx));
    const codes: number[] = [];
    for (let i = 0; i < runs; i++) codes.push(await instance.run());
    return { codes, stdout: ctx.capturedStdout().toString('utf8') };
  } finally {
    ctx.dispose();
  }
}

test('composed-ls: lists the first preopen, sorted, one name per line', async () => {
  const dir = directory('mixed', ['b.txt', 'a.txt', 'é.txt', 'Z', '.hidden'], ['sub']);
  assert.deepEqual(await ls({ preopens: [{ hostPath: dir, guestPath: '/' }] }), {
    codes: [0],
    stdout: '.hidden\nZ\na.txt\nb.txt\nsub\né.txt\n',
  });
});

test('composed-ls: many entries, an empty directory, a read-only preopen, only the first preopen', async () => {
  const names = Array.from({ length: 40 }, (_, i) => `f${String(i + 1).padStart(2, '0')}`);
  const many = directory('many', names.toReversed());
  assert.deepEqual(await ls({ preopens: [{ hostPath: many, guestPath: '/data' }] }), { codes: [0], stdout: names.map((n) => `${n}\n`).join('') });
  const empty = directory('empty', []);
  assert.deepEqual(await ls({ preopens: [{ hostPath: empty, guestPath: '/' }] }), { codes: [0], stdout: '' });
  const ro = directory('ro', ['x']);
  assert.deepEqual(await ls({ preopens: [{ hostPath: ro, guestPath: '/', readOnly: true }] }), { codes: [0], stdout: 'x\n' });
  assert.deepEqual(
    await ls({ preopens: [{ hostPath: ro, guestPath: '/first' }, { hostPath: many, guestPath: '/second' }] }),
    { codes: [0], stdout: 'x\n' },
  );
});

test('composed-ls: run twice on one instance (every handle of the first run was dropped)', async () => {
  const dir = directory('twice', ['one', 'two']);
  assert.deepEqual(await ls({ preopens: [{ hostPath: dir, guestPath: '/' }] }, 2), { codes: [0, 0], stdout: 'one\ntwo\none\ntwo\n' });
});

test('composed-ls: no preopen at all: run returns err (exit code 1), nothing printed', async () => {
  assert.deepEqual(await ls({}), { codes: [1], stdout: '' });
});
