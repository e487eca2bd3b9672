/**
 * The host tree the WASI path fuzzer runs in: a preopened `root` with files, directories and
 * symlinks that stay inside or lead out, next to an `outside` directory holding a secret.
 *
 * Both sit below hundreds of nested directories: the fuzzer creates, truncates, renames and
 * unlinks, possibly as root, and even a broken sandbox must keep that inside the temporary
 * directory. No path it makes can climb that far (at most 40 symlink expansions, each of a
 * target with a few `..`), and no absolute symlink in the tree leads outside the temporary
 * directory either. The process works from the deepest directory while the tree exists (each
 * file runs in its own process under `node --test`): host-side checks then use short relative
 * paths instead of walking hundreds of components on every call.
 */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { metadataHash } from '../../src/wasi/filesystem/metadata.ts';

/** More `..` than any generated path can climb (see the module comment). */
const NESTING = 340;

export const SECRET = 'the host secret: never shown to a guest\n';

/** What the tree holds, by host path relative to the root. */
const FILES: Record<string, string> = {
  'a.txt': 'inside a\n',
  secret: 'inside, merely named secret\n',
  'sub/b.txt': 'inside b\n',
  'sub/deeper/c.txt': 'inside c\n',
  'ünï.txt': 'inside unicode\n',
  [`${'n'.repeat(255)}`]: 'inside, longest name\n',
};
const DIRECTORIES = ['sub', 'sub/deeper', 'empty'];

/** Symlink -> target. `{outside}` is replaced by the absolute path of the outside directory. */
const SYMLINKS: Record<string, string> = {
  'link-in': 'sub/b.txt',
  'link-in-dir': 'sub',
  'link-root': '.',
  'sub/link-up': '../a.txt',
  'sub/deeper/link-chain': '../../link-in',
  'link-dot-dot': '..',
  'link-out-rel': '../outside/secret.txt',
  'link-out-dir': '../outside',
  'sub/link-out-deep': '../../outside/secret.txt',
  'link-out-abs': '{outside}/secret.txt',
  'link-out-abs-dir': '{outside}',
  loop: 'loop',
  ping: 'pong',
  pong: 'ping',
  dangling: 'missing',
};

/** Paths that exist in the root, also reached through its links to directories. */
export const TREE_PATHS: readonly string[] = (() => {
  const own = [...Object.keys(FILES), ...DIRECTORIES, ...Object.keys(SYMLINKS)];
  const viaLinks = own.flatMap((p) => [`link-root/${p}`, ...(p.startsWith('sub/') ? [`link-in-dir/${p.slice(4)}`] : [])]);
  return [...own, ...viaLinks];
})();

/** Names a generated path is made of: the tree's own, climbers, and hostile ones. */
export const SEGMENTS = [
  ...new Set([...Object.keys(FILES), ...DIRECTORIES, ...Object.keys(SYMLINKS)].flatMap((p) => p.split('/'))),
  '..', '.', '', 'outside', 'secret.txt', 'root', 'd', 'missing', 'etc', 'passwd',
  'n'.repeat(256), 'x'.repeat(300), '\0', 'a.txt\0', ' ', '\\..', '%2e%2e', '..\\..', '*', '~', '\ud800', '\u202e', 'ü',
];

export interface Tree {
  /** The temporary directory everything is in. */
  base: string;
  /** Absolute paths (the root is also `root` and the outside `outside`, relative to the working directory). */
  root: string;
  outside: string;
  /** Rebuilds the root's contents as they were (the root itself stays: the preopen holds it). */
  reset(): void;
  cleanup(): void;
}

export function createTree(): Tree {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'wasmhost-fuzz-')));
  const deep = join(base, ...Array.from({ length: NESTING }, () => 'd'));
  mkdirSync(deep, { recursive: true });
  const previousCwd = process.cwd();
  process.chdir(deep);
  mkdirSync('root');
  mkdirSync('outside');
  writeFileSync('outside/secret.txt', SECRET);
  const outside = join(deep, 'outside');
  const build = () => {
    for (const name of readdirSync('root')) rmSync(join('root', name), { recursive: true, force: true });
    for (const dir of DIRECTORIES) mkdirSync(join('root', dir));
    for (const [path, text] of Object.entries(FILES)) writeFileSync(join('root', path), text);
    for (const [path, target] of Object.entries(SYMLINKS)) symlinkSync(target.replace('{outside}', outside), join('root', path));
    return signature('root');
  };
  const pristine = build();
  // Most fuzzed calls fail and change nothing: rebuilding only after a change saves most of the time.
  const reset = () => void (signature('root') !== pristine && build());
  const cleanup = () => {
    process.chdir(previousCwd);
    rmSync(base, { recursive: true, force: true });
  };
  return { base, root: join(deep, 'root'), outside, reset, cleanup };
}

/** Names, types, sizes and times of everything below `dir`: equal as long as nothing changed. */
function signature(dir: string): string {
  const lines: string[] = [];
  const visit = (path: string) => {
    const st = lstatSync(path, { bigint: true });
    lines.push(`${path} ${st.mode} ${st.size} ${st.mtimeNs} ${st.ino}`);
    if (st.isDirectory()) for (const name of readdirSync(path).sort()) visit(join(path, name));
  };
  visit(dir);
  return lines.join('\n');
}

/** An object on the host as `metadata-hash` names it, with where it is and what it holds. */
export interface HostEntry {
  path: string;
  isDirectory: boolean;
  content?: string;
}

export const hashKey = (h: { lower: bigint; upper: bigint }) => `${h.lower}:${h.upper}`;

/** Every object below `dir` (itself included, symlinks not followed), by metadata hash; paths as given (relative is fast). */
export function entriesBelow(dir: string): Map<string, HostEntry> {
  const out = new Map<string, HostEntry>();
  const visit = (path: string) => {
    const st = lstatSync(path, { bigint: true });
    const entry: HostEntry = { path, isDirectory: st.isDirectory() };
    if (st.isFile()) entry.content = readFileSync(path, 'utf8');
    out.set(hashKey(metadataHash(st)), entry);
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return out;
}

export function isWithin(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}

/**
 * What surrounds the root, as text: the working directory (`outside`, the root's own entry)
 * and the level above it; with `whole`, the temporary directory from the top (slow: hundreds
 * of levels). A change the guest made outside its preopen shows as a difference. Directories
 * show by their entries, not their times, so `restoreOutsideRoot` can put them back exactly.
 */
export function snapshotOutsideRoot(tree: Tree, whole = false): string {
  const lines: string[] = [];
  const visit = (path: string, recurse: boolean) => {
    const st = lstatSync(path, { bigint: true });
    if (st.isFile()) lines.push(`${path} ${st.mode} ${st.size} ${st.mtimeNs}`, readFileSync(path, 'utf8'));
    else if (st.isSymbolicLink()) lines.push(`${path} -> ${readlinkSync(path)}`);
    else lines.push(`${path} ${st.mode}`);
    if (!st.isDirectory() || path === 'root' || path === tree.root) return;
    for (const name of readdirSync(path).sort()) {
      const child = path === '.' ? name : join(path, name);
      if (recurse) visit(child, true);
      else if (name !== 'd') visit(child, false);
    }
  };
  if (whole) visit(tree.base, true);
  else {
    visit('..', false);
    visit('.', true);
  }
  return lines.join('\n');
}

/** Puts back what surrounds the root (see `snapshotOutsideRoot`), after a run that escaped. */
export function restoreOutsideRoot(): void {
  for (const name of readdirSync('..')) if (name !== 'd') rmSync(join('..', name), { recursive: true, force: true });
  for (const name of readdirSync('.')) if (name !== 'root') rmSync(name, { recursive: true, force: true });
  mkdirSync('outside');
  writeFileSync('outside/secret.txt', SECRET);
}
