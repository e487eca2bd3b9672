// `wasmhost dev` as users run it: a real process on a copy of a fixture in a temp folder, the
// file replaced (by rename, as editors save, and in place) and the new answer seen, a broken
// version reported while the old one keeps serving, requests in flight finishing on the old one.
// Every wait is for a line the process prints or an answer it gives, never for a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fixturePath } from '../fixtures/index.ts';
import { freePort } from '../free-port.ts';

const CLI = resolve(import.meta.dirname, '../../bin/wasmhost.js');

/** A `wasmhost dev` process whose stdout and stderr lines can be waited for. */
function startDev(args: string[], cwd: string) {
  const addr = args.includes('--addr') ? [] : ['--addr', '127.0.0.1:0'];
  const child = spawn(process.execPath, [CLI, 'dev', ...args, ...addr], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  const waiters: (() => void)[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    createInterface({ input: child[stream] }).on('line', (line) => {
      lines[stream].push(line);
      for (const wake of waiters.splice(0)) wake();
    });
  }
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let gone = false;
  exited.then(() => {
    gone = true;
    for (const wake of waiters.splice(0)) wake();
  });
  /** Counts of lines seen so far, to wait only for lines printed after this point. */
  const mark = () => ({ stdout: lines.stdout.length, stderr: lines.stderr.length });
  /** The first line of `stream` matching `pattern` from `from` on. */
  async function line(stream: 'stdout' | 'stderr', pattern: RegExp, from = 0): Promise<RegExpExecArray> {
    for (;;) {
      for (let i = from; i < lines[stream].length; i++) {
        const m = pattern.exec(lines[stream][i]);
        if (m) return m;
      }
      if (gone) throw new Error(`exited before printing ${pattern}: ${lines.stderr.join('\n')}`);
      await new Promise<void>((r) => waiters.push(r));
    }
  }
  return { child, exited, lines, mark, line };
}

async function get(url: string): Promise<string> {
  const res = await fetch(url);
  return res.text();
}

/** Replaces `path` as editors do: a new file renamed over it. */
async function replaceByRename(path: string, from: string): Promise<void> {
  await copyFile(from, `${path}.tmp`);
  await rename(`${path}.tmp`, path);
}

test('dev: a replaced component is swapped in, requests in flight finish on the old one, and a broken one leaves the old one serving', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-dev-'));
  const app = join(dir, 'app.wasm');
  await copyFile(fixturePath('http-test'), app);
  const dev = startDev(['app.wasm'], dir);
  try {
    const url = (await dev.line('stdout', /^Serving HTTP on (\S+)$/))[1];
    await dev.line('stdout', /^Watching app\.wasm for changes$/);
    assert.equal(await get(url), 'hello from js');

    // A slow response has begun on the current version when the file is replaced.
    const slow = await fetch(`${url}stream?chunks=3&delay=300`);
    const reader = slow.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), 'chunk 0\n');

    let at = dev.mark();
    await replaceByRename(app, fixturePath('http-hello'));
    await dev.line('stdout', /^reloaded app\.wasm in \d+ ms$/, at.stdout);
    assert.equal(await get(url), 'hello', 'new requests go to the new version');
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    assert.equal(rest, 'chunk 1\nchunk 2\n', 'the request in flight finished on the old version');

    at = dev.mark();
    await writeFile(app, 'this is not a component');
    const error = await dev.line('stderr', /^error: app\.wasm: (.*)$/, at.stderr);
    assert.match(error[1], /not a WebAssembly binary/);
    await dev.line('stderr', /^hint: the previous version is still serving/, at.stderr);
    assert.equal(await get(url), 'hello', 'the old version still serves');

    at = dev.mark();
    await copyFile(fixturePath('http-test'), app); // in place this time
    await dev.line('stdout', /^reloaded app\.wasm in \d+ ms$/, at.stdout);
    assert.equal(await get(url), 'hello from js');
    assert.equal(dev.lines.stdout.filter((l) => l.startsWith('reloaded')).length, 2, 'one reload per save');

    dev.child.kill('SIGTERM');
    assert.equal(await dev.exited, 0, dev.lines.stderr.join('\n'));
  } finally {
    dev.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('dev: a workload manifest reloads when it or a component file it names changes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-dev-'));
  const manifest = join(dir, 'workload.yaml');
  const write = (greeting: string) =>
    writeFile(
      manifest,
      [
        'name: greeter',
        'witWorld:',
        '  components:',
        '    - name: web',
        '      file: comp.wasm',
        '      localResources:',
        `        environment: { GREETING: ${greeting} }`,
        '  hostInterfaces:',
        '    - { namespace: wasi, package: http, interfaces: [incoming-handler] }',
        '',
      ].join('\n'),
    );
  await write('one');
  await copyFile(fixturePath('http-test'), join(dir, 'comp.wasm'));
  const dev = startDev(['workload.yaml'], dir);
  try {
    await dev.line('stdout', /^Workload default\/greeter is running$/);
    const url = (await dev.line('stdout', /^ {2}(http\S+)$/))[1];
    await dev.line('stdout', /^Watching workload\.yaml, comp\.wasm for changes$/);
    assert.equal(await get(`${url}env?name=GREETING`), 'one');

    let at = dev.mark();
    await write('two');
    await dev.line('stdout', /^reloaded workload\.yaml in \d+ ms$/, at.stdout);
    assert.equal(await get(`${url}env?name=GREETING`), 'two');

    at = dev.mark();
    await replaceByRename(join(dir, 'comp.wasm'), fixturePath('http-hello'));
    await dev.line('stdout', /^reloaded comp\.wasm in \d+ ms$/, at.stdout);
    assert.equal(await get(url), 'hello');

    at = dev.mark();
    await writeFile(manifest, 'name: greeter\nwitWorld: { components: [ { name: web } ] }\n');
    await dev.line('stderr', /^error: workload\.yaml: /, at.stderr);
    await dev.line('stderr', /^hint: the previous version is still serving/, at.stderr);
    assert.equal(await get(url), 'hello', 'the old version still serves');

    dev.child.kill('SIGTERM');
    assert.equal(await dev.exited, 0, dev.lines.stderr.join('\n'));
  } finally {
    dev.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('dev: a component that does not start at first is served once it is fixed; the port listens only then', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-dev-'));
  const app = join(dir, 'app.wasm');
  await writeFile(app, 'not yet');
  const port = await freePort();
  const dev = startDev(['app.wasm', '--addr', `127.0.0.1:${port}`], dir);
  try {
    await dev.line('stderr', /^error: app\.wasm: .*not a WebAssembly binary/);
    await dev.line('stderr', /^hint: nothing is served yet; fix it and save again/);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`), (err: Error) => (err.cause as NodeJS.ErrnoException)?.code === 'ECONNREFUSED');
    await replaceByRename(app, fixturePath('http-hello'));
    const url = (await dev.line('stdout', /^Serving HTTP on (\S+)$/))[1];
    assert.equal(url, `http://127.0.0.1:${port}/`);
    assert.equal(await get(url), 'hello');
    dev.child.kill('SIGTERM');
    assert.equal(await dev.exited, 0);
  } finally {
    dev.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('dev --log-format json: its errors and notes are JSON lines too', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-dev-'));
  await writeFile(join(dir, 'app.wasm'), 'not yet');
  const dev = startDev(['app.wasm', '--log-format', 'json'], dir);
  try {
    // The host's own log line of the failed start comes first (level 50); then the command's error.
    const line = (await dev.line('stderr', /"hint":"nothing is served yet/)).input;
    const entry = JSON.parse(line) as { level: number; msg: string; hint: string };
    assert.equal(entry.level, 60);
    assert.match(entry.msg, /^app\.wasm: .*not a WebAssembly binary/);
    assert.match(entry.hint, /^nothing is served yet; fix it and save again/);
    for (const l of dev.lines.stderr) JSON.parse(l); // every stderr line so far is JSON
    dev.child.kill('SIGTERM');
    assert.equal(await dev.exited, 0);
  } finally {
    dev.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
