/**
 * wasi:filesystem confinement: hostile paths, symlinks that lead out, read-only preopens.
 * Every escape must fail with `not-permitted` (wasmtime's answer) and leave the host's files
 * outside the preopen untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile as readHostFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { HostDir, PROCFS, withPath } from '../../src/wasi/filesystem/paths.ts';
import { OpenResources } from '../../src/wasi/filesystem/resources.ts';
import {
  CREATE,
  DIRECTORY,
  FOLLOW,
  NOFOLLOW,
  OPEN,
  READ,
  READ_WRITE,
  SECRET,
  TRUNCATE,
  WRITE,
  failure,
  readFile,
  sandbox,
  writeFile,
  type Sandbox,
} from './filesystem-helpers.ts';

/** Every way of reaching `path` through the preopen: each must be refused with `not-permitted`. */
async function assertAllRefused(s: Sandbox, path: string): Promise<void> {
  const d = s.dir;
  const attempts: [string, () => unknown][] = [
    ['open-at (follow)', () => d.openAt(FOLLOW, path, OPEN, READ)],
    ['open-at (no follow)', () => d.openAt(NOFOLLOW, path, OPEN, READ)],
    ['open-at create', () => d.openAt(FOLLOW, path, CREATE, WRITE)],
    ['stat-at', () => d.statAt(FOLLOW, path)],
    ['metadata-hash-at', () => d.metadataHashAt(FOLLOW, path)],
    ['readlink-at', () => d.readlinkAt(path)],
    ['create-directory-at', () => d.createDirectoryAt(path)],
    ['unlink-file-at', () => d.unlinkFileAt(path)],
    ['remove-directory-at', () => d.removeDirectoryAt(path)],
    ['rename-at (from)', () => d.renameAt(path, d, 'stolen')],
    ['rename-at (to)', () => d.renameAt('inside.txt', d, path)],
    ['link-at (from)', () => d.linkAt(NOFOLLOW, path, d, 'stolen')],
    ['link-at (to)', () => d.linkAt(NOFOLLOW, 'inside.txt', d, path)],
    ['symlink-at', () => d.symlinkAt('inside.txt', path)],
    ['set-times-at', () => d.setTimesAt(FOLLOW, path, { tag: 'now' }, { tag: 'now' })],
  ];
  for (const [name, attempt] of attempts) {
    assert.equal(await failure(attempt), 'not-permitted', `${name} ${path}`);
  }
}

/** The host tree next to the preopen is exactly as the sandbox made it. */
function assertOutsideUntouched(s: Sandbox): void {
  assert.deepEqual(readdirSync(s.outside), ['secret.txt']);
  assert.equal(readFileSync(join(s.outside, 'secret.txt'), 'utf8'), SECRET);
  assert.deepEqual(readdirSync(join(s.root, '..')).sort(), ['outside', 'root']);
}

async function withSandbox(body: (s: Sandbox) => Promise<void>, options: { readOnly?: boolean } = {}): Promise<void> {
  const s = await sandbox(options);
  try {
    await body(s);
  } finally {
    s.cleanup();
  }
}

test('.., a/../../x and absolute paths are refused by every call', () =>
  withSandbox(async (s) => {
    await writeFile(s.dir, 'inside.txt', 'in');
    mkdirSync(join(s.root, 'a'));
    for (const path of ['..', '../outside/secret.txt', 'a/../../outside/secret.txt', 'a/../..', '/etc/passwd', '/', `${s.outside}/secret.txt`]) {
      await assertAllRefused(s, path);
    }
    // `..` that stays inside is fine.
    assert.equal(await readFile(s.dir, 'a/../inside.txt'), 'in');
    assertOutsideUntouched(s);
  }));

test('a symlink inside the preopen to an absolute path (/etc) is never followed', () =>
  withSandbox(async (s) => {
    await writeFile(s.dir, 'inside.txt', 'in');
    symlinkSync('/etc', join(s.root, 'etc'));
    symlinkSync(join(s.outside, 'secret.txt'), join(s.root, 'secret'));
    for (const path of ['etc/passwd', 'etc/hostname', 'etc/../etc/passwd']) await assertAllRefused(s, path);
    // Naming the link itself: following it is refused; entry calls act on the link, inside.
    for (const path of ['etc', 'etc/', 'secret']) {
      assert.equal(await failure(() => s.dir.openAt(FOLLOW, path, OPEN, READ)), 'not-permitted', path);
      assert.equal(await failure(() => s.dir.openAt(FOLLOW, path, TRUNCATE, WRITE)), 'not-permitted', path);
      assert.equal(await failure(() => s.dir.setTimesAt(FOLLOW, path, { tag: 'now' }, { tag: 'now' })), 'not-permitted', path);
      assert.equal(await failure(() => s.dir.metadataHashAt(FOLLOW, path)), 'not-permitted', path);
    }
    assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, 'etc/', DIRECTORY, READ)), 'not-permitted');
    // The links themselves can still be looked at without following them.
    assert.equal(await s.dir.readlinkAt('etc'), '/etc');
    assert.equal((await s.dir.statAt(NOFOLLOW, 'etc')).type, 'symbolic-link');
    assert.equal(await failure(() => s.dir.statAt(FOLLOW, 'etc')), 'not-permitted');
    assertOutsideUntouched(s);
  }));

test('relative symlinks that climb out (.., ../outside, a chain) are refused; chains that stay inside work', () =>
  withSandbox(async (s) => {
    await writeFile(s.dir, 'inside.txt', 'in');
    mkdirSync(join(s.root, 'sub'));
    symlinkSync('..', join(s.root, 'up'));
    symlinkSync('../outside', join(s.root, 'out'));
    symlinkSync('../../outside/secret.txt', join(s.root, 'sub', 'deep'));
    symlinkSync('../up', join(s.root, 'sub', 'viaup'));
    // A chain: c1 -> c2 -> c3 -> ../outside
    symlinkSync('c2', join(s.root, 'c1'));
    symlinkSync('sub/../c3', join(s.root, 'c2'));
    symlinkSync('out', join(s.root, 'c3'));
    for (const path of ['up/outside/secret.txt', 'up', 'out/secret.txt', 'sub/deep', 'sub/viaup/outside/secret.txt', 'c1/secret.txt', 'c1']) {
      assert.equal(await failure(() => s.dir.openAt(FOLLOW, path, OPEN, READ)), 'not-permitted', path);
      assert.equal(await failure(() => s.dir.statAt(FOLLOW, path)), 'not-permitted', path);
    }
    for (const path of ['up/x', 'out/new.txt', 'c1/new.txt']) {
      assert.equal(await failure(() => s.dir.openAt(FOLLOW, path, CREATE, WRITE)), 'not-permitted', path);
      assert.equal(await failure(() => s.dir.createDirectoryAt(path)), 'not-permitted', path);
      assert.equal(await failure(() => s.dir.unlinkFileAt(path)), 'not-permitted', path);
    }

    // A chain that stays inside resolves, however it winds.
    symlinkSync('i2', join(s.root, 'i1'));
    symlinkSync('sub/../i3', join(s.root, 'i2'));
    symlinkSync('./inside.txt', join(s.root, 'i3'));
    assert.equal(await readFile(s.dir, 'i1'), 'in');
    assertOutsideUntouched(s);
  }));

test('symlink loops end with loop, not a hang', () =>
  withSandbox(async (s) => {
    symlinkSync('self', join(s.root, 'self'));
    symlinkSync('pong', join(s.root, 'ping'));
    symlinkSync('ping', join(s.root, 'pong'));
    assert.equal(await failure(() => s.dir.openAt(FOLLOW, 'self', OPEN, READ)), 'loop');
    assert.equal(await failure(() => s.dir.statAt(FOLLOW, 'ping/x')), 'loop');
    assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, 'ping', OPEN, READ)), 'loop');
  }));

test('a dangling symlink to outside cannot be used to create a file there', () =>
  withSandbox(async (s) => {
    symlinkSync(join(s.outside, 'planted.txt'), join(s.root, 'abs'));
    symlinkSync('../outside/planted.txt', join(s.root, 'rel'));
    for (const path of ['abs', 'rel']) {
      assert.equal(await failure(() => s.dir.openAt(FOLLOW, path, CREATE, WRITE)), 'not-permitted', path);
      // Without follow, O_NOFOLLOW refuses the link itself.
      assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, path, CREATE, WRITE)), 'loop', path);
    }
    assertOutsideUntouched(s);
  }));

test('the guest cannot create absolute symlinks, and renames cannot carry files out', () =>
  withSandbox(async (s) => {
    await writeFile(s.dir, 'inside.txt', 'in');
    assert.equal(await failure(() => s.dir.symlinkAt('/etc/passwd', 'pw')), 'not-permitted');
    assert.ok(!existsSync(join(s.root, 'pw')));
    symlinkSync('../outside', join(s.root, 'out'));
    assert.equal(await failure(() => s.dir.renameAt('inside.txt', s.dir, 'out/inside.txt')), 'not-permitted');
    assert.equal(await failure(() => s.dir.linkAt(NOFOLLOW, 'inside.txt', s.dir, '../inside.txt')), 'not-permitted');
    assert.ok(existsSync(join(s.root, 'inside.txt')));
    assertOutsideUntouched(s);
  }));

test('a directory descriptor confines to itself: .. out of a subdirectory is an escape', () =>
  withSandbox(async (s) => {
    await writeFile(s.dir, 'inside.txt', 'in');
    mkdirSync(join(s.root, 'sub'));
    const sub = await s.dir.openAt(NOFOLLOW, 'sub', DIRECTORY, READ);
    assert.equal(await failure(() => sub.openAt(NOFOLLOW, '../inside.txt', OPEN, READ)), 'not-permitted');
    symlinkSync('../inside.txt', join(s.root, 'sub', 'up'));
    assert.equal(await failure(() => sub.openAt(FOLLOW, 'up', OPEN, READ)), 'not-permitted');
    sub[Symbol.dispose]();
  }));

test('NUL bytes and empty paths are invalid, not truncated', () =>
  withSandbox(async (s) => {
    await writeFile(s.dir, 'f', 'x');
    assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, 'f\0', OPEN, READ)), 'invalid');
    assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, 'f\0/../../etc/passwd', OPEN, READ)), 'invalid');
    assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, '', OPEN, READ)), 'no-entry');
    assert.equal(await failure(() => s.dir.symlinkAt('f\0', 'g')), 'invalid');
  }));

test('a read-only preopen refuses every mutation and leaves the host tree unchanged', () =>
  withSandbox(
    async (s) => {
      // The host populates the volume; the guest may only read it.
      writeFileSync(join(s.root, 'f.txt'), 'original');
      mkdirSync(join(s.root, 'sub'));
      writeFileSync(join(s.root, 'sub', 'g.txt'), 'g');
      const snapshot = () => JSON.stringify([readdirSync(s.root).sort(), readdirSync(join(s.root, 'sub')), statSync(join(s.root, 'f.txt')).mtimeMs]);
      const before = snapshot();

      assert.deepEqual(s.dir.getFlags(), { ...READ, mutateDirectory: false });
      assert.equal(await readFile(s.dir, 'f.txt'), 'original');

      const now = { tag: 'now' } as const;
      const refused: [string, () => unknown][] = [
        ['open for write', () => s.dir.openAt(NOFOLLOW, 'f.txt', OPEN, WRITE)],
        ['open read-write', () => s.dir.openAt(NOFOLLOW, 'f.txt', OPEN, READ_WRITE)],
        ['open create', () => s.dir.openAt(NOFOLLOW, 'new.txt', CREATE, READ)],
        ['open truncate', () => s.dir.openAt(NOFOLLOW, 'f.txt', TRUNCATE, READ)],
        ['create-directory-at', () => s.dir.createDirectoryAt('newdir')],
        ['remove-directory-at', () => s.dir.removeDirectoryAt('sub')],
        ['unlink-file-at', () => s.dir.unlinkFileAt('f.txt')],
        ['rename-at', () => s.dir.renameAt('f.txt', s.dir, 'moved.txt')],
        ['link-at', () => s.dir.linkAt(NOFOLLOW, 'f.txt', s.dir, 'hard.txt')],
        ['symlink-at', () => s.dir.symlinkAt('f.txt', 'soft')],
        ['set-times-at', () => s.dir.setTimesAt(NOFOLLOW, 'f.txt', now, now)],
        ['set-times', () => s.dir.setTimes(now, now)],
      ];
      for (const [name, attempt] of refused) assert.equal(await failure(attempt), 'not-permitted', name);
      assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, 'sub', DIRECTORY, { ...READ, mutateDirectory: true })), 'read-only');

      // Read-only is inherited by everything opened below it.
      const sub = await s.dir.openAt(NOFOLLOW, 'sub', DIRECTORY, READ);
      assert.equal(sub.getFlags().mutateDirectory, false);
      assert.equal(await failure(() => sub.unlinkFileAt('g.txt')), 'not-permitted');
      assert.equal(await failure(() => sub.openAt(NOFOLLOW, 'g.txt', OPEN, WRITE)), 'not-permitted');
      assert.equal(await failure(() => sub.createDirectoryAt('x')), 'not-permitted');
      const file = await sub.openAt(NOFOLLOW, 'g.txt', OPEN, READ);
      assert.equal(await failure(() => file.writeViaStream(0n)), 'not-permitted');
      assert.equal(await failure(() => file.appendViaStream()), 'not-permitted');
      assert.equal(await failure(() => file.write(Buffer.from('x'), 0n)), 'not-permitted');
      assert.equal(await failure(() => file.setSize(0n)), 'not-permitted');
      assert.equal(await failure(() => file.setTimes(now, now)), 'not-permitted');
      assert.deepEqual(await file.read(10n, 0n), [Buffer.from('g'), false]);
      file[Symbol.dispose]();
      sub[Symbol.dispose]();

      assert.equal(snapshot(), before);
      assert.equal(readFileSync(join(s.root, 'f.txt'), 'utf8'), 'original');
    },
    { readOnly: true },
  ));

test('a directory swapped for a symlink after it was walked does not redirect the call (procfs walk)', { skip: !PROCFS && 'needs /proc: elsewhere the walk re-reads paths' }, async () => {
  const s = await sandbox();
  const resources = new OpenResources();
  try {
    mkdirSync(join(s.root, 'sub'));
    writeFileSync(join(s.root, 'sub', 'secret.txt'), 'inside');
    const dir = await HostDir.open(s.root, resources.set);
    const read = await withPath(dir, 'sub/secret.txt', 'nofollow', async (target) => {
      // Another instance sharing the volume swaps `sub` for a symlink out of it, mid-call.
      renameSync(join(s.root, 'sub'), join(s.root, 'sub.old'));
      symlinkSync(relative(s.root, s.outside), join(s.root, 'sub'));
      return readHostFile(target.host, 'utf8');
    });
    assert.equal(read, 'inside');
    dir.close();
    assert.equal(resources.size, 0);
  } finally {
    resources.closeAll();
    s.cleanup();
  }
});
