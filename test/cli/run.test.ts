import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  assert.match(unknown.stderr, /^error: .*pure\.wasm has no exported function mul\nhint: exports: add, next, negate\n$/);
});

test('run --invoke checks arity, kinds and ranges against the export\'s type, and says what it expected', async () => {
  const pure = fixturePath('pure');
  const cases: [string, RegExp][] = [
    ['add(1,2,3)', /^error: add takes 2 arguments \(a: u32, b: u32\), got 3\nhint: e\.g\. --invoke 'add\(1, 1\)'\n$/],
    ['add(1)', /^error: add takes 2 arguments \(a: u32, b: u32\), got 1\n/],
    ['add(4294967296,1)', /^error: argument a of add: 4294967296 is out of range for u32 \(0 to 4294967295\)\n$/],
    ['add(-1, 1)', /out of range for u32/],
    ['negate("yes")', /^error: argument flag of negate: expected a bool \(true or false\), got a string \("yes"\)\n$/],
    ['next(1.5)', /^error: argument x of next: expected an integer \(u64\), got a number \(1\.5\)\n$/],
  ];
  for (const [call, expected] of cases) {
    const r = await wasmhost(['run', '--invoke', call, pure]);
    assert.equal(r.code, 1, call);
    assert.match(r.stderr, expected, call);
    assert.equal(r.stdout, '', call);
  }
});

test('run --invoke calls interface functions by name, with or without the version, and formats results by type', async () => {
  const adder = fixturePath('wat-adder');
  assert.equal((await wasmhost(['run', '--invoke', 'test:adder/math#add(40, 2)', adder])).stdout, '42\n');
  assert.equal((await wasmhost(['run', '--invoke', 'test:adder/math@0.1.0#add(1, 2)', adder])).stdout, '3\n');
  // A command's own run, as an export: its `result` is printed, ok or err, and the guest's args still arrive.
  const app = fixturePath('cli-app');
  assert.deepEqual(await wasmhost(['run', '--invoke', 'wasi:cli/run#run', app, 'args', 'x']), { code: 0, stdout: 'x\nok\n', stderr: '' });
  assert.equal((await wasmhost(['run', '--invoke', 'wasi:cli/run#run()', app, 'trap'])).stdout, 'err\n');
  const extra = await wasmhost(['run', '--invoke', 'wasi:cli/run#run(1)', app]);
  assert.match(extra.stderr, /^error: wasi:cli\/run#run takes 0 arguments \(\), got 1\n/);
});

test('wasmhost <file> runs it, as wasmtime <file> does; a mistyped command is still named', async () => {
  const app = fixturePath('cli-app');
  assert.equal((await wasmhost([app, 'args', 'a', 'b'])).stdout, 'a\nb\n');
  assert.equal((await wasmhost(['--env', 'A=1', app, 'env'])).stdout, 'A=1\n');
  assert.equal((await wasmhost(['--invoke', 'add(2, 3)', fixturePath('pure')])).stdout, '5\n');
  const typo = await wasmhost(['serv', 'x.wasm']);
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /unknown command 'serv'[\s\S]*serve/);
});

test('run takes WebAssembly text: a module or a component in .wat, errors at their line and column', async () => {
  const fixtures = resolve(import.meta.dirname, '../fixtures');
  const p1 = await wasmhost([join(fixtures, 'hello-p1/hello-p1.wat')]);
  assert.deepEqual([p1.code, p1.stdout], [7, 'hello from preview1\n']);
  assert.equal((await wasmhost(['--invoke', 'double(21)', join(fixtures, 'wat-adder/wat-adder.component.wat')])).stdout, '42\n');
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-wat-'));
  try {
    const bad = join(dir, 'bad.wat');
    await writeFile(bad, '(module\n  (func (result i32)\n    i32.const 1\n    oops))\n');
    const r = await wasmhost(['run', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: .*bad\.wat:4:5: invalid WebAssembly text: unknown operator or unexpected token\nhint: /);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("run takes wasmtime's -S and -W spellings for what wasmhost has, and names the supported keys", async () => {
  const app = fixturePath('cli-app');
  const env = { WASMHOST_CLI_SECRET: 'shh' };
  assert.equal((await wasmhost(['run', '-S', 'inherit-env', app, 'getenv', 'WASMHOST_CLI_SECRET'], env)).stdout, 'shh\n');
  assert.equal((await wasmhost(['run', '-S', 'inherit-env=n', app, 'getenv', 'WASMHOST_CLI_SECRET'], env)).stdout, '<unset>\n');
  const sleepy = await wasmhost(['run', '-W', 'timeout=300ms', app, 'sleep', '5000']);
  assert.equal(sleepy.code, 134);
  assert.match(sleepy.stderr, /time limit of 300 ms/);
  const small = await wasmhost(['run', '-W', 'max-memory-size=65536', app, 'args']);
  assert.equal(small.code, 134, small.stderr);
  assert.match(small.stderr, /memory limit of 64 KiB/);

  const unknownS = await wasmhost(['run', '-S', 'inherit-env,cli', app]);
  assert.equal(unknownS.code, 1);
  assert.equal(unknownS.stderr, 'error: -S cli: unknown key "cli"\nhint: this command supports -S inherit-env, inherit-network, allow-ip-name-lookup, http\n');
  const unknownW = await wasmhost(['run', '-W', 'fuel=10', app]);
  assert.equal(unknownW.stderr, 'error: -W fuel=10: unknown key "fuel"\nhint: this command supports -W max-memory-size, timeout\n');
  const noValue = await wasmhost(['run', '-W', 'timeout', app]);
  assert.match(noValue.stderr, /^error: -W timeout needs a value\n/);
  const twice = await wasmhost(['run', '--timeout', '1s', '-W', 'timeout=2s', app]);
  assert.match(twice.stderr, /^error: --timeout and -W timeout set the same limit\n/);
});

test('run -S http serves outgoing wasi:http to any host; without it the error names -S http', async () => {
  const server = createServer((req, res) => res.end(`pong ${req.url}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping`;
  try {
    const get = fixturePath('http-get');
    assert.deepEqual(await wasmhost(['run', '-S', 'http', get, url]), { code: 0, stdout: '200\npong /ping', stderr: '' });
    const off = await wasmhost(['run', get, url]);
    assert.equal(off.code, 1);
    assert.match(off.stderr, /^error: .*http-get\.wasm uses wasi:http \(it imports wasi:http\/outgoing-handler@0\.2\.12\), which run grants only when asked\nhint: -S http lets it send HTTP requests \(to any host\)\n$/);
  } finally {
    server.close();
  }
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
  assert.match(missing.stderr, /^error: .*missing-import\.wasm imports acme:missing\/thing@1\.0\.0, which nothing provides\nhint: wasmhost run gives a guest WASI 0\.2 .*wasmhost up/);

  const http = await wasmhost(['run', fixturePath('http-hello')]);
  assert.equal(http.code, 1);
  assert.match(http.stderr, /^error: .*http-hello\.wasm is an HTTP component \(it exports wasi:http\/incoming-handler\), not a command \(wasi:cli\/run\)\nhint: serve it: wasmhost serve .*http-hello\.wasm\n$/);

  const foreign = await wasmhost(['run', fixturePath('not-wasi-module')]);
  assert.equal(foreign.code, 1);
  assert.match(foreign.stderr, /imports env\.foo, which is not WASI preview1/);
});

test('run: a trap exits 134 (as wasmtime) with a one-line message', async () => {
  const r = await wasmhost(['run', fixturePath('trap')]);
  assert.equal(r.code, 134);
  assert.match(r.stderr, /^error: guest trapped: .*unreachable.*\n$/);
});
