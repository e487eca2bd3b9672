/**
 * Runs the upstream WASI test suite (../shared/conformance/wasi-testsuite) through the
 * `wasmhost run` CLI, as the upstream runner drives a runtime: each test's `root` directory is
 * copied afresh and preopened as `/`, with its args and env; exit code and stdout are checked.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const SUITE = resolve(ROOT, '../shared/conformance/wasi-testsuite/tests');
const CLI = join(ROOT, 'bin/wasmhost.js');
const expectations: { expectedFailures: Record<string, string> } = JSON.parse(
  await readFile(join(import.meta.dirname, 'wasi-testsuite.expectations.json'), 'utf8'),
);

interface Spec {
  args?: string[];
  env?: Record<string, string>;
  root?: string;
  exit_code?: number;
  stdout?: string;
}

/** Targets the runner knows; WASI 0.3 (wasm32-wasip3) components wait for the 0.3 host. */
const TARGETS = new Set(['wasm32-wasip1']);
const counts = { passed: 0, failed: 0, expectedFailure: 0, skipped: 0 };

async function* cases(): AsyncGenerator<{ id: string; dir: string; wasm: string; target: string }> {
  if (!existsSync(SUITE)) return;
  for (const lang of (await readdir(SUITE)).sort()) {
    const base = join(SUITE, lang, 'testsuite');
    for (const target of (await readdir(base).catch(() => [])).sort()) {
      const dir = join(base, target);
      for (const f of (await readdir(dir)).sort()) {
        if (f.endsWith('.wasm')) yield { id: `${lang}/${target}/${f.slice(0, -5)}`, dir, wasm: join(dir, f), target };
      }
    }
  }
}

function runCli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd, maxBuffer: 64 << 20, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

async function runCase(dir: string, wasm: string): Promise<void> {
  const specPath = wasm.replace(/\.wasm$/, '.json');
  const spec: Spec = existsSync(specPath) ? JSON.parse(await readFile(specPath, 'utf8')) : {};
  const work = await mkdtemp(join(tmpdir(), 'wasi-testsuite-'));
  try {
    const args = ['run'];
    if (spec.root) {
      await cp(join(dir, spec.root), join(work, 'root'), { recursive: true, verbatimSymlinks: true });
      args.push('--dir', `${join(work, 'root')}::/`);
    }
    for (const [k, v] of Object.entries(spec.env ?? {})) args.push('--env', `${k}=${v}`);
    args.push(wasm, '--', ...(spec.args ?? []));
    const r = await runCli(args, work);
    assert.equal(r.code, spec.exit_code ?? 0, `exit code (stderr: ${r.stderr.slice(0, 2000)})`);
    if (spec.stdout !== undefined) assert.equal(r.stdout, spec.stdout, 'stdout');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (!existsSync(SUITE)) {
  // CI always has the suite beside the clone: its absence there is a failure, not a skip.
  const why = `the WASI test suite is not at ${SUITE}`;
  if (process.env.WASMHOST_REQUIRE_SERVICES === '1') test('wasi-testsuite is present', () => assert.fail(why));
  else test('wasi-testsuite', { skip: why }, () => {});
}

for await (const c of cases()) {
  if (!TARGETS.has(c.target)) {
    test(c.id, { skip: `${c.target} needs the WASI 0.3 host` }, () => {});
    counts.skipped++;
    continue;
  }
  const reason = expectations.expectedFailures[c.id];
  test(c.id, { concurrency: false }, async () => {
    try {
      await runCase(c.dir, c.wasm);
    } catch (err) {
      if (reason) {
        counts.expectedFailure++;
        return;
      }
      counts.failed++;
      throw err;
    }
    if (reason) {
      counts.failed++;
      assert.fail(`passes but is listed as an expected failure (${reason}): remove it from the expectations file`);
    }
    counts.passed++;
  });
}

after(() => {
  process.stdout.write(
    `wasi-testsuite: ${counts.passed} passed / ${counts.failed} failed / ${counts.expectedFailure} expected-failure` +
      ` (${counts.skipped} wasm32-wasip3 skipped)\n`,
  );
});
