/**
 * Fuzzes `Engine.compile` with random bytes, random sections behind a valid preamble, and
 * mutated fixture components. Whatever comes in, a compile resolves or rejects with a
 * WasmhostError that says something; it never throws another kind of error, never hangs, and
 * never takes the process down, and the engine still compiles valid components afterwards.
 * What compiles is also instantiated with no imports, which must end the same way. The engine
 * runs in a worker so a stuck compile can be cut off.
 */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { fixturePath } from '../fixtures/index.ts';
import { fuzz } from './budget.ts';
import { IsolatedEngine, type CompileOutcome } from './isolated-engine.ts';
import {
  COMPONENT_PREAMBLE,
  CORE_PREAMBLE,
  applyMutations,
  mutationArbitrary,
  sectionSoupArbitrary,
  withCustomSection,
} from './wasm-mutations.ts';

/** Longer than any honest compile of these small inputs (a few hundred ms at most). */
const DEADLINE_MS = 10_000;

/** Small fixtures only: the componentize-js ones are 12 MB and take seconds to transpile. */
const SEEDS = ['calc', 'pure', 'trap', 'missing-import', 'cycle-a', 'http-hello', 'hello-p1', 'not-wasi-module'] as const;
const seedBytes = SEEDS.map((name) => new Uint8Array(readFileSync(fixturePath(name))));
const validComponent = seedBytes[SEEDS.indexOf('pure')];

const engine = new IsolatedEngine({ deadlineMs: DEADLINE_MS });

/** How each unmodified fixture compiles (`not-wasi-module` is refused): the engine must keep answering so. */
const baseline: string[] = [];
const verdict = (outcome: CompileOutcome) => (outcome.ok ? 'ok' : 'error' in outcome ? (outcome.error.code ?? outcome.error.className) : outcome.stage);

before(async () => {
  // Also starts the worker (and loads jco) before the clock of the first property starts.
  for (const bytes of seedBytes) baseline.push(verdict(await engine.run(bytes)));
  assert.equal(baseline.filter((v) => v === 'ok').length, seedBytes.length - 1, baseline.join());
});
after(() => engine.close());

/** How the runs of one property ended (`compile:ok`, `compile:WASMHOST_NOT_WASM`...), for its diagnostics. */
const outcomes = new Map<string, number>();

function count(key: string): void {
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
}

afterEach((t) => {
  if (outcomes.size) t.diagnostic([...outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', '));
  outcomes.clear();
});

function describeInput(bytes: Uint8Array): string {
  return `${bytes.length} bytes: ${Buffer.from(bytes.subarray(0, 64)).toString('hex')}${bytes.length > 64 ? '...' : ''}`;
}

/** The property every input must satisfy; the message names the input's stage and error. */
function assertHandled(outcome: CompileOutcome, bytes: Uint8Array): void {
  if (outcome.ok) return;
  if (outcome.stage === 'hang') assert.fail(`no answer after ${outcome.ms} ms for ${describeInput(bytes)}`);
  const { error } = outcome;
  if (outcome.stage === 'crash') assert.fail(`the engine's worker crashed on ${describeInput(bytes)}:\n${error.stack || error.message}`);
  assert.ok(error.wasmhost, `${outcome.stage} threw ${error.className} (not a WasmhostError) for ${describeInput(bytes)}:\n${error.stack || error.message}`);
  assert.ok(error.message.trim().length > 0, `${outcome.stage} threw ${error.className} with an empty message for ${describeInput(bytes)}`);
}

/** A never-seen valid component (a fresh custom section defeats the engine's memory cache). */
let freshCount = 0;
function freshValidComponent(): Uint8Array {
  return withCustomSection(validComponent, `fuzz-fresh-${freshCount++}`);
}

/**
 * jco traps (its Rust code panics) on some malformed inputs, which breaks jco for its thread; the
 * compile must reject with an InvalidComponentError and the engine must still work afterwards
 * (its transpiler thread is replaced: src/engine/transpiler.ts).
 */
async function assertEngineSurvived(outcome: CompileOutcome, bytes: Uint8Array): Promise<void> {
  if (outcome.ok || outcome.stage !== 'compile' || !/wasm trap/.test(outcome.error.message)) return;
  const next = await engine.run(freshValidComponent());
  if (next.ok) return;
  // A fresh worker for the next run, so each input is judged on its own (shrinking relies on it).
  await engine.restart();
  assert.fail(`after ${describeInput(bytes)} (${outcome.error.message}), a valid component no longer compiles: ${JSON.stringify(next)}`);
}

async function checkCompile(bytes: Uint8Array, instantiate = false): Promise<void> {
  const outcome = await engine.run(bytes, { instantiate });
  count(`${outcome.stage}:${verdict(outcome)}`);
  assertHandled(outcome, bytes);
  await assertEngineSurvived(outcome, bytes);
}

test('random bytes are rejected with a WasmhostError', (t) =>
  fuzz(t, fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), (bytes) => checkCompile(bytes)), 0.15));

test('a valid preamble followed by random bytes or random sections is handled', (t) => {
  const preamble = fc.constantFrom(
    COMPONENT_PREAMBLE,
    CORE_PREAMBLE,
    // Neighbouring versions and layers: an older component draft, a future core version.
    Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x0c, 0x00, 0x01, 0x00),
    Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00),
  );
  const input = fc.oneof(
    fc.tuple(preamble, fc.uint8Array({ maxLength: 256 })).map(([head, tail]) => Uint8Array.from([...head, ...tail])),
    preamble.chain(sectionSoupArbitrary),
  );
  return fuzz(t, fc.asyncProperty(input, (bytes) => checkCompile(bytes)), 0.25);
});

test('mutated fixture components (bytes and sections) compile, or fail with a WasmhostError; what compiles instantiates or fails cleanly', async (t) => {
  const input = fc
    .record({ seed: fc.nat({ max: SEEDS.length - 1 }), mutations: fc.array(mutationArbitrary(), { minLength: 1, maxLength: 4 }) })
    .map(({ seed, mutations }) => applyMutations(seedBytes[seed], mutations, seedBytes));
  await fuzz(t, fc.asyncProperty(input, (bytes) => checkCompile(bytes, true)), 0.6);
  // And the engine still answers as it did before, each fixture given as a new input.
  for (const name of ['calc', 'not-wasi-module'] as const) {
    const i = SEEDS.indexOf(name);
    assert.equal(verdict(await engine.run(withCustomSection(seedBytes[i], 'fuzz-after'))), baseline[i], name);
  }
});

// Regressions found by fuzzing.

/** A component preamble, then a custom section (id 0) that claims 2 GiB and holds nothing. */
const HUGE_CUSTOM_SECTION = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x07);

test(
  'regression: a section claiming 2 GiB is rejected, and the engine still compiles valid components afterwards',
  async () => {
    const isolated = new IsolatedEngine({ deadlineMs: DEADLINE_MS });
    try {
      const first = await isolated.run(HUGE_CUSTOM_SECTION);
      assert.equal(first.ok, false);
      assert.equal('error' in first && first.error.code, 'WASMHOST_INVALID_COMPONENT');
      assert.deepEqual(await isolated.run(freshValidComponent()), { stage: 'compile', ok: true });
    } finally {
      await isolated.close();
    }
  },
);
