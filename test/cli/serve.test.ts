// `wasmhost serve` and `wasmhost up` as users run them: a real process, the URL on the first line,
// real HTTP requests, and a graceful stop on SIGTERM/SIGINT with exit code 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { examplePath, examplesDir, fixturePath } from '../fixtures/index.ts';
import { freePort } from '../free-port.ts';

const CLI = resolve(import.meta.dirname, '../../bin/wasmhost.js');

function onPath(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts `wasmhost <args>`, resolves with its first stdout lines once `lines` have arrived. */
function start(args: string[], lines = 1) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  // 'close', not 'exit': by then all of stderr has arrived, and a signal is named in place of a code.
  const exited = new Promise<number | string | null>((r) => child.once('close', (code, signal) => r(code ?? signal)));
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
  assert.match(s.stderr(), /\nINFO  default\/http-counter http-counter: GET \/hello: visitor #1\n/, 'the guest logged through wasi:logging');
});

test('up --max-guest-memory sets the limit of instances whose component sets none, and a bad size is named', async () => {
  const s = start(['up', resolve(examplesDir, 'http-counter/workload.yaml'), '--addr', '127.0.0.1:0', '--max-guest-memory', '8MiB'], 2);
  const url = (await s.first)[1].trim();
  const res = await fetch(`${url}hello`);
  assert.equal(res.status, 500);
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0);
  assert.match(s.stderr(), /request failed in the guest: guest needs [\d.]+ MiB to start, over its memory limit of 8 MiB/);
  const bad = start(['up', resolve(examplesDir, 'http-counter/workload.yaml'), '--max-guest-memory', 'lots']);
  assert.equal(await bad.exited, 1);
  assert.equal(bad.stderr(), 'error: --max-guest-memory lots: expected a size such as 64MiB, 512K or 1GiB\n');
});

/** GET on a new connection (so that `--workers` hands each to the next process), answering the status and body. */
function getFresh(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/**
 * Polls `url` from the moment the process starts until its first line is out and three requests
 * have been answered: every answer must be a 200 (refused connections are fine: not listening yet).
 */
async function pollFromStart(s: ReturnType<typeof start>, url: string): Promise<{ statuses: number[]; refused: number; firstAfterLine: number }> {
  const statuses: number[] = [];
  let refused = 0;
  let lineOut = false;
  let firstAfterLine = 0;
  s.first.then(() => (lineOut = true), () => {});
  for (let answered = 0; answered < 3; ) {
    const lineWasOut = lineOut;
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      statuses.push(res.status);
      if (lineWasOut && !firstAfterLine) firstAfterLine = res.status;
      if (lineWasOut) answered++;
    } catch {
      refused++;
      assert.ok(!lineWasOut, 'once the URL line is out, the port answers');
      if (s.child.exitCode !== null) throw new Error(`exited: ${s.stderr()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return { statuses, refused, firstAfterLine };
}

test('serve listens only once the component is ready: polled from the start, the port never answers 404', async () => {
  const port = await freePort();
  const s = start(['serve', fixturePath('http-test'), '--addr', `127.0.0.1:${port}`]);
  const { statuses, refused, firstAfterLine } = await pollFromStart(s, `http://127.0.0.1:${port}/`);
  assert.ok(refused > 0, 'the first polls found nothing listening (the component was being prepared)');
  assert.deepEqual([...new Set(statuses)], [200]);
  assert.equal(firstAfterLine, 200);
  assert.equal((await s.first)[0], `Serving HTTP on http://127.0.0.1:${port}/`);
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0, s.stderr());
});

test('up listens only once the workload runs: polled from the start, the port never answers 404', async () => {
  const port = await freePort();
  const s = start(['up', resolve(examplesDir, 'http-counter/workload.yaml'), '--addr', `127.0.0.1:${port}`], 2);
  const { statuses } = await pollFromStart(s, `http://127.0.0.1:${port}/ready`);
  assert.deepEqual([...new Set(statuses)], [200]);
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0, s.stderr());
});

test('serve --workers 2: two processes share the port, each with its own instances', async () => {
  // One warm instance per process counts the requests it served: on new connections, handed to
  // the processes in turn, every count shows up once per process.
  const s = start(['serve', '--workers', '2', '--pool-size', '1', fixturePath('http-test'), '--addr', '127.0.0.1:0']);
  const url = (await s.first)[0].split(' ').at(-1)!;
  const counts: string[] = [];
  for (let i = 0; i < 8; i++) {
    const r = await getFresh(`${url}count`);
    assert.equal(r.status, 200);
    counts.push(r.body);
  }
  const perCount = new Map<string, number>();
  for (const c of counts) perCount.set(c, (perCount.get(c) ?? 0) + 1);
  assert.ok(Math.max(...perCount.values()) >= 2, `a count answered by two processes: ${counts.join(' ')}`);
  assert.ok(perCount.size < counts.length);
  assert.match(s.stderr(), /note: 2 worker processes \(pids \d+, \d+\) share the port/);
  assert.equal(s.stderr().match(/Serving HTTP/g), null, 'the URL line is printed once, on stdout');
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0, s.stderr());
});

test('up --workers 2 refuses a workload whose state would live in one process, naming the shared backends', async () => {
  const s = start(['up', '--workers', '2', resolve(examplesDir, 'http-counter/workload.yaml'), '--addr', '127.0.0.1:0']);
  assert.equal(await s.exited, 1);
  assert.equal(
    s.stderr(),
    "error: --workers 2: workload default/http-counter uses key-value, which up keeps in one process's memory; 2 processes would each see their own\n" +
      'hint: keep the state where processes share it: key-value and blobstore on the filesystem (--data-dir), or on NATS or PostgreSQL (wasmhost host); or run one worker\n',
  );
});

test('up --workers 2 --data-dir: the processes share key-value on disk, and no increment is lost', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wasmhost-workers-'));
  const s = start(['up', '--workers', '2', '--data-dir', dataDir, resolve(examplesDir, 'http-counter/workload.yaml'), '--addr', '127.0.0.1:0', '--log-level', 'warn'], 2);
  try {
    const url = (await s.first)[1].trim();
    const answers = await Promise.all(Array.from({ length: 12 }, () => getFresh(`${url}visits`)));
    const visitors = answers.map((a) => Number(/visitor #(\d+)/.exec(a.body)?.[1])).toSorted((a, b) => a - b);
    assert.deepEqual(visitors, Array.from({ length: 12 }, (_, i) => i + 1));
    s.child.kill('SIGINT');
    assert.equal(await s.exited, 0, s.stderr());
  } finally {
    s.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('serve and up say what to use instead when given the wrong kind of file', async () => {
  const command = start(['serve', fixturePath('cli-app'), '--addr', '127.0.0.1:0']);
  assert.equal(await command.exited, 1);
  assert.match(command.stderr(), /^error: .*cli-app\.wasm is a command \(it exports wasi:cli\/run\), not an HTTP component \(wasi:http\/incoming-handler\)\nhint: run it: wasmhost run .*cli-app\.wasm\n$/);
  const plain = start(['serve', fixturePath('pure'), '--addr', '127.0.0.1:0']);
  assert.equal(await plain.exited, 1);
  assert.match(plain.stderr(), /^error: .*pure\.wasm does not export wasi:http\/incoming-handler, so it has no HTTP to serve\nhint: serve takes a wasi:http component; call its exports with wasmhost run --invoke/);
  const wasm = start(['up', fixturePath('http-hello')]);
  assert.equal(await wasm.exited, 1);
  assert.match(wasm.stderr(), /^error: .*http-hello\.wasm is a component, not a workload manifest\nhint: serve an HTTP component with wasmhost serve .*; up takes a workload manifest \(\.yaml or \.json\)/);
  assert.ok(wasm.stderr().length < 1000, 'no bytes of the component are printed');
});

test('a bad TLS file is named with what is wrong with it', { skip: onPath('openssl') ? false : 'no openssl to make certificates' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-tls-'));
  try {
    const pair = (name: string) =>
      new Promise<void>((done, fail) =>
        execFile('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`), '-days', '1', '-subj', '/CN=localhost'], (err) => (err ? fail(err) : done())),
      );
    await pair('a');
    await pair('b');
    await writeFile(join(dir, 'notes.txt'), 'not a certificate');
    const serveWith = async (cert: string, key: string) => {
      const s = start(['serve', fixturePath('http-hello'), '--addr', '127.0.0.1:0', '--tls-cert', join(dir, cert), '--tls-key', join(dir, key)]);
      assert.equal(await s.exited, 1);
      return s.stderr();
    };
    assert.match(await serveWith('missing.crt', 'a.key'), /^error: --tls-cert .*missing\.crt: no such file\n$/);
    assert.match(await serveWith('notes.txt', 'a.key'), /^error: --tls-cert .*notes\.txt: not a PEM certificate \(no "-----BEGIN CERTIFICATE-----" line\)\nhint: give the certificate in PEM form\n$/);
    assert.match(await serveWith('a.key', 'a.crt'), /not a PEM certificate .*\nhint: this looks like a private key: give it to --tls-key\n$/);
    assert.match(await serveWith('a.crt', 'b.key'), /^error: --tls-key .*b\.key is not the key of the certificate in --tls-cert .*a\.crt\nhint: /);
    const ok = start(['serve', fixturePath('http-hello'), '--addr', '127.0.0.1:0', '--tls-cert', join(dir, 'a.crt'), '--tls-key', join(dir, 'a.key')]);
    assert.match((await ok.first)[0], /^Serving HTTP on https:\/\/127\.0\.0\.1:\d+\/$/);
    ok.child.kill('SIGTERM');
    assert.equal(await ok.exited, 0, ok.stderr());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a second Ctrl-C stops at once, and says so', async () => {
  const s = start(['serve', fixturePath('http-test'), '--addr', '127.0.0.1:0']);
  const url = (await s.first)[0].split(' ').at(-1)!;
  const slow = fetch(`${url}stream?chunks=3&delay=3000`).then((r) => r.text()).catch(() => 'cut');
  await new Promise((r) => setTimeout(r, 300));
  s.child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 300));
  s.child.kill('SIGINT');
  assert.equal(await s.exited, 130);
  assert.match(s.stderr(), /note: SIGINT: stopping \(waiting for requests in flight; Ctrl-C again stops at once\)\nnote: SIGINT again: stopping now, without waiting for requests in flight\n/);
  assert.notEqual(await slow, 'chunk 0\nchunk 1\nchunk 2\n');
});

test('up ends with exit code 1 when its workload fails after it started (its service failed for good)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-up-'));
  try {
    const manifest = join(dir, 'failing.yaml');
    await writeFile(
      manifest,
      [
        'name: failing',
        'service:',
        `  file: ${fixturePath('apps-service')}`,
        '  maxRestarts: 0',
        '  localResources: { environment: { TICKS: "1", INTERVAL_MS: "10", EXIT_CODE: "3" } }',
        'witWorld:',
        '  components:',
        `    - { name: ticker, file: ${fixturePath('apps-ticker')} }`,
        '  hostInterfaces:',
        '    - { namespace: wasi, package: logging, interfaces: [logging], version: 0.1.0-draft }',
        '',
      ].join('\n'),
    );
    const s = start(['up', manifest, '--addr', '127.0.0.1:0']);
    assert.equal(await s.exited, 1);
    assert.match(s.stderr(), /\nerror: workload default\/failing failed: service failed: .*3.*\n/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('logs: human lines by default; --log-format json makes every stderr line JSON', async () => {
  const human = start(['up', resolve(examplesDir, 'http-counter/workload.yaml'), '--addr', '127.0.0.1:0'], 2);
  const url = (await human.first)[1].trim();
  await (await fetch(`${url}hello`)).text();
  human.child.kill('SIGTERM');
  assert.equal(await human.exited, 0);
  const lines = human.stderr().trim().split('\n');
  assert.deepEqual(lines.filter((l) => l.startsWith('{')), [], 'no JSON on a human stderr');
  assert.ok(lines.some((l) => /^INFO  .*http-counter.*: .*\/hello/.test(l)), `the guest's log line, in words:\n${human.stderr()}`);
  assert.ok(lines.includes('note: key-value and blobstore: in memory (gone when stopped; --data-dir keeps them)'));

  const json = start(['up', resolve(examplesDir, 'http-counter/workload.yaml'), '--addr', '127.0.0.1:0', '--log-format', 'json'], 2);
  await (await fetch(`${(await json.first)[1].trim()}hello`)).text();
  json.child.kill('SIGTERM');
  assert.equal(await json.exited, 0);
  const entries = json.stderr().trim().split('\n').map((l) => JSON.parse(l) as { msg?: string; component?: string });
  assert.ok(entries.some((e) => e.component === 'http-counter' && /\/hello/.test(e.msg ?? '')));
  assert.ok(entries.some((e) => e.msg === 'key-value and blobstore: in memory (gone when stopped; --data-dir keeps them)'));
  assert.ok(entries.some((e) => /^SIGTERM: stopping/.test(e.msg ?? '')));

  const error = start(['serve', 'no-such.wasm', '--log-format', 'json']);
  assert.equal(await error.exited, 1);
  assert.deepEqual(JSON.parse(error.stderr()), { level: 60, time: JSON.parse(error.stderr()).time, msg: 'cannot read no-such.wasm: no such file' });
});

test('up --webgpu serves wasi:webgpu to a workload that declares it; without the flag its start fails naming the interface', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-up-gpu-'));
  try {
    const manifest = join(dir, 'gpu.yaml');
    await writeFile(manifest, `name: gpu\nwitWorld:\n  components:\n    - name: gpu\n      file: ${fixturePath('gpu-compute')}\n  hostInterfaces:\n    - wasi:webgpu/webgpu@0.0.1\n`);
    const without = start(['up', manifest, '--addr', '127.0.0.1:0']);
    assert.equal(await without.exited, 1);
    assert.match(without.stderr(), /component "gpu" needs wasi:webgpu\/webgpu@0\.0\.1, which no plugin of this host serves/);
    const s = start(['up', manifest, '--addr', '127.0.0.1:0', '--webgpu']);
    try {
      assert.equal((await s.first)[0], 'Workload default/gpu is running (it serves no HTTP)');
    } finally {
      s.child.kill('SIGTERM');
    }
    assert.equal(await s.exited, 0, s.stderr());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
