// Components built by real toolchains in the shapes users bring (test/fixtures/README.md, "Native
// fixtures"): Rust (Debian's rustc, wasm32-wasi, hand-written wit-bindgen-style bindings) and C
// (clang + wasi-libc), each core module made a component with jco's preview1 adapter, so each
// component holds a main module, the adapter module and the shim and fixup modules. Run end to
// end: the Rust hello over real HTTP, the Rust key-value counter through a host with the
// in-memory keyvalue plugin, the C command with a WasiContext, and a Rust guest-defined resource
// used by another Rust component, linked by hand and in one workload. Plus the smallest
// component written as component WAT.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Engine, WasiContext, createWasiImports, type WasiOptions } from '../../src/index.ts';
import type { Host } from '../../src/host/host.ts';
import { HostBuilder } from '../../src/host/host.ts';
import { HostRouter } from '../../src/http/router.ts';
import { HttpServer } from '../../src/http/server.ts';
import { keyValuePlugin, MemoryKeyValueBackend } from '../../src/plugins/keyvalue/index.ts';
import { closeFilesystem } from '../../src/wasi/filesystem/index.ts';
import { coreModulesOf } from '../fixtures/build.ts';
import { fixturePath } from '../fixtures/index.ts';
import { component, engine as hostEngine, memoryLogger, startedHost, workload } from '../host/helpers.ts';
import type { WitInterfaceInput, WorkloadInput } from '../../src/workload/types.ts';

const engine = new Engine({ cacheDir: false });
const wasi = (options: WasiOptions = {}) => createWasiImports(new WasiContext(options));

// --- the standard shape ------------------------------------------------------------------------

test('every native fixture is a main module, the preview1 adapter, a shim and a fixup module', () => {
  for (const name of ['rust-http-hello', 'rust-kv-counter', 'rust-res-provider', 'rust-res-consumer', 'c-cli']) {
    const modules = coreModulesOf(readFileSync(fixturePath(name)));
    assert.equal(modules.length, 4, `${name}: ${modules.length} core modules`);
    // Only the main module defines a memory: the adapter imports it, shim and fixup have none.
    assert.deepEqual(
      modules.map((m) => m.memoryPages !== undefined),
      [true, false, false, false],
      name,
    );
  }
});

// --- wasi:http over real HTTP: rust-http-hello and rust-kv-counter ----------------------------

let host: Host;
let http: HttpServer;
const kvBackend = new MemoryKeyValueBackend();

const httpInterface = (hostName: string) => ({ namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], version: '0.2.12', config: { host: hostName } });
const kvInterface = (config: Record<string, string> = {}) => ({ namespace: 'wasi', package: 'keyvalue', interfaces: ['store', 'atomics'], version: '0.2.0-draft', config });

function httpWorkload(name: string, fixture: string, hostInterfaces: WitInterfaceInput[]): WorkloadInput {
  return { namespace: 'test', name, witWorld: { components: [{ name: 'web', file: fixturePath(fixture) }], hostInterfaces } };
}

/** A request to the workload routed by `hostName`: status, content-type and body. */
function request(hostName: string, path: string, method = 'GET', body?: string): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: http.port, path, method, headers: { host: hostName } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body: text }));
    });
    req.on('error', reject).end(body);
  });
}

before(async () => {
  const { logger } = memoryLogger();
  http = new HttpServer({ address: '127.0.0.1:0', router: new HostRouter(), logger });
  host = new HostBuilder()
    .withEngine(hostEngine)
    .withLogger(logger)
    .withHttpHandler(http)
    .withPlugin(keyValuePlugin({ backend: kvBackend }))
    .withGuestOutput('ignore')
    .build();
  await host.start();
  const workloads: Array<[string, WorkloadInput]> = [
    ['hello', httpWorkload('hello', 'rust-http-hello', [httpInterface('hello.test')])],
    ['kv', httpWorkload('kv', 'rust-kv-counter', [httpInterface('kv.test'), kvInterface()])],
    ['kv-denied', httpWorkload('kv-denied', 'rust-kv-counter', [httpInterface('denied.test'), kvInterface({ buckets: 'other' })])],
  ];
  for (const [id, spec] of workloads) {
    const { workloadStatus } = await host.workloadStart({ workloadId: id, workload: spec });
    assert.equal(workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', `${id}: ${workloadStatus.message}`);
  }
});

after(() => host.stop());

test('rust-http-hello answers every request with 200 text/plain "hello from rust\\n"', async () => {
  const expected = { status: 200, type: 'text/plain', body: 'hello from rust\n' };
  assert.deepEqual(await request('hello.test', '/'), expected);
  assert.deepEqual(await request('hello.test', '/any/path?x=1'), expected);
  assert.deepEqual(await request('hello.test', '/', 'POST', 'a body it never reads'), expected);
  // Many in a row and at once: each request is handled whole, nothing leaks between them.
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => request('hello.test', `/${i}`)));
  assert.deepEqual(many, Array(20).fill(expected));
});

test('rust-kv-counter counts 1, 2, 3 per key in the bucket "default"', async () => {
  const hit = async (path: string) => {
    const res = await request('kv.test', path);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.type, 'text/plain');
    return res.body;
  };
  assert.equal(await hit('/'), 'counter = 1\n');
  assert.equal(await hit('/'), 'counter = 2\n');
  assert.equal(await hit('/home'), 'home = 1\n');
  assert.equal(await hit('/'), 'counter = 3\n');
  assert.equal(await hit('/home?ignored=query'), 'home = 2\n');
  assert.equal(await hit('/a/b'), 'a/b = 1\n');
  assert.equal(await hit('/home'), 'home = 3\n');
});

test('rust-kv-counter answers a keyvalue error with 500 and its debug text', async () => {
  // The workload may open only "other": open("default") is access-denied.
  assert.deepEqual(await request('denied.test', '/'), { status: 500, type: 'text/plain', body: 'Error::AccessDenied\n' });
  // A value that is not a number cannot be incremented: an `other(string)` error.
  await kvBackend.set('test/kv/default', 'text', new TextEncoder().encode('not a number'));
  assert.deepEqual(await request('kv.test', '/text'), {
    status: 500,
    type: 'text/plain',
    body: 'Error::Other("cannot increment key \\"text\\": its value is not a decimal u64")\n',
  });
  assert.equal((await request('kv.test', '/')).body, 'counter = 4\n', 'the next request is served normally');
});

// --- a C command: c-cli with a WasiContext -------------------------------------------------------

const cli = await engine.compile(fixturePath('c-cli'));

/** Runs c-cli with `args`: exit code, stdout and stderr. */
async function runCli(args: string[], options: WasiOptions = {}) {
  const ctx = new WasiContext({ stdout: 'capture', stderr: 'capture', ...options, args: ['c-cli', ...args] });
  try {
    const code = await (await cli.instantiate(createWasiImports(ctx))).run();
    return { code, stdout: ctx.capturedStdout().toString(), stderr: ctx.capturedStderr().toString() };
  } finally {
    closeFilesystem(ctx);
  }
}

test('c-cli: arguments, environment and stderr', async () => {
  assert.deepEqual(await runCli(['args', 'one', 'two words', '', 'ünïcode']), { code: 0, stdout: 'one\ntwo words\n\nünïcode\n', stderr: '' });
  assert.deepEqual(await runCli(['env'], { env: { B: '2', A: '1=one' } }), { code: 0, stdout: 'A=1=one\nB=2\n', stderr: '' });
  assert.deepEqual(await runCli(['getenv', 'A'], { env: { A: '1=one' } }), { code: 0, stdout: '1=one\n', stderr: '' });
  assert.deepEqual(await runCli(['getenv', 'PATH']), { code: 0, stdout: '<unset>\n', stderr: '' });
  assert.deepEqual(await runCli(['stderr', 'to', 'stderr']), { code: 0, stdout: '', stderr: 'to stderr\n' });
  // No arguments: the command line comes from CLI_APP_ARGS, as for cli-app.
  assert.deepEqual(await runCli([], { env: { CLI_APP_ARGS: 'args x  y' } }), { code: 0, stdout: 'x\ny\n', stderr: '' });
});

test('c-cli: stdin is copied to stdout, small and large', async () => {
  assert.deepEqual(await runCli(['stdin'], { stdin: 'from a string\n' }), { code: 0, stdout: 'from a string\n', stderr: '' });
  const big = Buffer.alloc(300_000, 'x');
  assert.equal((await runCli(['stdin'], { stdin: big })).stdout, big.toString());
  const stream = Readable.from([Buffer.from('chunk one, '), Buffer.from('chunk two')]);
  assert.equal((await runCli(['stdin'], { stdin: stream })).stdout, 'chunk one, chunk two');
  assert.deepEqual(await runCli(['stdin']), { code: 0, stdout: '', stderr: '' });
});

test('c-cli: files in a preopened directory', async () => {
  const root = mkdtempSync(join(tmpdir(), 'wasmhost-c-cli-'));
  try {
    const preopens = [{ hostPath: root, guestPath: '/data' }];
    writeFileSync(join(root, 'a.txt'), 'alpha\n');
    mkdirSync(join(root, 'sub'));
    assert.deepEqual(await runCli(['read', '/data/a.txt'], { preopens }), { code: 0, stdout: 'alpha\n', stderr: '' });
    assert.deepEqual(await runCli(['write', '/data/w.txt', 'written', 'by C'], { preopens }), { code: 0, stdout: '', stderr: '' });
    assert.equal(readFileSync(join(root, 'w.txt'), 'utf8'), 'written by C');
    assert.deepEqual(await runCli(['ls', '/data'], { preopens }), { code: 0, stdout: 'a.txt\nsub\nw.txt\n', stderr: '' });
    assert.deepEqual(await runCli(['read', '/data/nope.txt'], { preopens }), { code: 1, stdout: '', stderr: 'error: /data/nope.txt: no-entry\n' });
    assert.deepEqual(await runCli(['ls', '/data/a.txt'], { preopens }), { code: 1, stdout: '', stderr: 'error: /data/a.txt: not-directory\n' });
    assert.deepEqual(await runCli(['read', '/elsewhere/x'], { preopens }), {
      code: 1,
      stdout: '',
      stderr: 'error: /elsewhere/x: no preopened directory contains this path\n',
    });
    const readOnly = [{ hostPath: root, guestPath: '/data', readOnly: true }];
    assert.deepEqual(await runCli(['write', '/data/w.txt', 'again'], { preopens: readOnly }), { code: 1, stdout: '', stderr: 'error: /data/w.txt: not-permitted\n' });
    assert.equal(readFileSync(join(root, 'w.txt'), 'utf8'), 'written by C', 'a read-only preopen is not written');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('c-cli: exit codes go through the preview1 adapter (every non-zero code is exit(err), i.e. 1)', async () => {
  assert.deepEqual(await runCli(['exit', '0']), { code: 0, stdout: '', stderr: '' });
  assert.deepEqual(await runCli(['exit', '3']), { code: 1, stdout: '', stderr: '' });
  // main() returning 2 is proc_exit(2): 1 as well.
  assert.deepEqual(await runCli(['getenv']), { code: 1, stdout: '', stderr: 'error: getenv: missing argument\n' });
  assert.deepEqual(await runCli(['bogus']), { code: 1, stdout: '', stderr: 'error: unknown command "bogus"\n' });
  assert.deepEqual(await runCli([]), { code: 1, stdout: '', stderr: 'error: unknown command ""\n' });
  // Still here: the next instance runs normally.
  assert.equal((await runCli(['args', 'alive'])).stdout, 'alive\n');
});

// --- a guest-defined resource used by another component: rust-res-provider, rust-res-consumer ---

/** run(5) on a fresh provider (see test/fixtures/rust-res/consumer.rs for what each value is). */
const RUN_5 = [0, 2, 6, 8, 14, 16, 2, 8, 16, 1, 4, 3, 2, 4, 0];

test('rust-res: linked by hand, the consumer owns, lends and drops counters defined by the provider', async () => {
  const [provider, consumer] = await Promise.all(['rust-res-provider', 'rust-res-consumer'].map((n) => engine.compile(fixturePath(n))));
  const providerInstance = await provider.instantiate(wasi());
  const counters = providerInstance.exports['test:res/counters@0.1.0'] as Record<string, unknown>;
  assert.ok(counters, `exports: ${Object.keys(providerInstance.exports).join(', ')}`);
  const consumerInstance = await consumer.instantiate({ ...wasi(), 'test:res/counters': counters });
  assert.deepEqual([...((await consumerInstance.call('test:res/consumer#run', 5)) as Iterable<number>)], RUN_5);
  // The same provider instance: ids go on from 6 (the second run's b is #7, its kept one #9).
  assert.deepEqual([...((await consumerInstance.call('test:res/consumer#run', 1)) as Iterable<number>)], [0, 2, 2, 4, 6, 8, 7, 4, 12, 1, 4, 3, 2, 9, 0]);

  // The host holds a counter of the provider too, and lends it.
  type Counter = { incr(by: number): Promise<number> | number; label(): Promise<string> | string };
  const open = counters.open as (start: number) => Promise<Counter> | Counter;
  const live = counters.live as () => Promise<number> | number;
  const total = counters.total as (a: Counter, b: Counter) => Promise<number> | number;
  const mine = await open(40);
  assert.equal(await mine.incr(2), 42);
  assert.equal(await mine.label(), 'counter #11 = 42');
  assert.equal(await live(), 1);
  assert.equal(await total(mine, mine), 84);
});

test('rust-res: the pair runs linked in one workload, from fresh instances per invocation', async () => {
  const { host: linkHost } = await startedHost();
  try {
    const spec = workload([component('consumer', 'rust-res-consumer'), component('provider', 'rust-res-provider')]);
    const { workloadStatus } = await linkHost.workloadStart({ workloadId: 'res', workload: spec });
    assert.equal(workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', workloadStatus.message);
    const first = linkHost.workload('res')!.invocation('consumer');
    try {
      assert.deepEqual([...((await first.call('test:res/consumer#run', 5)) as Iterable<number>)], RUN_5);
      assert.deepEqual(first.instantiated, ['consumer', 'provider']);
    } finally {
      await first.close();
    }
    const second = linkHost.workload('res')!.invocation('consumer');
    try {
      assert.deepEqual([...((await second.call('test:res/consumer#run', 5)) as Iterable<number>)], RUN_5, 'a fresh provider counts from 1 again');
    } finally {
      await second.close();
    }
  } finally {
    await linkHost.stop();
  }
});

// --- component WAT ------------------------------------------------------------------------------

test('wat-adder: a component written as component WAT, with a nested component', async () => {
  const instance = await (await engine.compile(fixturePath('wat-adder'))).instantiate({});
  assert.equal(await instance.call('test:adder/math#add', 2, 40), 42);
  assert.equal(await instance.call('double', 21), 42);
});
