/** wasi:filesystem called as jco's glue calls it: round trips, metadata, streams, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WasiContext } from '../../src/wasi/context.ts';
import { DirectoryEntryStream } from '../../src/wasi/filesystem/directory.ts';
import { Descriptor } from '../../src/wasi/filesystem/descriptor.ts';
import { ERROR_CODES, errnoToCode } from '../../src/wasi/filesystem/errors.ts';
import { closeFilesystem, filesystemImports } from '../../src/wasi/filesystem/index.ts';
import { IoError } from '../../src/wasi/io/error.ts';
import { preciseTimes } from '../../src/wasi/filesystem/times.ts';
import { InputStream, OutputStream } from '../../src/wasi/io/streams.ts';
import {
  CREATE,
  DIRECTORY,
  FOLLOW,
  NOFOLLOW,
  OPEN,
  READ,
  READ_WRITE,
  TRUNCATE,
  WRITE,
  failure,
  readAll,
  readFile,
  sandbox,
  writeFile,
} from './filesystem-helpers.ts';

test('get-directories hands out the preopens as directory descriptors of the exported classes', async () => {
  const s = await sandbox();
  try {
    const imports = filesystemImports(s.ctx);
    const types = imports['wasi:filesystem/types'];
    assert.equal(types.Descriptor, Descriptor);
    assert.equal(types.DirectoryEntryStream, DirectoryEntryStream);
    assert.ok(s.dir instanceof Descriptor);
    assert.equal(s.guestPath, '/data');
    assert.equal(await s.dir.getType(), 'directory');
    const flags = s.dir.getFlags();
    assert.equal(flags.read, true);
    assert.equal(flags.mutateDirectory, true);
    assert.equal(flags.write, false);
  } finally {
    s.cleanup();
  }
});

test('a preopen that does not exist fails when the imports are built, not inside the guest', () => {
  const ctx = new WasiContext({ preopens: [{ hostPath: '/nonexistent/wasmhost-test', guestPath: '/' }] });
  assert.throws(() => filesystemImports(ctx), /preopen \/nonexistent\/wasmhost-test/);
});

test('write through a stream, read it back through a stream and through the host', async () => {
  const s = await sandbox();
  try {
    await writeFile(s.dir, 'hello.txt', 'hello, world\n');
    assert.equal(readFileSync(join(s.root, 'hello.txt'), 'utf8'), 'hello, world\n');
    assert.equal(await readFile(s.dir, 'hello.txt'), 'hello, world\n');

    const file = await s.dir.openAt(NOFOLLOW, 'hello.txt', OPEN, READ);
    assert.ok(file.readViaStream(7n) instanceof InputStream);
    assert.equal(await readAll(file.readViaStream(7n)), 'world\n');
    // A read past the end is end of stream, not an error.
    assert.deepEqual(await failure(() => file.readViaStream(100n).read(10n)), { tag: 'closed' });
    file[Symbol.dispose]();
  } finally {
    s.cleanup();
  }
});

test('positional read and write (pread/pwrite) and append', async () => {
  const s = await sandbox();
  try {
    const file = await s.dir.openAt(NOFOLLOW, 'data.bin', CREATE, READ_WRITE);
    assert.equal(await file.write(Buffer.from('abcdef'), 0n), 6n);
    assert.equal(await file.write(Buffer.from('XY'), 2n), 2n);
    assert.deepEqual(await file.read(100n, 0n), [Buffer.from('abXYef'), false]);
    assert.deepEqual(await file.read(3n, 4n), [Buffer.from('ef'), false]);
    const [empty, end] = await file.read(10n, 6n);
    assert.equal(empty.length, 0);
    assert.equal(end, true);

    const appender = file.appendViaStream();
    assert.ok(appender instanceof OutputStream);
    await appender.blockingWriteAndFlush(Buffer.from('++'));
    await appender.blockingWriteAndFlush(Buffer.from('!'));
    assert.equal(readFileSync(join(s.root, 'data.bin'), 'utf8'), 'abXYef++!');

    // A stream at an offset keeps its own position across writes.
    const out = file.writeViaStream(1n);
    await out.blockingWriteAndFlush(Buffer.from('1'));
    await out.blockingWriteAndFlush(Buffer.from('2'));
    assert.equal(readFileSync(join(s.root, 'data.bin'), 'utf8'), 'a12Yef++!');
    file[Symbol.dispose]();
  } finally {
    s.cleanup();
  }
});

test('stat, set-size, truncate on open, and stat-at agree with the host', async () => {
  const s = await sandbox();
  try {
    await writeFile(s.dir, 'f.txt', '12345');
    const file = await s.dir.openAt(NOFOLLOW, 'f.txt', OPEN, READ_WRITE);
    const st = await file.stat();
    assert.equal(st.type, 'regular-file');
    assert.equal(st.size, 5n);
    assert.equal(st.linkCount, 1n);
    const mtime = statSync(join(s.root, 'f.txt'), { bigint: true }).mtimeNs;
    assert.equal(st.dataModificationTimestamp!.seconds * 1_000_000_000n + BigInt(st.dataModificationTimestamp!.nanoseconds), mtime);

    await file.setSize(2n);
    assert.equal(statSync(join(s.root, 'f.txt')).size, 2);
    assert.equal((await s.dir.statAt(NOFOLLOW, 'f.txt')).size, 2n);

    const truncated = await s.dir.openAt(NOFOLLOW, 'f.txt', TRUNCATE, READ);
    assert.equal(statSync(join(s.root, 'f.txt')).size, 0);
    // Truncating opens for writing, as wasmtime does.
    assert.equal(truncated.getFlags().write, true);
    file[Symbol.dispose]();
    truncated[Symbol.dispose]();

    assert.equal((await s.dir.stat()).type, 'directory');
    assert.equal(await failure(() => s.dir.statAt(NOFOLLOW, 'missing')), 'no-entry');
  } finally {
    s.cleanup();
  }
});

test('create-directory, read-directory, rename, link, symlink, readlink, unlink, remove-directory', async () => {
  const s = await sandbox();
  try {
    await s.dir.createDirectoryAt('sub');
    assert.ok(statSync(join(s.root, 'sub')).isDirectory());
    assert.equal(await failure(() => s.dir.createDirectoryAt('sub')), 'exist');

    await writeFile(s.dir, 'sub/a.txt', 'A');
    await s.dir.linkAt(NOFOLLOW, 'sub/a.txt', s.dir, 'hard.txt');
    assert.equal((await s.dir.statAt(NOFOLLOW, 'hard.txt')).linkCount, 2n);
    await s.dir.symlinkAt('sub/a.txt', 'soft');
    assert.equal(await s.dir.readlinkAt('soft'), 'sub/a.txt');
    assert.equal((await s.dir.statAt(NOFOLLOW, 'soft')).type, 'symbolic-link');
    assert.equal((await s.dir.statAt(FOLLOW, 'soft')).type, 'regular-file');

    const stream = await s.dir.readDirectory();
    const entries = [];
    for (let e = await stream.readDirectoryEntry(); e; e = await stream.readDirectoryEntry()) entries.push(e);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(entries, [
      { type: 'regular-file', name: 'hard.txt' },
      { type: 'symbolic-link', name: 'soft' },
      { type: 'directory', name: 'sub' },
    ]);
    assert.equal(await stream.readDirectoryEntry(), undefined);

    await s.dir.renameAt('sub/a.txt', s.dir, 'b.txt');
    assert.ok(existsSync(join(s.root, 'b.txt')) && !existsSync(join(s.root, 'sub/a.txt')));
    assert.equal(await failure(() => s.dir.removeDirectoryAt('.')), 'invalid');
    await writeFile(s.dir, 'sub/c.txt', 'C');
    assert.equal(await failure(() => s.dir.removeDirectoryAt('sub')), 'not-empty');
    assert.equal(await failure(() => s.dir.unlinkFileAt('sub')), 'is-directory');
    await s.dir.unlinkFileAt('sub/c.txt');
    await s.dir.removeDirectoryAt('sub');
    await s.dir.unlinkFileAt('soft');
    assert.ok(!existsSync(join(s.root, 'sub')));
    assert.ok(existsSync(join(s.root, 'b.txt')), 'unlinking a symlink leaves its target');
  } finally {
    s.cleanup();
  }
});

test('open-at flags: exclusive, directory, missing, trailing slashes, no-follow', async () => {
  const s = await sandbox();
  try {
    await writeFile(s.dir, 'f', 'x');
    mkdirSync(join(s.root, 'd'));
    symlinkSync('f', join(s.root, 'link'));
    assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, 'f', { ...CREATE, exclusive: true }, WRITE)), 'exist');
    assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, 'f', DIRECTORY, READ)), 'not-directory');
    assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, 'missing', OPEN, READ)), 'no-entry');
    assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, 'd', { ...DIRECTORY, create: true }, READ)), 'invalid');
    assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, 'f/', OPEN, READ)), 'not-directory');
    assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, 'new/', CREATE, WRITE)), 'is-directory');
    assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, 'link', OPEN, READ)), 'loop');
    assert.equal(await failure(() => s.dir.openAt(NOFOLLOW, 'd', OPEN, READ_WRITE)), 'is-directory');
    const viaLink = await s.dir.openAt(FOLLOW, 'link', OPEN, READ);
    assert.equal(await viaLink.getType(), 'regular-file');
    const d = await s.dir.openAt(NOFOLLOW, 'd/', DIRECTORY, READ);
    assert.equal(await d.getType(), 'directory');
    viaLink[Symbol.dispose]();
    d[Symbol.dispose]();
  } finally {
    s.cleanup();
  }
});

test('descriptor flags are honoured: no write through a read-only descriptor, no read through a write-only one', async () => {
  const s = await sandbox();
  try {
    await writeFile(s.dir, 'f', 'content');
    const ro = await s.dir.openAt(NOFOLLOW, 'f', OPEN, READ);
    assert.deepEqual(ro.getFlags(), { ...READ });
    assert.equal(await failure(() => ro.writeViaStream(0n)), 'bad-descriptor');
    assert.equal(await failure(() => ro.appendViaStream()), 'bad-descriptor');
    assert.equal(await failure(() => ro.write(Buffer.from('x'), 0n)), 'bad-descriptor');
    // The OS itself refuses (the file is open O_RDONLY): EINVAL, as under wasmtime.
    assert.equal(await failure(() => ro.setSize(0n)), 'invalid');

    const wo = await s.dir.openAt(NOFOLLOW, 'f', OPEN, WRITE);
    assert.equal(await failure(() => wo.readViaStream(0n)), 'bad-descriptor');
    assert.equal(await failure(() => wo.read(1n, 0n)), 'bad-descriptor');
    assert.equal(readFileSync(join(s.root, 'f'), 'utf8'), 'content');
    ro[Symbol.dispose]();
    wo[Symbol.dispose]();
  } finally {
    s.cleanup();
  }
});

test('file operations on a directory and directory operations on a file fail as wasmtime reports', async () => {
  const s = await sandbox();
  try {
    await writeFile(s.dir, 'f', 'x');
    assert.equal(await failure(() => s.dir.readViaStream(0n)), 'is-directory');
    assert.equal(await failure(() => s.dir.writeViaStream(0n)), 'bad-descriptor');
    assert.equal(await failure(() => s.dir.read(1n, 0n)), 'bad-descriptor');
    assert.equal(await failure(() => s.dir.setSize(0n)), 'bad-descriptor');
    assert.equal(await failure(() => s.dir.advise(0n, 0n, 'normal')), 'bad-descriptor');
    const file = await s.dir.openAt(NOFOLLOW, 'f', OPEN, READ);
    assert.equal(await failure(() => file.openAt(NOFOLLOW, 'x', CREATE, WRITE)), 'not-directory');
    assert.equal(await failure(() => file.readDirectory()), 'not-directory');
    assert.equal(await failure(() => file.createDirectoryAt('x')), 'not-directory');
    file[Symbol.dispose]();
  } finally {
    s.cleanup();
  }
});

test('is-same-object and metadata-hash identify the object, not the descriptor', async () => {
  const s = await sandbox();
  try {
    await writeFile(s.dir, 'a', 'a');
    await writeFile(s.dir, 'b', 'b');
    const self = await s.dir.openAt(NOFOLLOW, '.', DIRECTORY, READ);
    assert.equal(await s.dir.isSameObject(self), true);
    assert.deepEqual(await self.metadataHash(), await s.dir.metadataHash());
    const a1 = await s.dir.openAt(NOFOLLOW, 'a', OPEN, READ);
    const a2 = await self.openAt(NOFOLLOW, 'a', OPEN, READ);
    const b = await s.dir.openAt(NOFOLLOW, 'b', OPEN, READ);
    assert.equal(await a1.isSameObject(a2), true);
    assert.equal(await a1.isSameObject(b), false);
    assert.deepEqual(await a1.metadataHash(), await s.dir.metadataHashAt(NOFOLLOW, 'a'));
    assert.notDeepEqual(await a1.metadataHash(), await b.metadataHash());
    for (const d of [self, a1, a2, b]) d[Symbol.dispose]();
  } finally {
    s.cleanup();
  }
});

/** Exact times need utimensat, which Node reaches only through GNU touch (see times.ts). */
const exactTimes = (await preciseTimes()) ? {} : { skip: 'no GNU touch: Node sets times to the microsecond only' };

test('set-times keeps nanoseconds and leaves an unchanged time alone', exactTimes, async () => {
  const s = await sandbox();
  try {
    await writeFile(s.dir, 'f', 'x');
    const before = statSync(join(s.root, 'f'), { bigint: true });
    const mtime = { seconds: 1_600_000_000n, nanoseconds: 123_456_789 };
    await s.dir.setTimesAt(NOFOLLOW, 'f', { tag: 'no-change' }, { tag: 'timestamp', val: mtime });
    const after = statSync(join(s.root, 'f'), { bigint: true });
    assert.equal(after.mtimeNs, 1_600_000_000_123_456_789n);
    assert.equal(after.atimeNs, before.atimeNs);

    const file = await s.dir.openAt(NOFOLLOW, 'f', OPEN, READ_WRITE);
    await file.setTimes({ tag: 'timestamp', val: { seconds: 5n, nanoseconds: 7 } }, { tag: 'no-change' });
    const viaFd = statSync(join(s.root, 'f'), { bigint: true });
    assert.equal(viaFd.atimeNs, 5_000_000_007n);
    assert.equal(viaFd.mtimeNs, after.mtimeNs);
    assert.equal(await failure(() => file.setTimes({ tag: 'timestamp', val: { seconds: 1n, nanoseconds: 1e9 } }, { tag: 'now' })), 'invalid');
    assert.equal(await failure(() => s.dir.setTimesAt(NOFOLLOW, 'missing', { tag: 'now' }, { tag: 'now' })), 'no-entry');
    file[Symbol.dispose]();
  } finally {
    s.cleanup();
  }
});

test('set-times-at without follow changes the symlink, not its target', exactTimes, async () => {
  const s = await sandbox();
  try {
    await writeFile(s.dir, 'target', 'x');
    symlinkSync('target', join(s.root, 'link'));
    const targetBefore = statSync(join(s.root, 'target'), { bigint: true }).mtimeNs;
    await s.dir.setTimesAt(NOFOLLOW, 'link', { tag: 'no-change' }, { tag: 'timestamp', val: { seconds: 1000n, nanoseconds: 1 } });
    assert.equal(lstatSync(join(s.root, 'link'), { bigint: true }).mtimeNs, 1_000_000_000_001n);
    assert.equal(statSync(join(s.root, 'target'), { bigint: true }).mtimeNs, targetBefore);
  } finally {
    s.cleanup();
  }
});

test('streams and listings outlive the descriptor they came from', async () => {
  const s = await sandbox();
  try {
    await writeFile(s.dir, 'f', 'still readable');
    const file = await s.dir.openAt(NOFOLLOW, 'f', OPEN, READ);
    const stream = file.readViaStream(0n);
    file[Symbol.dispose]();
    assert.equal(await readAll(stream), 'still readable');

    const sub = await s.dir.openAt(NOFOLLOW, '.', DIRECTORY, READ);
    const listing = await sub.readDirectory();
    sub[Symbol.dispose]();
    assert.deepEqual(await listing.readDirectoryEntry(), { type: 'regular-file', name: 'f' });
  } finally {
    s.cleanup();
  }
});

test('filesystem-error-code answers for file stream errors, and only for them', async () => {
  const s = await sandbox();
  try {
    const file = await s.dir.openAt(NOFOLLOW, 'f', CREATE, WRITE);
    // Past 2^53 Node cannot place a write exactly: refused rather than written elsewhere.
    const out = file.writeViaStream(2n ** 60n);
    const err = (await failure(() => out.blockingWriteAndFlush(Buffer.from('x')))) as { tag: string; val: IoError };
    assert.equal(err.tag, 'last-operation-failed');
    assert.ok(err.val instanceof IoError);
    assert.equal(s.filesystemErrorCode(err.val), 'file-too-large');
    assert.equal(s.filesystemErrorCode(new IoError('not a file error')), undefined);
    assert.equal(statSync(join(s.root, 'f')).size, 0);
    file[Symbol.dispose]();
  } finally {
    s.cleanup();
  }
});

test('closeFilesystem closes what a guest never dropped', async () => {
  const s = await sandbox();
  try {
    await writeFile(s.dir, 'f', 'x');
    const file = await s.dir.openAt(NOFOLLOW, 'f', OPEN, READ);
    assert.deepEqual(await file.read(1n, 0n), [Buffer.from('x'), false]);
    closeFilesystem(s.ctx);
    assert.equal(await failure(() => file.read(1n, 0n)), 'bad-descriptor');
  } finally {
    s.cleanup();
  }
});

test('non-UTF-8 names in a listing are reported, not mangled', { skip: process.platform !== 'linux' && 'needs a filesystem that takes raw bytes' }, async () => {
  const s = await sandbox();
  try {
    writeFileSync(Buffer.from(`${s.root}/bad\xff`, 'latin1'), '');
    const listing = await s.dir.readDirectory();
    assert.equal(await failure(() => listing.readDirectoryEntry()), 'illegal-byte-sequence');
  } finally {
    s.cleanup();
  }
});

test('errno names map to WASI error codes', () => {
  const cases: [string, string][] = [
    ['ENOENT', 'no-entry'],
    ['EEXIST', 'exist'],
    ['ENOTDIR', 'not-directory'],
    ['EISDIR', 'is-directory'],
    ['ENOTEMPTY', 'not-empty'],
    ['EACCES', 'access'],
    ['EPERM', 'not-permitted'],
    ['ELOOP', 'loop'],
    ['EINVAL', 'invalid'],
    ['EBADF', 'bad-descriptor'],
    ['ENAMETOOLONG', 'name-too-long'],
    ['EXDEV', 'cross-device'],
    ['EROFS', 'read-only'],
    ['ENOSPC', 'insufficient-space'],
    ['EMLINK', 'too-many-links'],
    ['ESPIPE', 'invalid-seek'],
    ['EFBIG', 'file-too-large'],
    ['ETXTBSY', 'text-file-busy'],
    ['EAGAIN', 'would-block'],
    ['ENOTSUP', 'unsupported'],
    ['EWHATEVER', 'io'],
  ];
  for (const [errno, code] of cases) {
    assert.equal(errnoToCode(Object.assign(new Error(errno), { code: errno, errno: -1 })), code, errno);
    assert.ok(ERROR_CODES.includes(code as never), code);
  }
  // Not a system error (a host bug): no code, so it stays a host failure.
  assert.equal(errnoToCode(new TypeError('bug')), undefined);
  assert.equal(errnoToCode(Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' })), undefined);
});
