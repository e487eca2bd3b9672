/**
 * Fuzzes wasi:filesystem path resolution through the descriptor methods a guest calls, with
 * paths built from the tree's names, `..`, `.`, empty and doubled separators, absolute
 * prefixes, NUL bytes, overlong and unicode names. Every call either fails with a WASI error
 * code or reaches an object inside the descriptor's own directory (checked by metadata hash
 * against the host tree); the secret outside is never read, and calls that create, write,
 * rename, link or delete leave everything outside the preopen as it was.
 */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WasiContext } from '../../src/wasi/context.ts';
import type { Descriptor, PathFlags } from '../../src/wasi/filesystem/descriptor.ts';
import { isErrorCode } from '../../src/wasi/filesystem/errors.ts';
import { closeFilesystem, filesystemImports } from '../../src/wasi/filesystem/index.ts';
import { CREATE, DIRECTORY, FOLLOW, NOFOLLOW, OPEN, READ, WRITE, readAll } from '../wasi/filesystem-helpers.ts';
import { fuzz } from './budget.ts';
import {
  SECRET,
  SEGMENTS,
  TREE_PATHS,
  createTree,
  entriesBelow,
  hashKey,
  isWithin,
  restoreOutsideRoot,
  snapshotOutsideRoot,
  type HostEntry,
  type Tree,
} from './wasi-tree.ts';

let tree: Tree;
let ctx: WasiContext;
let preopen: Descriptor;
/** The tree as the read property finds it, by metadata hash (reading does not change it). */
let entries: Map<string, HostEntry>;
let outsideSnapshot: string;
let wholeSnapshot: string;

before(async () => {
  tree = createTree();
  ctx = new WasiContext({ preopens: [{ hostPath: tree.root, guestPath: '/data' }] });
  const preopens = filesystemImports(ctx)['wasi:filesystem/preopens'] as { getDirectories(): Promise<[Descriptor, string][]> };
  [[preopen]] = await preopens.getDirectories();
  outsideSnapshot = snapshotOutsideRoot(tree);
  wholeSnapshot = snapshotOutsideRoot(tree, true);
});

after(() => {
  closeFilesystem(ctx);
  tree.cleanup();
});

/**
 * A guest path. Half are paths that exist, with a few segments spliced in (`.`, ``, `sub/..`,
 * climbers): resolution then gets deep (symlink chains, directory links, trailing slashes) and
 * a fair share of calls succeed (see the diagnostics). The rest are random: the tree's names,
 * climbers and hostile segments, joined oddly, sometimes absolute.
 */
function guestPath(): fc.Arbitrary<string> {
  const climber = fc.constantFrom('..', 'link-dot-dot', 'link-out-dir', 'outside');
  const segment = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...SEGMENTS) },
    // What climbs out, more often than its share: escapes need it.
    { weight: 2, arbitrary: climber },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  );
  const existing = fc
    .record({
      path: fc.constantFrom(...TREE_PATHS),
      splices: fc.array(
        fc.record({
          at: fc.nat(),
          segment: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('.', '', 'sub/..', 'link-in-dir/..') }, { weight: 1, arbitrary: climber }, { weight: 1, arbitrary: segment }),
        }),
        { maxLength: 2 },
      ),
      suffix: fc.constantFrom('', '', '', '/', '/.'),
    })
    .map(({ path, splices, suffix }) => {
      const parts = path.split('/');
      for (const { at, segment } of splices) parts.splice(at % (parts.length + 1), 0, segment);
      return parts.join('/') + suffix;
    });
  // Absolute prefixes name only the temporary tree: a broken check must not reach the host's files.
  const prefix = fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '//', `${tree.root}/`, `${tree.outside}/`) });
  const random = fc
    .record({
      prefix,
      segments: fc.array(segment, { minLength: 1, maxLength: 6 }),
      separator: fc.constantFrom('/', '/', '/', '//', '/./'),
      suffix: fc.constantFrom('', '', '', '/', '/.', '/..'),
    })
    .map(({ prefix, segments, separator, suffix }) => prefix + segments.join(separator) + suffix);
  return fc.oneof(existing, random);
}

const pathFlags = fc.constantFrom<PathFlags>(FOLLOW, NOFOLLOW);

/** How the calls of one property ended (`open:ok`, `open:not-permitted`...), for its diagnostics. */
const outcomes = new Map<string, number>();

afterEach((t) => {
  if (outcomes.size) t.diagnostic([...outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', '));
  outcomes.clear();
});

/** Runs a call; a WASI error code is an answer, anything else thrown fails the property. */
async function attempt<T>(kind: string, what: string, call: () => T | Promise<T>): Promise<T | undefined> {
  const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  try {
    const result = await call();
    count(`${kind}:ok`);
    return result;
  } catch (err) {
    count(`${kind}:${isErrorCode(err) ? err : 'other'}`);
    if (isErrorCode(err)) return undefined;
    assert.fail(`${what} threw ${err instanceof Error ? (err.stack ?? err.message) : JSON.stringify(err)} (not a WASI error code)`);
  }
}

/** The host object a metadata hash names, which must be below `within`. */
function assertInside(hash: { lower: bigint; upper: bigint }, within: string, what: string): HostEntry {
  const entry = entries.get(hashKey(hash));
  assert.ok(entry, `${what} reached an object outside the preopen`);
  assert.ok(isWithin(entry.path, within), `${what} reached ${entry.path}, outside the descriptor's directory ${within}`);
  return entry;
}

type ReadOp =
  | { kind: 'open'; flags: PathFlags; directory: boolean; path: string }
  | { kind: 'stat'; flags: PathFlags; path: string }
  | { kind: 'readlink'; path: string };

function readOp(): fc.Arbitrary<ReadOp> {
  const path = guestPath();
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('open' as const), flags: pathFlags, directory: fc.boolean(), path }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('stat' as const), flags: pathFlags, path }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('readlink' as const), path }) },
  );
}

/**
 * Runs `ops` in turn; a directory that `open` reaches becomes the base of the next op, so
 * confinement to an opened subdirectory is fuzzed too.
 */
async function runReadOps(ops: ReadOp[]): Promise<void> {
  let base = preopen;
  let baseDir = 'root';
  const opened: Descriptor[] = [];
  try {
    for (const op of ops) {
      const what = `${op.kind} ${JSON.stringify(op.path)} from ${baseDir}${'flags' in op ? ` (${op.flags.symlinkFollow ? 'follow' : 'nofollow'})` : ''}`;
      if (op.kind === 'open') {
        const d = await attempt('open', what, () => base.openAt(op.flags, op.path, op.directory ? DIRECTORY : OPEN, READ));
        if (!d) continue;
        opened.push(d);
        const entry = assertInside(await d.metadataHash(), baseDir, what);
        if (entry.isDirectory) {
          base = d;
          baseDir = entry.path;
        } else {
          const stream = d.readViaStream(0n);
          const text = await readAll(stream).finally(() => stream[Symbol.dispose]());
          assert.notEqual(text, SECRET, `${what} read the secret`);
          assert.equal(text, entry.content, `${what} read something other than the file it opened`);
        }
      } else if (op.kind === 'stat') {
        const stat = await attempt('stat', what, () => base.statAt(op.flags, op.path));
        const hash = await attempt('metadata-hash', what, () => base.metadataHashAt(op.flags, op.path));
        assert.equal(stat === undefined, hash === undefined, `${what}: stat-at and metadata-hash-at disagree`);
        if (hash) assertInside(hash, baseDir, what);
      } else {
        const target = await attempt('readlink', what, () => base.readlinkAt(op.path));
        if (target !== undefined) assertInside((await base.metadataHashAt(NOFOLLOW, op.path))!, baseDir, what);
      }
    }
  } finally {
    for (const d of opened) d[Symbol.dispose]();
  }
}

test('reading through any path reaches only objects inside the descriptor, or fails with a WASI error code', (t) => {
  tree.reset();
  entries = entriesBelow('root');
  return fuzz(t, fc.asyncProperty(fc.array(readOp(), { minLength: 1, maxLength: 4 }), runReadOps), 0.55);
});

type WriteOp =
  | { kind: 'create-file'; flags: PathFlags; path: string; truncate: boolean }
  | { kind: 'mkdir' | 'unlink' | 'rmdir'; path: string }
  | { kind: 'symlink'; target: string; path: string }
  | { kind: 'rename'; from: string; to: string }
  | { kind: 'link'; flags: PathFlags; from: string; to: string }
  | { kind: 'set-times'; flags: PathFlags; path: string };

function writeOp(): fc.Arbitrary<WriteOp> {
  const path = guestPath();
  return fc.oneof(
    fc.record({ kind: fc.constant('create-file' as const), flags: pathFlags, path, truncate: fc.boolean() }),
    fc.record({ kind: fc.constantFrom('mkdir' as const, 'unlink' as const, 'rmdir' as const), path }),
    fc.record({ kind: fc.constant('symlink' as const), target: path, path }),
    fc.record({ kind: fc.constant('rename' as const), from: path, to: path }),
    fc.record({ kind: fc.constant('link' as const), flags: pathFlags, from: path, to: path }),
    fc.record({ kind: fc.constant('set-times' as const), flags: pathFlags, path }),
  );
}

const GUEST_TEXT = 'written by the guest\n';
const now = { tag: 'now' } as const;

async function runWriteOp(op: WriteOp): Promise<void> {
  const what = JSON.stringify(op);
  const d = preopen;
  switch (op.kind) {
    case 'create-file': {
      const file = await attempt(op.kind, what, () => d.openAt(op.flags, op.path, { ...CREATE, truncate: op.truncate }, WRITE));
      if (!file) return;
      try {
        await attempt('write', what, () => file.write(Buffer.from(GUEST_TEXT), 0n));
      } finally {
        file[Symbol.dispose]();
      }
      return;
    }
    case 'mkdir':
      return void (await attempt(op.kind, what, () => d.createDirectoryAt(op.path)));
    case 'unlink':
      return void (await attempt(op.kind, what, () => d.unlinkFileAt(op.path)));
    case 'rmdir':
      return void (await attempt(op.kind, what, () => d.removeDirectoryAt(op.path)));
    case 'symlink':
      return void (await attempt(op.kind, what, () => d.symlinkAt(op.target, op.path)));
    case 'rename':
      return void (await attempt(op.kind, what, () => d.renameAt(op.from, d, op.to)));
    case 'link':
      return void (await attempt(op.kind, what, () => d.linkAt(op.flags, op.from, d, op.to)));
    case 'set-times':
      return void (await attempt(op.kind, what, () => d.setTimesAt(op.flags, op.path, now, now)));
  }
}

/** After the ops: nothing outside changed, and nothing inside is (or links to) the secret. */
function assertConfined(ops: WriteOp[]): void {
  const what = JSON.stringify(ops);
  assert.equal(snapshotOutsideRoot(tree), outsideSnapshot, `the tree outside the preopen changed after ${what}`);
  const secret = entriesBelow('outside');
  for (const [key, entry] of entriesBelow('root')) {
    assert.ok(!secret.has(key), `${entry.path} is a hard link to ${secret.get(key)?.path} after ${what}`);
    assert.notEqual(entry.content, SECRET, `${entry.path} holds the secret after ${what}`);
  }
}

test('creating, writing, renaming, linking and deleting through any path never touches anything outside the preopen', async (t) => {
  const property = fc.asyncProperty(fc.array(writeOp(), { minLength: 1, maxLength: 4 }), async (ops) => {
    // Each run starts from the same tree, so a failure replays and shrinks.
    tree.reset();
    if (snapshotOutsideRoot(tree) !== outsideSnapshot) {
      restoreOutsideRoot();
      outsideSnapshot = snapshotOutsideRoot(tree);
    }
    for (const op of ops) await runWriteOp(op);
    assertConfined(ops);
  });
  try {
    await fuzz(t, property, 0.45);
  } finally {
    tree.reset();
  }
  // The levels above the working directory, checked once (walking them is slow).
  assert.equal(snapshotOutsideRoot(tree, true), wholeSnapshot, 'the temporary directory above the preopen changed');
});
