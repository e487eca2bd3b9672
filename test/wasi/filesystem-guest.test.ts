/**
 * wasi:filesystem under a real component (cli-app, through jco's glue and JSPI): the glue
 * accepts our resource classes, lifts flags, and turns thrown codes into guest `result` errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.ts';
import { WasiContext } from '../../src/wasi/context.ts';
import { closeFilesystem } from '../../src/wasi/filesystem/index.ts';
import { createWasiImports } from '../../src/wasi/imports.ts';
import { fixturePath } from '../fixtures/index.ts';

const engine = new Engine({ cacheDir: false });
const app = await engine.compile(fixturePath('cli-app'));

async function run(args: string[], preopen: { hostPath: string; readOnly?: boolean }) {
  const ctx = new WasiContext({
    args: ['cli-app', ...args],
    stdout: 'capture',
    stderr: 'capture',
    preopens: [{ ...preopen, guestPath: '/data' }],
  });
  try {
    const code = await (await app.instantiate(createWasiImports(ctx))).run();
    return { code, stdout: ctx.capturedStdout().toString(), stderr: ctx.capturedStderr().toString() };
  } finally {
    closeFilesystem(ctx);
  }
}

function tree(): { base: string; root: string } {
  const base = mkdtempSync(join(tmpdir(), 'wasmhost-fs-guest-'));
  const root = join(base, 'root');
  mkdirSync(root);
  writeFileSync(join(base, 'secret.txt'), 'host secret');
  return { base, root };
}

test('a guest writes, lists and reads back files in its preopen', async () => {
  const { base, root } = tree();
  try {
    const w = await run(['write', '/data/note.txt', 'from the guest'], { hostPath: root });
    assert.equal(w.code, 0, w.stderr);
    assert.equal(readFileSync(join(root, 'note.txt'), 'utf8'), 'from the guest');
    mkdirSync(join(root, 'sub'));
    assert.equal((await run(['ls', '/data'], { hostPath: root })).stdout, 'note.txt\nsub\n');
    assert.equal((await run(['read', '/data/note.txt'], { hostPath: root })).stdout, 'from the guest');
    const missing = await run(['read', '/data/nope.txt'], { hostPath: root });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'error: /data/nope.txt: no-entry\n');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a guest cannot climb out with .. or through a symlink, and sees not-permitted', async () => {
  const { base, root } = tree();
  try {
    symlinkSync('..', join(root, 'up'));
    symlinkSync('/etc', join(root, 'etc'));
    for (const path of ['/data/../secret.txt', '/data/up/secret.txt', '/data/etc/passwd']) {
      const r = await run(['read', path], { hostPath: root });
      assert.equal(r.code, 1, path);
      assert.equal(r.stdout, '', path);
      assert.equal(r.stderr, `error: ${path}: not-permitted\n`);
    }
    const w = await run(['write', '/data/up/secret.txt', 'overwritten'], { hostPath: root });
    assert.equal(w.stderr, 'error: /data/up/secret.txt: not-permitted\n');
    assert.equal(readFileSync(join(base, 'secret.txt'), 'utf8'), 'host secret');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a guest cannot write to a read-only preopen', async () => {
  const { base, root } = tree();
  try {
    writeFileSync(join(root, 'f.txt'), 'original');
    const r = await run(['write', '/data/f.txt', 'changed'], { hostPath: root, readOnly: true });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: /data/f.txt: not-permitted\n');
    const created = await run(['write', '/data/new.txt', 'x'], { hostPath: root, readOnly: true });
    assert.equal(created.stderr, 'error: /data/new.txt: not-permitted\n');
    assert.deepEqual(readdirSync(root), ['f.txt']);
    assert.equal(readFileSync(join(root, 'f.txt'), 'utf8'), 'original');
    assert.equal((await run(['read', '/data/f.txt'], { hostPath: root, readOnly: true })).stdout, 'original');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
