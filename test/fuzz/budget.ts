/**
 * How long the fuzz targets run and how a failure is replayed. `FUZZ_SECONDS` is the time per
 * target (one test file), shared between its properties: a few seconds by default, so CI runs
 * all of them in well under 20 s; raise it for a longer run on demand. `FUZZ_SEED` (and
 * `FUZZ_PATH`, fast-check's path to the shrunk counterexample) replays a failure; with a
 * counterexample path only that input runs.
 */
import { relative } from 'node:path';
import type { TestContext } from 'node:test';
import fc from 'fast-check';

export const DEFAULT_SECONDS = 3;

/** Where the test was started from (a target may change directory while it runs). */
const STARTED_IN = process.cwd();

export interface FuzzBudget {
  /** Seconds for one target, all its properties together. */
  seconds: number;
  /** Set to replay a run; otherwise fast-check picks one (and reports it on failure). */
  seed: number | undefined;
  path: string | undefined;
}

export function readBudget(env: NodeJS.ProcessEnv = process.env): FuzzBudget {
  const seconds = Number(env.FUZZ_SECONDS ?? DEFAULT_SECONDS);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`FUZZ_SECONDS must be a positive number, got ${env.FUZZ_SECONDS}`);
  const seed = env.FUZZ_SEED === undefined || env.FUZZ_SEED === '' ? undefined : Number(env.FUZZ_SEED);
  if (seed !== undefined && !Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${env.FUZZ_SEED}`);
  return { seconds, seed, path: env.FUZZ_PATH || undefined };
}

/** Shrinking a failure gets this long on top of the budget (a hang costs its deadline per attempt). */
const SHRINK_MS = 30_000;

/** fast-check parameters: as many runs as the time allows (numRuns is only a ceiling), replayable. */
export function fuzzParameters<T>(budget: FuzzBudget = readBudget()): fc.Parameters<T> {
  return {
    numRuns: 1_000_000,
    ...(budget.seed !== undefined && { seed: budget.seed }),
    ...(budget.path !== undefined && { path: budget.path }),
  };
}

/**
 * Ends a property's runs once `ms` have passed, between runs and never during one. (fast-check's
 * own `interruptAfterTimeLimit` races each async run against the clock and abandons it, so a
 * run that hangs would end the property as a success.) Once a run fails, shrinking gets
 * SHRINK_MS more.
 */
export function timeBoxed<T>(property: fc.IRawProperty<T>, ms: number): fc.IRawProperty<T> {
  let end = performance.now() + ms;
  let failed = false;
  type Result = fc.PreconditionFailure | fc.PropertyFailure | null;
  const noteFailure = (result: Result): Result => {
    if (!failed && result !== null && !fc.PreconditionFailure.isFailure(result)) {
      failed = true;
      end = performance.now() + SHRINK_MS;
    }
    return result;
  };
  const run = (value: T) => {
    // `true`: interrupt the whole check, not just skip this run.
    if (performance.now() >= end) return property.isAsync() ? Promise.resolve(new fc.PreconditionFailure(true)) : new fc.PreconditionFailure(true);
    const result = property.run(value) as Result | Promise<Result>;
    return result instanceof Promise ? result.then(noteFailure) : noteFailure(result);
  };
  return {
    isAsync: () => property.isAsync(),
    generate: (mrng, runId) => property.generate(mrng, runId),
    shrink: (value) => property.shrink(value),
    run,
    runBeforeEach: () => property.runBeforeEach(),
    runAfterEach: () => property.runAfterEach(),
  } as fc.IRawProperty<T>;
}

/**
 * Checks a property for `share` of its target's time. On failure the message ends with the
 * command that replays exactly that counterexample; on success the run count goes to the
 * test's diagnostics (`node --test` prints them), so a run that did little is visible.
 */
export async function fuzz<T>(t: TestContext, property: fc.IAsyncProperty<T> | fc.IProperty<T>, share: number, budget = readBudget()): Promise<void> {
  const started = performance.now();
  const details = await fc.check(timeBoxed(property, budget.seconds * 1000 * share), fuzzParameters<T>(budget));
  const ms = Math.round(performance.now() - started);
  if (details.failed) {
    throw new Error(`${fc.defaultReportMessage(details)}\n\nReplay: ${replayCommand(t, details.seed, details.counterexamplePath)}`, {
      cause: details.errorInstance,
    });
  }
  t.diagnostic(`${details.numRuns} runs in ${ms} ms (seed ${details.seed})`);
}

export function replayCommand(t: Pick<TestContext, 'name' | 'filePath'>, seed: number, path: string | null): string {
  const file = t.filePath ? relative(STARTED_IN, t.filePath) : 'test/fuzz/';
  const pattern = `^${t.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
  const env = `FUZZ_SEED=${seed}${path ? ` FUZZ_PATH=${path}` : ''}`;
  return `${env} node --test --test-name-pattern=${shellQuote(pattern)} ${file}`;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
