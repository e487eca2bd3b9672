// The package as users get it: `npm pack` (which builds dist/ through `prepack`), the tarball
// installed into a fresh project with npm, then the library (the root entry and every subpath),
// the `wasmhost` command and the shipped type declarations used from that project, never from
// this repository's source. One install for the whole file: it takes tens of seconds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fixturePath } from '../fixtures/index.ts';

const REPO = resolve(import.meta.dirname, '../..');
const PACKAGE = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8'));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * This process's Node (24) first on the PATH, as a user who installed Node 24 has it, and none
 * of the parent npm's `npm_*` variables (the scripts of `npm test` would leak into the child npm).
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
  env.WASMHOST_CACHE_DIR = join(work, 'cache');
  return env;
}

function exec(file: string, args: string[], cwd: string, timeout = 240_000): Promise<Result> {
  return new Promise((done) => {
    execFile(file, args, { cwd, env: userEnv(), timeout, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

let work = '';
let project = '';
let tarball = '';
let files: string[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'wasmhost-package-'));
  project = join(work, 'project');
  const packed = await exec('npm', ['pack', '--json', '--pack-destination', work], REPO);
  assert.equal(packed.code, 0, packed.stderr);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')));
  tarball = join(work, info.filename);
  files = info.files.map((f: { path: string }) => f.path);

  await exec('mkdir', ['-p', project], work);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // With Node's types for the Node it runs on, as a TypeScript user of Node 24 has them.
  const nodeTypes = `@types/node@${JSON.parse(await readFile(join(REPO, 'node_modules/@types/node/package.json'), 'utf8')).version}`;
  const installed = await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, nodeTypes], project);
  assert.equal(installed.code, 0, installed.stderr);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('the tarball holds the build, the bin and the WIT, not the source, tests or benchmarks', () => {
  for (const f of ['package.json', 'README.md', 'bin/wasmhost.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/engine/prepare-worker.js']) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  assert.ok(files.some((f) => f.startsWith('wit/')));
  assert.deepEqual(files.filter((f) => /^(src|test|bench|examples|\.ci)\//.test(f) || f.endsWith('.ts') && !f.endsWith('.d.ts')), []);
  assert.equal(PACKAGE.engines.node, '>=24');
  // Every entry of `exports` (and the bin) points at a file that ships.
  for (const [subpath, entry] of Object.entries(PACKAGE.exports as Record<string, string | { types: string; default: string }>)) {
    for (const target of typeof entry === 'string' ? [entry] : [entry.types, entry.default]) {
      assert.ok(files.includes(target.replace(/^\.\//, '')), `${subpath} -> ${target} ships`);
    }
  }
});

test('the installed library: the root entry and every subpath load and work', async () => {
  const script = `
    import { writeFileSync } from 'node:fs';
    import { Engine, WasiContext, createWasiImports, HostBuilder, HttpServer, MemoryKeyValueBackend, keyValuePlugin } from 'wasmhost';
    import { Limiter, parseInterfaceName } from 'wasmhost/engine';
    import { NatsKeyValueBackend, NatsBlobstoreBackend, NatsBroker } from 'wasmhost/nats';
    import { postgresPlugin, PostgresKeyValueBackend } from 'wasmhost/postgres';
    import { OciClient, parseReference } from 'wasmhost/oci';
    import { Washlet, hostSubject } from 'wasmhost/washlet';

    const out = {};
    const engine = new Engine({ cacheDir: false });
    // A component, with a limiter from the engine subpath.
    const pure = await engine.compile(${JSON.stringify(fixturePath('pure'))});
    out.add = await (await pure.instantiate({}, { limiter: new Limiter({ memoryBytes: 2 ** 24 }) })).call('add', 40, 2);
    out.addType = pure.exportedFunction('add').params.map((p) => p.name + ': ' + p.type.kind).join(', ');
    // A preview1 module: wrapped on the preparing thread (dist/engine/prepare-worker.js).
    const p1 = await engine.compile(${JSON.stringify(fixturePath('hello-p1'))});
    const wasi = new WasiContext({ stdout: 'capture' });
    out.exit = await (await p1.instantiate(createWasiImports(wasi))).run();
    out.stdout = wasi.capturedStdout().toString();
    // A host serving a wasi:http component (the host reads its version from package.json).
    const http = new HttpServer({ address: '127.0.0.1:0' });
    const host = new HostBuilder().withEngine(engine).withHttpHandler(http)
      .withPlugin(keyValuePlugin({ backend: new MemoryKeyValueBackend() })).withGuestOutput('ignore').build();
    await host.start();
    const { workloadStatus } = await host.workloadStart({ workloadId: 'hello', workload: {
      namespace: 'default', name: 'hello',
      witWorld: { components: [{ name: 'hello', file: ${JSON.stringify(fixturePath('http-hello'))} }],
        hostInterfaces: [{ namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'] }] } } });
    out.state = workloadStatus.workloadState;
    out.http = await (await fetch(http.url)).text();
    out.version = host.version;
    await host.stop();
    out.subpaths = [parseInterfaceName('wasi:cli/run@0.2.0').interface, typeof NatsKeyValueBackend, typeof NatsBlobstoreBackend,
      typeof NatsBroker, typeof postgresPlugin({ url: 'postgres://nobody@127.0.0.1:1/x' }).id, typeof PostgresKeyValueBackend,
      typeof OciClient, parseReference('ghcr.io/acme/app:1.0').repository, typeof Washlet, hostSubject('h1')];
    writeFileSync(process.argv[2], JSON.stringify(out));
  `;
  await writeFile(join(project, 'use.mjs'), script);
  const r = await exec(process.execPath, ['use.mjs', 'out.json'], project);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(await readFile(join(project, 'out.json'), 'utf8'));
  assert.equal(out.add, 42);
  assert.equal(out.addType, 'a: u32, b: u32');
  assert.equal(out.exit, 7);
  assert.equal(out.stdout, 'hello from preview1\n');
  assert.equal(out.state, 'WORKLOAD_STATE_RUNNING');
  assert.match(out.http, /hello/i);
  assert.equal(out.version, PACKAGE.version);
  assert.deepEqual(out.subpaths, ['run', 'function', 'function', 'function', 'string', 'function', 'function', 'acme/app', 'function', 'runtime.host.h1.>']);
});

test('the installed command: npx wasmhost and the bin run the build', async () => {
  const version = await exec('npx', ['--no-install', 'wasmhost', '--version'], project);
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout.trim(), PACKAGE.version);

  const run = await exec('npx', ['--no-install', 'wasmhost', 'run', fixturePath('cli-app'), 'args', 'a', 'b c'], project);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'a\nb c\n');
  const p1 = await exec(join(project, 'node_modules/.bin/wasmhost'), ['run', fixturePath('hello-p1')], project);
  assert.equal(p1.stdout, 'hello from preview1\n');
  assert.equal(p1.code, 7);
});

test('the installed command under an older Node says to install Node 24, not to run npx', async (t) => {
  const old = await exec('/usr/bin/node', ['--version'], project);
  const major = Number(/^v(\d+)/.exec(old.stdout)?.[1]);
  if (old.code !== 0 || !(major < 24)) return t.skip('no Node older than 24 at /usr/bin/node');
  const r = await exec('/usr/bin/node', [join(project, 'node_modules/wasmhost/bin/wasmhost.js'), '--version'], project);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: wasmhost needs Node\.js >= 24 \(this is v\d+[.\d]*\)\nhint: install Node\.js 24 or later/);
  assert.doesNotMatch(r.stderr, /npx/);
});

test('the shipped declarations type-check a consumer (and reject a wrong call)', async () => {
  const consumer = `
    import { Engine, WasiContext, createWasiImports, HostBuilder, type Workload, type WasiOptions } from 'wasmhost';
    import { Limiter, type FuncType } from 'wasmhost/engine';
    import { NatsKeyValueBackend } from 'wasmhost/nats';
    import { postgresPlugin } from 'wasmhost/postgres';
    import { parseReference, type Reference } from 'wasmhost/oci';
    import { hostSubject } from 'wasmhost/washlet';

    const engine = new Engine({ cacheDir: false });
    const component = await engine.compile('app.wasm');
    const type: FuncType | undefined = component.exportedFunction('add');
    const options: WasiOptions = { args: ['app'], env: { A: '1' }, stdout: 'capture' };
    const wasi = new WasiContext(options);
    const instance = await component.instantiate(createWasiImports(wasi), { limiter: new Limiter({ memoryBytes: 1 << 24 }) });
    const code: number = await instance.run();
    const workload: Workload | undefined = undefined;
    const host = new HostBuilder().build();
    const ref: Reference = parseReference('ghcr.io/acme/app:1.0');
    export const used = [type, code, workload, host.version, ref, hostSubject('x'), postgresPlugin, NatsKeyValueBackend];
    // @ts-expect-error cacheDir is a directory or false
    new Engine({ cacheDir: 1 });
  `;
  await writeFile(join(project, 'consumer.ts'), consumer);
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2024',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
      },
      files: ['consumer.ts'],
    }),
  );
  const r = await exec(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', '.'], project);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('installing from the lock file leaves it as it is', async () => {
  // What a fresh clone's `npm install` does to the lock, without installing: resolve it again.
  const dir = join(work, 'lock');
  await exec('mkdir', ['-p', dir], work);
  for (const f of ['package.json', 'package-lock.json', '.npmrc']) {
    await writeFile(join(dir, f), await readFile(join(REPO, f)));
  }
  const r = await exec('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await readFile(join(dir, 'package-lock.json'), 'utf8'), await readFile(join(REPO, 'package-lock.json'), 'utf8'));
  assert.ok((await readdir(dir)).every((f) => f !== 'node_modules'));
});
