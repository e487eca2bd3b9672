import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fixturePath } from '../fixtures/index.ts';

const CLI = resolve(import.meta.dirname, '../../bin/wasmhost.js');

function wasmhost(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('run: a preview1 module prints and its exit code becomes the process exit code', async () => {
  const r = await wasmhost(['run', fixturePath('hello-p1')]);
  assert.equal(r.stdout, 'hello from preview1\n');
  assert.equal(r.code, 7);
});

test('run: a command component gets args (after the file and after --) and exit codes', async () => {
  const app = fixturePath('cli-app');
  assert.equal((await wasmhost(['run', app, 'args', 'a', 'b c'])).stdout, 'a\nb c\n');
  assert.equal((await wasmhost(['run', app, '--', 'args', '--not-an-option'])).stdout, '--not-an-option\n');
  assert.equal((await wasmhost(['run', app, 'exit', '42'])).code, 42);
});

test('run: --env sets variables; the host environment stays out unless --env-inherit', async () => {
  const app = fixturePath('cli-app');
  const env = { WASMHOST_CLI_SECRET: 'shh' };
  assert.equal((await wasmhost(['run', '--env', 'A=1', '--env', 'B=x=y', app, 'env'], env)).stdout, 'A=1\nB=x=y\n');
  assert.equal((await wasmhost(['run', app, 'getenv', 'WASMHOST_CLI_SECRET'], env)).stdout, '<unset>\n');
  assert.equal((await wasmhost(['run', '--env', 'WASMHOST_CLI_SECRET', app, 'getenv', 'WASMHOST_CLI_SECRET'], env)).stdout, 'shh\n');
  assert.equal((await wasmhost(['run', '--env-inherit', app, 'getenv', 'WASMHOST_CLI_SECRET'], env)).stdout, 'shh\n');
});

test('run: --dir maps a host directory; --dir-ro refuses writes; unmapped paths are unreachable', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-cli-'));
  try {
    const app = fixturePath('cli-app');
    await writeFile(join(dir, 'in.txt'), 'host data');
    assert.equal((await wasmhost(['run', '--dir', `${dir}::/data`, app, 'read', '/data/in.txt'])).stdout, 'host data');
    const w = await wasmhost(['run', '--dir', `${dir}::/data`, app, 'write', '/data/out.txt', 'from guest']);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(await readFile(join(dir, 'out.txt'), 'utf8'), 'from guest');

    const ro = await wasmhost(['run', '--dir-ro', `${dir}::/data`, app, 'write', '/data/nope.txt', 'x']);
    assert.equal(ro.code, 1);
    assert.match(ro.stderr, /error: .*(read-only|not-permitted|access)/);
    const escape = await wasmhost(['run', '--dir', `${dir}::/data`, app, 'read', '/data/../../etc/passwd']);
    assert.equal(escape.code, 1);
    assert.doesNotMatch(escape.stdout, /root:/);
    const unmapped = await wasmhost(['run', app, 'read', '/etc/passwd']);
    assert.equal(unmapped.code, 1);

    const missing = await wasmhost(['run', '--dir', join(dir, 'absent'), app, 'args']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: --dir .*absent does not exist\n$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('run --invoke: calls an export with WAVE arguments and prints the result', async () => {
  const pure = fixturePath('pure');
  assert.equal((await wasmhost(['run', '--invoke', 'add(40, 2)', pure])).stdout, '42\n');
  assert.equal((await wasmhost(['run', '--invoke', 'next(18446744073709551614)', pure])).stdout, '18446744073709551615\n');
  assert.equal((await wasmhost(['run', '--invoke', 'negate(false)', pure])).stdout, 'true\n');
  const bad = await wasmhost(['run', '--invoke', 'add(1', pure]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: cannot parse --invoke/);
  const unknown = await wasmhost(['run', '--invoke', 'mul(1, 2)', pure]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no exported function mul \(exports: add, negate, next\)/);
});

test('run: errors are one line plus a hint, with a non-zero exit code', async () => {
  const notFound = await wasmhost(['run', '/nonexistent/app.wasm']);
  assert.equal(notFound.code, 1);
  assert.equal(notFound.stderr, 'error: cannot read /nonexistent/app.wasm: no such file\n');

  const notWasm = await wasmhost(['run', CLI]);
  assert.equal(notWasm.code, 1);
  assert.match(notWasm.stderr, /^error: .* is not a WebAssembly binary \(no \\0asm magic number\)\nhint: /);

  const noRun = await wasmhost(['run', fixturePath('pure')]);
  assert.equal(noRun.code, 1);
  assert.match(noRun.stderr, /does not export wasi:cli\/run\nhint: call one of its exports with --invoke \(exports: add, next, negate\)/);

  const missing = await wasmhost(['run', fixturePath('missing-import')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: component imports acme:missing\/thing@1\.0\.0, which nothing provides\n/);

  const foreign = await wasmhost(['run', fixturePath('not-wasi-module')]);
  assert.equal(foreign.code, 1);
  assert.match(foreign.stderr, /imports env\.foo, which is not WASI preview1/);
});

test('run: a trap exits 134 (as wasmtime) with a one-line message', async () => {
  const r = await wasmhost(['run', fixturePath('trap')]);
  assert.equal(r.code, 134);
  assert.match(r.stderr, /^error: guest trapped: .*unreachable.*\n$/);
});
