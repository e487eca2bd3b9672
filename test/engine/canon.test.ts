// wasmhost's own canonical ABI (src/engine/canon) against jco's glue, on the `abi` fixture: every
// value crosses both ways through both bindings, and the JavaScript each side sees must be the
// same (jco's conventions are what host code and plugins are written against). Then guests that
// break the rules: each must end in a trap that closes the instance.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { Engine, InstanceClosedError, TrapError, type CompiledComponent, type Instance } from '../../src/index.ts';
import { fixturePath } from '../fixtures/index.ts';
import { compileWithJco, type OracleComponent } from '../oracle/jco.ts';

type Bindings = 'wasmhost' | 'jco';
const BINDINGS: readonly Bindings[] = ['wasmhost', 'jco'];

let compiled: Promise<{ wasmhost: CompiledComponent; jco: OracleComponent }> | undefined;

/** The abi fixture compiled by wasmhost's engine, and by jco as the oracle (test/oracle/jco.ts). */
function components(): Promise<{ wasmhost: CompiledComponent; jco: OracleComponent }> {
  compiled ??= (async () => {
    const path = fixturePath('abi');
    const [wasmhost, jco] = await Promise.all([new Engine({ cacheDir: false }).compile(path), compileWithJco(path)]);
    return { wasmhost, jco };
  })();
  return compiled;
}

// --- the host ----------------------------------------------------------------------------------

type Call = [string, ...unknown[]];

/** A fresh host for one instance: records what the guest hands it, answers from `answers`. */
function makeHost() {
  const calls: Call[] = [];
  const disposed: number[] = [];
  const answers = {
    mixed: [] as unknown[],
    char: '😀',
    f32: -0.25,
    s8: -128,
    u64: 2n ** 64n - 1n,
    color: 'blue-ish',
    few: { read: true, write: false, canExec: true },
    /** How `try-it` / `try-unit` fail when asked to. */
    failure: 'plain' as 'plain' | 'wrapped' | 'async' | 'error',
  };
  class Thing {
    readonly n: number;
    constructor(n: number) {
      this.n = n;
    }
    get(): number {
      return this.n;
    }
    [Symbol.dispose](): void {
      disposed.push(this.n);
    }
  }
  const record = (name: string) => (...args: unknown[]) => void calls.push([name, ...args]);
  const fail = (payload: unknown): never => {
    switch (answers.failure) {
      case 'plain':
        throw payload;
      case 'wrapped':
        throw Object.assign(new Error('wrapped'), { payload });
      case 'error':
        throw new Error('the host broke');
      case 'async':
        throw new Error('unreachable: async failures reject instead');
    }
  };
  const host = {
    Thing,
    take: record('take'),
    takeInts: record('takeInts'),
    takeText: record('takeText'),
    log: record('log'),
    sum: (l: Uint32Array) => l.reduce((a, b) => a + b, 0),
    // Odd cases answer through a promise: the guest is suspended (JSPI) until it settles.
    giveMixed: (which: number) => (which % 2 ? Promise.resolve(answers.mixed[which]) : answers.mixed[which]),
    giveChar: () => answers.char,
    giveF32: () => answers.f32,
    giveS8: () => answers.s8,
    giveU64: () => answers.u64,
    giveColor: () => answers.color,
    giveFew: () => answers.few,
    tryIt: (failing: boolean) => {
      if (!failing) return 'fine';
      if (answers.failure === 'async') return Promise.reject('green');
      return fail('green');
    },
    tryUnit: (failing: boolean) => {
      if (!failing) return undefined;
      if (answers.failure === 'async') return Promise.reject(undefined);
      return fail(undefined);
    },
    reflectScalars: (x: unknown) => x,
    reflectLists: (x: unknown) => x,
    reflectSums: (x: unknown) => x,
    reflectComposite: async (x: unknown) => x,
  };
  return { imports: { 'test:abi/host': host }, calls, disposed, answers, Thing };
}

type Host = ReturnType<typeof makeHost>;

/** What a call came to, comparable across bindings: its value, or its error's shape. */
type Outcome = { value: unknown } | { error: { isError: boolean; message: string; payload: unknown } };

async function settle(p: Promise<unknown>): Promise<Outcome> {
  try {
    return { value: await p };
  } catch (e) {
    const err = e as { message?: string; payload?: unknown };
    return { error: { isError: e instanceof Error, message: String(err?.message ?? e), payload: err?.payload } };
  }
}

/** Runs `body` on a fresh instance of each bindings and answers both results. */
async function onBoth<T>(body: (instance: Instance, host: Host) => Promise<T>): Promise<Record<Bindings, T>> {
  const c = await components();
  const out = {} as Record<Bindings, T>;
  for (const b of BINDINGS) {
    const host = makeHost();
    out[b] = await body(await c[b].instantiate(host.imports), host);
  }
  return out;
}

/** Calls one export with the same arguments through both bindings; answers both outcomes. */
function callBoth(target: string, ...args: unknown[]): Promise<Record<Bindings, Outcome>> {
  return onBoth((instance) => settle(instance.call(target, ...args)));
}

async function instance(bindings: Bindings = 'wasmhost'): Promise<{ instance: Instance; host: Host }> {
  const host = makeHost();
  return { instance: await (await components())[bindings].instantiate(host.imports), host };
}

// --- sample values ---------------------------------------------------------------------------

const U64_MAX = 2n ** 64n - 1n;
const S64_MIN = -(2n ** 63n);
const pad = Array.from({ length: 16 }, (_, i) => (i === 15 ? U64_MAX : BigInt(i) << 56n));
const zeroPad: bigint[] = Array(16).fill(0n);

function flags(names: readonly string[], set: readonly string[] = []): Record<string, boolean> {
  return Object.fromEntries(names.map((n) => [n, set.includes(n)]));
}
const FEW = ['read', 'write', 'canExec'];
const MID = Array.from({ length: 12 }, (_, i) => `n${i}`);
const MANY = Array.from({ length: 32 }, (_, i) => `m${i}`);

const f32 = (x: number) => Math.fround(x);
const bits = new DataView(new ArrayBuffer(8));
const f32Bits = (x: number) => (bits.setFloat32(0, x, true), BigInt(bits.getUint32(0, true)));
const f64Bits = (x: number) => (bits.setFloat64(0, x, true), bits.getBigUint64(0, true));

/** Every case of `mixed`, payloads of different core types sharing joined flat slots. */
const MIXED = [
  { tag: 'nothing' },
  { tag: 'small', val: 200 },
  { tag: 'single', val: 1.5 },
  { tag: 'single', val: -0.5 },
  { tag: 'double', val: -2.5 },
  { tag: 'double', val: Number.MAX_VALUE },
  { tag: 'wide', val: U64_MAX },
  { tag: 'wide', val: 0n },
  { tag: 'text', val: 'héllo ✓' },
  { tag: 'text', val: '' },
  { tag: 'pair', val: [65535, 0.25] },
];

const SCALARS: [string, Record<string, unknown>][] = [
  [
    'extremes',
    {
      pad, aBool: true, aS8: -128, aU8: 255, aS16: -32768, aU16: 65535, aS32: -2147483648, aU32: 4294967295,
      aS64: S64_MIN, aU64: U64_MAX, aF32: 1.5, aF64: Math.PI, aChar: '😀', text: 'héllo, wörld ✓ 😀', emptyText: '',
    },
  ],
  [
    'zeros',
    {
      pad: zeroPad, aBool: false, aS8: 0, aU8: 0, aS16: 0, aU16: 0, aS32: 0, aU32: 0,
      aS64: 0n, aU64: 0n, aF32: 0, aF64: -0, aChar: '\0', text: 'plain ascii', emptyText: '',
    },
  ],
  [
    'other end',
    {
      pad, aBool: true, aS8: 127, aU8: 1, aS16: 32767, aU16: 1, aS32: 2147483647, aU32: 1,
      aS64: 2n ** 63n - 1n, aU64: 1n, aF32: f32(-1e-30), aF64: -Infinity, aChar: '\u{10ffff}', text: '日本語テキスト', emptyText: '',
    },
  ],
  [
    'NaN, infinity, a long string (memory grows while lowering)',
    {
      pad, aBool: false, aS8: -1, aU8: 128, aS16: -1, aU16: 32768, aS32: -1, aU32: 2147483648,
      aS64: -1n, aU64: 2n ** 63n, aF32: Infinity, aF64: NaN, aChar: 'é', text: 'ü😀'.repeat(40_000), emptyText: '',
    },
  ],
];

const point = (x: number, y: number, label: string) => ({ x, y, label });
const bigBytes = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) & 0xff);

const LISTS: [string, Record<string, unknown>][] = [
  [
    'one of each',
    {
      pad,
      bytes: new Uint8Array([0, 1, 127, 128, 255]),
      words: new Uint32Array([0, 1, 4294967295]),
      longs: new BigInt64Array([S64_MIN, -1n, 0n, 2n ** 63n - 1n]),
      floats: new Float64Array([1.5, -0, Infinity, Math.E]),
      names: ['a', '', 'ünï', '😀', 'x'.repeat(1000)],
      points: [point(-1, 2, 'p'), point(2147483647, -2147483648, ''), point(0, 0, 'ü')],
      byteLists: [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([255])],
      bools: [true, false, true],
      chars: ['a', 'é', '😀', '\u{10ffff}'],
    },
  ],
  [
    'all empty',
    {
      pad: zeroPad, bytes: new Uint8Array(0), words: new Uint32Array(0), longs: new BigInt64Array(0), floats: new Float64Array(0),
      names: [], points: [], byteLists: [], bools: [], chars: [],
    },
  ],
  [
    '200 KB of bytes (memory grows while lowering)',
    {
      pad, bytes: bigBytes, words: new Uint32Array(10_000).map((_, i) => i * 65537), longs: new BigInt64Array(0), floats: new Float64Array([0.1]),
      names: Array.from({ length: 500 }, (_, i) => `name-${i}`), points: [], byteLists: [bigBytes.subarray(0, 1000)], bools: [], chars: [],
    },
  ],
  [
    'a typed array that is a view into a larger buffer',
    {
      pad, bytes: bigBytes.subarray(3, 10), words: new Uint32Array([5, 6, 7, 8]).subarray(1, 3), longs: new BigInt64Array([1n, 2n, 3n]).subarray(2),
      floats: new Float64Array([1, 2, 3]).subarray(1, 2), names: [], points: [], byteLists: [], bools: [], chars: [],
    },
  ],
];

/** `sums` without the fields whose shapes are checked by their own tests further down. */
const baseSums = {
  pad, m: MIXED[0], c: 'red', few: flags(FEW), mid: flags(MID), many: flags(MANY),
  maybe: undefined, maybeText: undefined, res: { tag: 'ok', val: '' },
};

const SUMS: [string, Record<string, unknown>][] = [
  ['nothing set', baseSums],
  ...MIXED.map((m, i): [string, Record<string, unknown>] => [
    `mixed ${m.tag} #${i}`,
    {
      ...baseSums, m, c: ['red', 'green', 'blue-ish'][i % 3],
      few: flags(FEW, FEW.slice(0, i % 4)), mid: flags(MID, MID.filter((_, k) => k % (i + 1) === 0)), many: flags(MANY, MANY.filter((_, k) => (k + i) % 3 === 0)),
      maybe: i % 2 ? 4294967295 : 0, maybeText: i % 2 ? undefined : `text ${i} ✓`,
      res: i % 2 ? { tag: 'err', val: 'green' } : { tag: 'ok', val: 'ö'.repeat(i) },
    },
  ]),
  ['every flag', { ...baseSums, few: flags(FEW, FEW), mid: flags(MID, MID), many: flags(MANY, MANY) }],
];

/** The fields left out of `baseSums`: payload-less `result` cases and a nested option, as jco shapes them. */
const sumsTail = { unit: { tag: 'ok', val: undefined }, okOnly: { tag: 'ok', val: 5n }, errOnly: { tag: 'err', val: 'bad' }, maybeMaybe: { tag: 'some', val: 7 } };

const COMPOSITE: [string, Record<string, unknown>][] = [
  [
    'nested records, tuples, lists of variants and results',
    {
      pad,
      nested: { where: point(3, -4, 'here'), tags: ['a', 'b', ''], when: [255, S64_MIN] },
      triple: ['first', { tag: 'pair', val: [7, 0.5] }, true],
      mixes: MIXED,
      optList: new Uint32Array([1, 2, 3]),
      results: [{ tag: 'ok', val: point(1, 2, 'ok') }, { tag: 'err', val: 'no' }],
    },
  ],
  [
    'empty and absent',
    {
      pad: zeroPad,
      nested: { where: point(0, 0, ''), tags: [], when: [0, 0n] },
      triple: ['', { tag: 'nothing' }, false],
      mixes: [],
      optList: undefined,
      results: [],
    },
  ],
  [
    'an empty list inside an option',
    {
      pad,
      nested: { where: point(1, 1, '1'), tags: ['t'], when: [1, 1n] },
      triple: ['x', { tag: 'wide', val: 1n }, true],
      mixes: [{ tag: 'text', val: 'τ' }],
      optList: new Uint32Array(0),
      results: [{ tag: 'ok', val: point(-5, 5, '') }],
    },
  ],
];

// --- which bindings run what -----------------------------------------------------------------

test('wasmhost asks the host for the same members as jco\'s glue does', async () => {
  const c = await components();
  assert.deepEqual(c.wasmhost.requiredImports.get('test:abi/host')?.toSorted(), c.jco.requiredImports.get('test:abi/host')?.toSorted());
});

test('a componentize-js component compiles and runs', async () => {
  const engine = new Engine({ cacheDir: false });
  const greeter = await engine.compile(fixturePath('greeter'));
  const logged: string[] = [];
  const g = await greeter.instantiate({ 'test:greeter/host': { log: (m: string) => void logged.push(m) } });
  assert.equal(await g.call('greet', 'wörld'), 'Hello, wörld!');
  await g.call('call-host', 3);
  assert.equal(logged.length, 3);
});

// --- values in memory, both ways -------------------------------------------------------------

/**
 * Echoes each sample (the guest hands back the bytes the host wrote) and bounces it (the host's
 * reflect-* reads it from memory and writes it back): both bindings must agree, and give back the
 * sample. `skip` names fields compared by their own tests (known differences).
 */
async function roundTrips(kind: 'scalars' | 'lists' | 'sums' | 'composite', samples: [string, Record<string, unknown>][], t: TestContext, skip: string[] = []) {
  const strip = (o: Outcome): Outcome => {
    if (!('value' in o)) return o;
    const v = { ...(o.value as Record<string, unknown>) };
    for (const k of skip) delete v[k];
    return { value: v };
  };
  for (const [name, value] of samples) {
    await t.test(name, async () => {
      for (const target of [`test:abi/api#echo-${kind}`, `test:abi/api#bounce-${kind}`]) {
        const r = await callBoth(target, value);
        assert.deepStrictEqual(strip(r.wasmhost), strip(r.jco), `${target}: wasmhost and jco disagree`);
        assert.deepStrictEqual(strip(r.wasmhost), strip({ value }), `${target}: the value did not come back as it went`);
      }
    });
  }
}

test('records of every scalar type, strings included, cross in memory as jco shapes them', (t) => roundTrips('scalars', SCALARS, t));
test('lists (typed arrays for numbers, arrays otherwise) cross in memory as jco shapes them', (t) => roundTrips('lists', LISTS, t));
test('variants, enums, flags, options and results cross in memory as jco shapes them', (t) =>
  roundTrips('sums', SUMS.map(([n, v]) => [n, { ...v, ...sumsTail }]), t, ['unit', 'maybeMaybe']));
test('nested records, tuples, lists of variants and options of lists cross as jco shapes them', (t) => roundTrips('composite', COMPOSITE, t));

test('a string that starts with U+FEFF crosses whole, both ways', async () => {
  const [, sample] = SCALARS[0];
  const { instance: i } = await instance();
  for (const target of ['test:abi/api#echo-scalars', 'test:abi/api#bounce-scalars']) {
    const r = (await i.call(target, { ...sample, text: '\ufeffbom first', emptyText: '\ufeff' })) as Record<string, unknown>;
    assert.equal(r.text, '\ufeffbom first', target);
    assert.equal(r.emptyText, '\ufeff', target);
  }
});

test('numeric lists given as plain arrays are accepted and come back as typed arrays', async () => {
  const [, sample] = LISTS[0];
  const plain = { ...sample, bytes: [1, 2, 3], words: [4, 5], longs: [-1n], floats: [0.5] };
  const r = await callBoth('test:abi/api#echo-lists', plain);
  assert.deepStrictEqual(r.wasmhost, r.jco);
  assert.deepStrictEqual(r.wasmhost, {
    value: { ...sample, bytes: new Uint8Array([1, 2, 3]), words: new Uint32Array([4, 5]), longs: new BigInt64Array([-1n]), floats: new Float64Array([0.5]) },
  });
});

test('a top-level result returns its ok value and throws its err as an Error with .payload', async () => {
  for (const x of [{ tag: 'ok', val: 'fine ✓' }, { tag: 'ok', val: '' }, { tag: 'err', val: 'green' }]) {
    const r = await callBoth('test:abi/api#echo-result', pad, x);
    assert.deepStrictEqual(r.wasmhost, r.jco, inspect(x));
    if (x.tag === 'ok') assert.deepStrictEqual(r.wasmhost, { value: x.val });
    else assert.deepStrictEqual(r.wasmhost, { error: { isError: true, message: 'green', payload: 'green' } });
  }
  for (const x of [{ tag: 'ok' }, { tag: 'err' }]) {
    const r = await callBoth('test:abi/api#echo-unit-result', zeroPad, x);
    assert.deepStrictEqual(r.wasmhost, r.jco, x.tag);
    if (x.tag === 'ok') assert.deepStrictEqual(r.wasmhost, { value: undefined });
    else assert.ok('error' in r.wasmhost && r.wasmhost.error.isError && r.wasmhost.error.payload === undefined);
  }
  // An err is the guest's answer, not a trap: the instance goes on.
  const { instance: i } = await instance();
  await assert.rejects(i.call('test:abi/api#echo-result', pad, { tag: 'err', val: 'red' }), (e: Error & { payload?: unknown }) => e.payload === 'red');
  assert.equal(i.closedReason, undefined);
  assert.equal(await i.call('echo-u32', 7), 7);
});

test('payload-less result cases are shaped as jco shapes them ({tag, val: undefined})', async () => {
  const r = await callBoth('test:abi/api#echo-sums', { ...baseSums, ...sumsTail, unit: { tag: 'ok' }, okOnly: { tag: 'err' }, errOnly: { tag: 'ok' } });
  const pick = (o: Outcome) => {
    const v = (o as { value: Record<string, unknown> }).value;
    return { unit: v.unit, okOnly: v.okOnly, errOnly: v.errOnly };
  };
  assert.deepStrictEqual(pick(r.jco), { unit: { tag: 'ok', val: undefined }, okOnly: { tag: 'err', val: undefined }, errOnly: { tag: 'ok', val: undefined } });
  assert.deepStrictEqual(pick(r.wasmhost), pick(r.jco));
});

test('option<option<T>> is shaped as jco shapes it (the outer option as {tag, val})', async () => {
  for (const maybeMaybe of [{ tag: 'none' }, { tag: 'some', val: undefined }, { tag: 'some', val: 7 }]) {
    const r = await callBoth('test:abi/api#echo-sums', { ...baseSums, ...sumsTail, maybeMaybe });
    const got = (o: Outcome) => ('value' in o ? (o.value as { maybeMaybe: unknown }).maybeMaybe : o);
    assert.deepStrictEqual(got(r.jco), maybeMaybe);
    assert.deepStrictEqual(got(r.wasmhost), got(r.jco), inspect(maybeMaybe));
  }
});

// --- values as single core values --------------------------------------------------------------

test('flat exports: every one-value type goes in and out as one core value', async () => {
  const cases: [string, unknown[]][] = [
    ['echo-bool', [true, false]],
    ['echo-s8', [-128, -1, 0, 127]],
    ['echo-u8', [0, 128, 255]],
    ['echo-s16', [-32768, 32767]],
    ['echo-u16', [0, 65535]],
    ['echo-s32', [-2147483648, 2147483647]],
    ['echo-u32', [0, 2147483648, 4294967295]],
    ['echo-s64', [S64_MIN, -1n, 2n ** 63n - 1n]],
    ['echo-u64', [0n, 2n ** 63n, U64_MAX]],
    ['echo-f32', [1.5, -0, f32(3.4e38), Infinity, NaN]],
    ['echo-f64', [-0, Number.MIN_VALUE, -Infinity, NaN]],
    ['echo-char', ['a', 'é', '😀', '\u{10ffff}', '\0']],
    ['echo-string', ['', 'héllo ✓', '😀'.repeat(5000)]],
    ['test:abi/api#echo-color', ['red', 'green', 'blue-ish']],
    ['test:abi/api#echo-few', [flags(FEW), flags(FEW, ['write']), flags(FEW, FEW)]],
  ];
  for (const [target, values] of cases) {
    for (const v of values) {
      const r = await callBoth(target, v);
      assert.deepStrictEqual(r.wasmhost, r.jco, `${target}(${String(v)})`);
      assert.deepStrictEqual(r.wasmhost, { value: v }, `${target}(${String(v)})`);
    }
  }
});

test('a variant lowered flat: payloads of other types are coerced into the joined slots', async () => {
  // mixed flattens to [i32 case, i64 joined slot, i32 joined slot]; the guest answers each.
  const expected: [unknown, number, bigint | undefined, number][] = [
    [{ tag: 'nothing' }, 0, 0n, 0],
    [{ tag: 'small', val: 200 }, 1, 200n, 0],
    [{ tag: 'single', val: 1.5 }, 2, f32Bits(1.5), 0], // f32 bits, zero-extended into the i64
    [{ tag: 'single', val: -0.5 }, 2, f32Bits(-0.5), 0],
    [{ tag: 'double', val: -2.5 }, 3, f64Bits(-2.5), 0],
    [{ tag: 'wide', val: U64_MAX }, 4, U64_MAX, 0],
    [{ tag: 'text', val: 'abc' }, 5, undefined, 3], // slot 1 holds a pointer
    [{ tag: 'pair', val: [7, 0.25] }, 6, 7n, Number(f32Bits(0.25))], // the f32 in the i32 slot, as its bits
  ];
  for (const [m, kase, slot1, slot2] of expected) {
    const label = inspect(m);
    const c = await callBoth('test:abi/api#mixed-case', m);
    const s1 = await callBoth('test:abi/api#mixed-slot1', m);
    const s2 = await callBoth('test:abi/api#mixed-slot2', m);
    assert.deepStrictEqual(c.wasmhost, c.jco, label);
    assert.deepStrictEqual(c.wasmhost, { value: kase }, label);
    assert.deepStrictEqual(s2.wasmhost, s2.jco, label);
    assert.deepStrictEqual(s2.wasmhost, { value: slot2 }, label);
    if (slot1 === undefined) continue;
    assert.deepStrictEqual(s1.wasmhost, { value: slot1 }, label);
    // jco 1.35 sign-extends an f32's bits into the i64 slot (the canonical ABI zero-extends); a
    // guest reads only the low 32 bits, so those are what must agree.
    const low = (o: Outcome) => ('value' in o ? BigInt.asUintN(32, o.value as bigint) : o);
    if ((m as { tag: string }).tag === 'single') assert.deepStrictEqual(low(s1.wasmhost), low(s1.jco), label);
    else assert.deepStrictEqual(s1.wasmhost, s1.jco, label);
  }
});

test('a small integer lowered flat is wrapped to its width, as jco does', async () => {
  // The joined i64 slot shows the core value the guest received for small(300).
  const r = await callBoth('test:abi/api#mixed-slot1', { tag: 'small', val: 300 });
  assert.deepStrictEqual(r.jco, { value: 44n });
  assert.deepStrictEqual(r.wasmhost, r.jco);
});

// --- what the host receives ------------------------------------------------------------------

test('host imports receive flat core values lifted as jco lifts them (drive)', async () => {
  const r = await onBoth(async (i, host) => {
    await i.call('drive');
    return host.calls;
  });
  assert.deepStrictEqual(r.wasmhost, r.jco);
  const mixed = (tag: string, val?: unknown) => (val === undefined ? { tag } : { tag, val });
  assert.deepStrictEqual(r.wasmhost, [
    ['take', 255, -32768, 1.5, -0.125, 'é', undefined, mixed('nothing')],
    ['take', 0, 32767, -0.5, 1e300, '😀', 4294967295, mixed('small', 200)],
    ['take', 1, -1, 0, 0, 'a', 0, mixed('single', 1.5)],
    ['take', 2, 2, 2, 2, 'z', undefined, mixed('double', -2.5)],
    ['take', 3, 3, 3, 3, '\u{10ffff}', undefined, mixed('wide', U64_MAX)],
    ['take', 4, 4, 4, 4, ' ', undefined, mixed('text', 'hi')],
    ['take', 5, 5, 5, 5, '0', undefined, mixed('pair', [7, 0.25])],
    ['takeInts', true, -128, 65535, -2147483648, 4294967295, S64_MIN, U64_MAX, 'blue-ish', flags(FEW, ['read', 'canExec']), flags(MANY, ['m0', 'm31'])],
    ['takeInts', false, 0, 0, 0, 0, 0n, 0n, 'red', flags(FEW), flags(MANY)],
    ['takeText', 'héllo', new Uint32Array([1, 2, 4294967295]), { tag: 'ok', val: 'hi' }],
    ['takeText', '', new Uint32Array(0), { tag: 'err', val: 4294967295 }],
  ]);
});

test('host answers are lowered as jco lowers them (flat and through a return area, sync and async)', async () => {
  const r = await onBoth(async (i, host) => {
    host.answers.mixed = MIXED;
    const out: Outcome[] = [];
    for (let w = 0; w < MIXED.length; w++) out.push(await settle(i.call('test:abi/api#relay-mixed', w)));
    for (const f of ['char', 'f32', 's8', 'u64', 'color', 'few']) out.push(await settle(i.call(`test:abi/api#relay-${f}`)));
    return out;
  });
  assert.deepStrictEqual(r.wasmhost, r.jco);
  const h = makeHost().answers;
  assert.deepStrictEqual(r.wasmhost, [...MIXED, h.char, h.f32, h.s8, h.u64, h.color, h.few].map((value) => ({ value })));
});

test('a host import returning result: ok value returned, err payload thrown (plain, wrapped, rejected)', async () => {
  for (const failure of ['plain', 'wrapped', 'async'] as const) {
    const r = await onBoth(async (i, host) => {
      host.answers.failure = failure;
      return [
        await settle(i.call('test:abi/api#relay-try', false)),
        await settle(i.call('test:abi/api#relay-try', true)),
        await settle(i.call('test:abi/api#relay-try-unit', false)),
        await settle(i.call('test:abi/api#relay-try-unit', true)),
        i.closedReason,
      ];
    });
    assert.deepStrictEqual(r.wasmhost, r.jco, failure);
    assert.deepStrictEqual(r.wasmhost.slice(0, 3), [
      { value: 'fine' },
      { error: { isError: true, message: 'green', payload: 'green' } },
      { value: undefined },
    ], failure);
    assert.equal(r.wasmhost[4], undefined, 'a guest err does not close the instance');
  }
});

test('a host import that throws an Error (no payload) fails the call with that Error', async () => {
  const r = await onBoth(async (i, host) => {
    host.answers.failure = 'error';
    return settle(i.call('test:abi/api#relay-try', true));
  });
  assert.deepStrictEqual(r.wasmhost, r.jco);
  assert.deepStrictEqual(r.wasmhost, { error: { isError: true, message: 'the host broke', payload: undefined } });
});

// --- resources -------------------------------------------------------------------------------

test('host resources: constructed, called, dropped (dispose), handed over and borrowed', async () => {
  const r = await onBoth(async (i, host) => {
    const made = await i.call('test:abi/api#thing-make', 10);
    return {
      roundtrip: await i.call('thing-roundtrip', 9),
      afterRoundtrip: [...host.disposed],
      made: made instanceof host.Thing ? (made as { n: number }).n : made,
      consumed: await i.call('test:abi/api#thing-consume', new host.Thing(11)),
      peeked: await i.call('test:abi/api#thing-peek', new host.Thing(12)),
      disposed: host.disposed,
    };
  });
  assert.deepStrictEqual(r.wasmhost, r.jco);
  // thing-make's own handle went to the host, not dropped; the borrowed 12 is not the guest's to drop.
  assert.deepStrictEqual(r.wasmhost, { roundtrip: 9, afterRoundtrip: [9], made: 10, consumed: 11, peeked: 12, disposed: [9, 11] });
});

// --- guests breaking the rules -----------------------------------------------------------------

/** Export of test:abi/edge, its arguments, the trap's message, the things disposed before it. */
const BAD: [string, unknown[], RegExp, number[]?][] = [
  ['bad-drop', [], /unknown handle index 42 for resource thing/],
  ['bad-method', [], /unknown handle index 42 for resource thing/],
  ['double-drop', [3], /unknown handle index 1 for resource thing/, [3]],
  ['use-after-drop', [4], /unknown handle index 1 for resource thing/, [4]],
  ['bad-string', [], /out of bounds memory access: the guest passed 16 bytes at 4294901760/],
  ['bad-string-to-host', [], /out of bounds memory access: the guest passed 16 bytes at 4294901760/],
  ['bad-list', [], /out of bounds memory access: the guest passed 32 bytes at 65528/],
  ['bad-list-to-host', [], /out of bounds memory access: the guest passed 32 bytes at 65528/],
  ['bad-variant', [], /invalid discriminant 9 of variant/],
  ['bad-option', [], /invalid discriminant 2 of option/],
  ['bad-enum', [], /invalid discriminant 7 of enum/],
  ['bad-char', [], /invalid char code point 55296/],
  ['big-char', [], /invalid char code point 1114112/],
];

for (const [name, args, message, disposed = []] of BAD) {
  test(`a guest breaking the rules traps and closes its instance: ${name}`, async () => {
    const { instance: i, host } = await instance('wasmhost');
    await assert.rejects(i.call(`test:abi/edge#${name}`, ...args), (e: Error) => {
      assert.ok(e instanceof TrapError, `${e.constructor.name}: ${e.message}`);
      assert.match(e.message, message);
      assert.ok(e.cause instanceof WebAssembly.RuntimeError);
      return true;
    });
    assert.ok(i.closedReason instanceof TrapError);
    await assert.rejects(i.call('echo-u32', 1), InstanceClosedError);
    // A handle dropped once is disposed once, not again by the bad second drop.
    assert.deepStrictEqual(host.disposed, disposed);
  });
}

test('an export that keeps a borrowed handle past its call traps when it returns (as in wasmtime; jco lets it go)', async () => {
  const { instance: i, host } = await instance('wasmhost');
  const thing = new host.Thing(5);
  await assert.rejects(i.call('test:abi/edge#stash', thing), (e: Error) => e instanceof TrapError && /borrow handles still remain at the end of the call/.test(e.message));
  assert.ok(i.closedReason instanceof TrapError);
  assert.deepStrictEqual(host.disposed, [], 'the host still owns what it lent');
});

test('non-canonical core values from the guest are cut to their width (canonical ABI), not refused', async () => {
  // jco 1.35 throws a TypeError for these instead; the canonical ABI specifies truncation.
  const { instance: i } = await instance('wasmhost');
  assert.equal(await i.call('test:abi/edge#raw-s8'), -56);
  assert.equal(await i.call('test:abi/edge#raw-u16'), 0x2345);
  assert.equal(await i.call('test:abi/edge#raw-bool'), true);
  assert.equal(i.closedReason, undefined);
});

// --- what the host passes in -------------------------------------------------------------------

test('a lone surrogate passed as a char is refused before the guest runs, as a host error', async () => {
  const { instance: i } = await instance('wasmhost');
  await assert.rejects(i.call('echo-char', '\ud800'), TypeError);
  assert.equal(i.closedReason, undefined);
});

test('a char that is not a string is refused, as jco refuses it', async () => {
  const r = await callBoth('echo-char', 65);
  assert.ok('error' in r.jco);
  assert.ok('error' in r.wasmhost, `wasmhost answered ${inspect(r.wasmhost)}`);
});
