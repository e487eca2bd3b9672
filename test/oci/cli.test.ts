// `wasmhost push` and `wasmhost pull`, spawned as a user would run them, against real registries.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startRegistry, registrySkip, type TestRegistry } from '../registry.ts';
import { fixturePath } from '../fixtures/index.ts';
import { RegistryClient, parseManifest } from '../../src/oci/index.ts';
import { silentServer, tempDir } from './helpers.ts';

const CLI = resolve(import.meta.dirname, '../../bin/wasmhost.js');

function wasmhost(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    const child = execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env }, timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
    child.stdin?.end(options.stdin ?? '');
  });
}

const USER = { username: 'bob', password: 'hunter2-but-longer' };

describe('wasmhost push / pull', { skip: registrySkip(['htpasswd']) }, () => {
  let open: TestRegistry;
  let locked: TestRegistry;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  // No Docker config of the machine leaks into these runs.
  const env = () => ({ DOCKER_CONFIG: join(tmp.dir, 'no-docker-config') });
  before(async () => {
    [open, locked, tmp] = await Promise.all([startRegistry(), startRegistry({ auth: { htpasswd: USER } }), tempDir()]);
  });
  after(async () => {
    await open?.close();
    await locked?.close();
    await tmp?.cleanup();
  });

  test('push prints the digest; pull prints the digest and the file, with equal bytes', async () => {
    const cache = join(tmp.dir, 'c1');
    const ref = `${open.host}/cli/calc:v1`;
    const push = await wasmhost(['push', '--insecure', '--cache-dir', cache, '--annotation', 'org.opencontainers.image.version=1.0', '--annotation', 'note=a=b', ref, fixturePath('calc')], { env: env() });
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /^sha256:[a-f0-9]{64}\n$/);
    const digest = push.stdout.trim();
    const manifest = parseManifest((await new RegistryClient({ registry: open.host, insecure: true }).getManifest('cli/calc', digest)).bytes, undefined, 'm');
    assert.deepEqual(manifest.annotations, { 'org.opencontainers.image.version': '1.0', note: 'a=b' });

    const out = join(tmp.dir, 'out.wasm');
    const pull = await wasmhost(['pull', '--insecure', '--cache-dir', cache, ref, '-o', out], { env: env() });
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(pull.stdout, `${digest}\n${out}\n`);
    assert.deepEqual(await readFile(out), await readFile(fixturePath('calc')));
    assert.equal(pull.stderr, '', 'no progress display when stderr is not a terminal');

    // Without -o: the path in the cache, under <cache-dir>/oci.
    const cached = await wasmhost(['pull', '--insecure', '--cache-dir', cache, '--pull-policy', 'never', ref], { env: env() });
    assert.equal(cached.code, 0, cached.stderr);
    const [d, path] = cached.stdout.trim().split('\n');
    assert.equal(d, digest);
    assert.ok(path.startsWith(join(cache, 'oci')), path);
    assert.deepEqual(await readFile(path), await readFile(fixturePath('calc')));
  });

  test('pull policies: never fails on an empty cache; if-not-present works with the registry gone', async () => {
    const cache = join(tmp.dir, 'c2');
    const reg = await startRegistry();
    try {
      const ref = `${reg.host}/cli/pure:v1`;
      assert.equal((await wasmhost(['push', '--insecure', '--cache-dir', cache, ref, fixturePath('pure')], { env: env() })).code, 0);
      const never = await wasmhost(['pull', '--cache-dir', cache, '--pull-policy', 'never', ref], { env: env() });
      assert.equal(never.code, 1);
      assert.match(never.stderr, new RegExp(`^error: ${ref} is not in the local cache .* and pull policy NEVER forbids pulling it\nhint: `));
      assert.equal((await wasmhost(['pull', '--insecure', '--cache-dir', cache, ref], { env: env() })).code, 0);
      await reg.stop();
      const offline = await wasmhost(['pull', '--cache-dir', cache, '--pull-policy', 'IF_NOT_PRESENT', ref], { env: env() });
      assert.equal(offline.code, 0, offline.stderr);
      const always = await wasmhost(['pull', '--insecure', '--cache-dir', cache, ref], { env: env() });
      assert.equal(always.code, 1);
      assert.match(always.stderr, /^error: cannot reach registry/);
      const bad = await wasmhost(['pull', '--cache-dir', cache, '--pull-policy', 'sometimes', ref], { env: env() });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /^error: --pull-policy sometimes: expected always, if-not-present or never/);
    } finally {
      await reg.close();
    }
  });

  test('refusals: a core module on push, a missing tag on pull, bad flags', async () => {
    const cache = join(tmp.dir, 'c3');
    const core = await wasmhost(['push', '--insecure', '--cache-dir', cache, `${open.host}/cli/core:v1`, fixturePath('hello-p1')], { env: env() });
    assert.equal(core.code, 1);
    assert.match(core.stderr, /^error: .*hello-p1\.wasm is a core WebAssembly module, not a component\n/);
    const missing = await wasmhost(['pull', '--insecure', '--cache-dir', cache, `${open.host}/cli/calc:absent`], { env: env() });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, new RegExp(`^error: ${open.host} has no (tag "absent" in|repository) cli/calc`));
    const noFile = await wasmhost(['push', '--insecure', `${open.host}/cli/x:1`, join(tmp.dir, 'nope.wasm')], { env: env() });
    assert.match(noFile.stderr, /^error: cannot read .*nope\.wasm: no such file\n/);
    const badRef = await wasmhost(['pull', 'Not/A Ref'], { env: env() });
    assert.equal(badRef.code, 1);
    assert.match(badRef.stderr, /^error: invalid image reference "Not\/A Ref"/);
    const badAnnotation = await wasmhost(['push', '--annotation', 'novalue', `${open.host}/cli/x:1`, fixturePath('calc')], { env: env() });
    assert.match(badAnnotation.stderr, /^error: --annotation novalue: expected key=value/);
    const userOnly = await wasmhost(['pull', '--user', 'bob', `${open.host}/cli/x:1`], { env: env() });
    assert.match(userOnly.stderr, /^error: --user bob needs --password or --password-stdin/);
  });

  test('credentials: --user/--password, --password-stdin, the Docker config; wrong ones refused', async () => {
    const cache = join(tmp.dir, 'c4');
    const ref = `${locked.host}/cli/private:v1`;
    const anon = await wasmhost(['push', '--insecure', '--cache-dir', cache, ref, fixturePath('calc')], { env: env() });
    assert.equal(anon.code, 1);
    assert.match(anon.stderr, new RegExp(`^error: ${locked.host} requires credentials to push`));
    const push = await wasmhost(['push', '--insecure', '--cache-dir', cache, '--user', USER.username, '--password', USER.password, ref, fixturePath('calc')], { env: env() });
    assert.equal(push.code, 0, push.stderr);
    const wrong = await wasmhost(['pull', '--insecure', '--cache-dir', cache, '-u', USER.username, '--password-stdin', ref], { env: env(), stdin: 'not-it\n' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, new RegExp(`^error: ${locked.host} refused the credentials of user "bob" to pull`));
    const stdin = await wasmhost(['pull', '--insecure', '--cache-dir', cache, '-u', USER.username, '--password-stdin', ref], { env: env(), stdin: `${USER.password}\n` });
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.equal(stdin.stdout.split('\n')[0], push.stdout.trim());
    const dockerDir = join(tmp.dir, 'docker');
    await mkdir(dockerDir, { recursive: true });
    await writeFile(join(dockerDir, 'config.json'), JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from(`${USER.username}:${USER.password}`).toString('base64') } } }));
    const fromConfig = await wasmhost(['pull', '--insecure', '--cache-dir', join(tmp.dir, 'c5'), ref], { env: { DOCKER_CONFIG: dockerDir } });
    assert.equal(fromConfig.code, 0, fromConfig.stderr);
  });

  test('--timeout: a registry that never answers ends the command with a clear error', async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      const r = await wasmhost(['pull', '--insecure', '--timeout', '500ms', '--cache-dir', join(tmp.dir, 'c6'), `${silent.host}/cli/x:1`], { env: env() });
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^error: pull of ${silent.host}/cli/x:1 did not finish within 500 ms\nhint: `));
      assert.ok(Date.now() - started < 20_000);
    } finally {
      await silent.close();
    }
  });
});
