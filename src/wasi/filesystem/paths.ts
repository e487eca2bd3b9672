import { lstat, readlink } from 'node:fs/promises';
import { errnoToCode, type ErrorCode } from './errors.ts';

/** Symlinks expanded in one resolution before it fails with `loop` (Linux's own limit). */
export const MAX_SYMLINK_EXPANSIONS = 40;

/**
 * How the last component of a guest path is treated:
 * - `follow`: a symlink there is expanded (confined like every other component);
 * - `nofollow`: left as it is, so the OS call acts on the link itself (`lstat`, `O_NOFOLLOW`);
 * - `entry`: it names an entry of its directory for mkdir, rmdir, unlink, rename, link and
 *   symlink: never expanded, and `.`/`..` are kept so the OS refuses them as POSIX says.
 * A trailing slash makes `follow` and `nofollow` follow, as POSIX path resolution does.
 */
export type FinalMode = 'follow' | 'nofollow' | 'entry';

export interface Target {
  /** What to hand to the OS: a host path with no symlink before its last component, plus the guest's trailing slash if it wrote one. */
  host: string;
  /** The same path below the confinement root ('' for the root itself). */
  relative: string;
}

/**
 * Resolves a guest path relative to the directory `root`, one component at a time, without
 * ever leaving it: absolute paths, `..` above `root` and symlinks whose expansion would do
 * either fail with `not-permitted`, which is what wasmtime (cap-std) reports for an escape.
 * Node has no `openat`, so the OS later walks the returned host path again; everything on it
 * was checked here to be a real directory. A concurrent host-side swap of a checked directory
 * for a symlink between the check and the use is not defended against.
 */
export async function resolvePath(root: string, path: string, mode: FinalMode): Promise<Target> {
  if (path.includes('\0')) throw 'invalid' satisfies ErrorCode;
  if (path === '') throw 'no-entry' satisfies ErrorCode;
  if (path.startsWith('/')) throw 'not-permitted' satisfies ErrorCode;

  let trailingSlash = path.endsWith('/');
  let pending = components(path);
  const stack: string[] = [];
  let expansions = 0;

  while (pending.length > 0) {
    const name = pending.shift()!;
    const last = pending.length === 0;

    if (name === '..' && stack.length === 0) throw 'not-permitted' satisfies ErrorCode;
    if (last && mode === 'entry') return target(root, stack, name, trailingSlash);
    if (name === '.') continue;
    if (name === '..') {
      stack.pop();
      continue;
    }
    if (last && mode === 'nofollow' && !trailingSlash) return target(root, stack, name, false);

    const host = join(root, [...stack, name]);
    let isLink: boolean;
    let isDir: boolean;
    try {
      const st = await lstat(host);
      isLink = st.isSymbolicLink();
      isDir = st.isDirectory();
    } catch (err) {
      // A missing last component is fine: the caller may be about to create it.
      if (last && errnoToCode(err) === 'no-entry') return target(root, stack, name, trailingSlash);
      throw err;
    }

    if (isLink) {
      if (++expansions > MAX_SYMLINK_EXPANSIONS) throw 'loop' satisfies ErrorCode;
      const link = await readlink(host);
      if (link === '') throw 'no-entry' satisfies ErrorCode;
      if (link.startsWith('/')) throw 'not-permitted' satisfies ErrorCode;
      if (last && link.endsWith('/')) trailingSlash = true;
      pending = [...components(link), ...pending];
      continue;
    }
    if (!last && !isDir) throw 'not-directory' satisfies ErrorCode;
    stack.push(name);
  }
  return { host: join(root, stack) + (trailingSlash && stack.length > 0 ? '/' : ''), relative: stack.join('/') };
}

function target(root: string, stack: string[], name: string, trailingSlash: boolean): Target {
  const all = [...stack, name];
  return { host: join(root, all) + (trailingSlash ? '/' : ''), relative: all.join('/') };
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '');
}

/** Plain concatenation: components are already checked, and `path.join` would normalize. */
function join(root: string, stack: string[]): string {
  if (stack.length === 0) return root;
  return root === '/' ? `/${stack.join('/')}` : `${root}/${stack.join('/')}`;
}
