// `wasmhost serve` and `wasmhost up` as users run them: a real process, the URL on the first line,
// real HTTP requests, and a graceful stop on SIGTERM/SIGINT with exit code 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { examplePath, examplesDir, fixturePath } from '../fixtures/index.ts';

const CLI = resolve(import.meta.dirname, '../../bin/wasmhost.js');

/** Starts `wasmhost <args>`, resolves with its first stdout lines once `lines` have arrived. */
function start(args: string[], lines = 1) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const first = new Promise<string[]>((resolveLines, reject) => {
    const got: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      got.push(line);
      if (got.length === lines) resolveLines(got);
    });
    exited.then((code) => reject(new Error(`exited with ${code} before printing: ${stderr}`)));
  });
  first.catch(() => {}); // a test that expects the process to fail does not await it
  return { child, first, exited, stderr: () => stderr };
}

test('serve: prints the URL first, serves the component, and exits 0 after SIGTERM', async () => {
  const s = start(['serve', fixturePath('http-test'), '--addr', '127.0.0.1:0', '--env', 'GREETING=served']);
  const [line] = await s.first;
  const url = /^Serving HTTP on (http:\/\/127\.0\.0\.1:\d+\/)$/.exec(line)?.[1];
  assert.ok(url, line);
  assert.equal(await (await fetch(url)).text(), 'hello from js');
  assert.equal(await (await fetch(`${url}env?name=GREETING`)).text(), 'served');
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0, s.stderr());
});

test('serve: a request in flight when SIGINT arrives still completes', async () => {
  const s = start(['serve', fixturePath('http-test'), '--addr', '127.0.0.1:0']);
  const url = (await s.first)[0].split(' ').at(-1)!;
  const slow = fetch(`${url}stream?chunks=2&delay=700`).then((r) => r.text());
  await new Promise((r) => setTimeout(r, 300));
  s.child.kill('SIGINT');
  assert.equal(await slow, 'chunk 0\nchunk 1\n');
  assert.equal(await s.exited, 0, s.stderr());
});

test('serve: a missing file and a taken address are one-line errors with exit 1', async () => {
  const missing = start(['serve', 'no-such.wasm']);
  assert.equal(await missing.exited, 1);
  assert.match(missing.stderr(), /^error: .*no-such\.wasm/m);
  const first = start(['serve', fixturePath('http-hello'), '--addr', '127.0.0.1:0']);
  const port = new URL((await first.first)[0].split(' ').at(-1)!).port;
  const second = start(['serve', fixturePath('http-hello'), '--addr', `127.0.0.1:${port}`]);
  assert.equal(await second.exited, 1);
  assert.match(second.stderr(), /cannot listen on 127\.0\.0\.1:\d+: the address is in use/);
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
});

test('up: the example workload runs with key-value, config and logging, and prints its URL', async () => {
  examplePath('http-counter'); // built by the test script's first step
  const s = start(['up', resolve(examplesDir, 'http-counter/workload.yaml'), '--addr', '127.0.0.1:0'], 2);
  const [headline, urlLine] = await s.first;
  assert.equal(headline, 'Workload default/http-counter is running');
  const url = urlLine.trim();
  assert.equal(await (await fetch(`${url}hello`)).text(), 'Hello from wasmhost, visitor #1 of /hello\n');
  assert.equal(await (await fetch(`${url}hello`)).text(), 'Hello from wasmhost, visitor #2 of /hello\n');
  assert.equal(await (await fetch(`${url}other`)).text(), 'Hello from wasmhost, visitor #1 of /other\n');
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0);
  assert.match(s.stderr(), /"component":"http-counter".*\/hello/, 'the guest logged through wasi:logging');
});
