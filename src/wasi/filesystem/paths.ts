import { constants, existsSync } from 'node:fs';
import { lstat, open, readlink, type FileHandle } from 'node:fs/promises';
import { resolve as resolveHostPath } from 'node:path';
import { errnoToCode, type ErrorCode } from './errors.ts';
import type { Closable, ResourceSet } from './resources.ts';

/**
 * Node has no `openat`. On Linux it is emulated: a directory is held open and named through
 * `/proc/<pid>/fd/<n>` (the pid rather than `self`, so a helper process reaches it too), and
 * every path is walked one open directory at a time. A component swapped for a symlink by
 * someone else mid-walk (another instance sharing the volume) then cannot redirect the walk
 * out of the sandbox. Elsewhere, plain host paths are walked the same way, with that race open.
 */
export const PROCFS = process.platform === 'linux' && existsSync(`/proc/${process.pid}/fd`);

/** `O_PATH` (not exported by Node; the same value on every Linux architecture Node runs on). */
const O_PATH = 0o10000000;
/** Opens a directory for walking only: never a symlink, no read permission needed. */
const WALK_FLAGS = (PROCFS ? O_PATH : constants.O_RDONLY) | constants.O_DIRECTORY | constants.O_NOFOLLOW;

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

/** Where a guest path led. */
export interface Target {
  /** The host path of the last component, for the OS call. */
  host: string;
  /**
   * The guest wrote a trailing slash. In `entry` mode it is kept in `host` (the entry calls
   * never follow it); otherwise it is not, since a trailing slash makes the OS follow a
   * symlink despite `O_NOFOLLOW`: the walk has checked instead that the target is a directory.
   */
  trailingSlash: boolean;
  /** The last component does not exist (known only in `follow` mode or with a trailing slash). */
  missing: boolean;
}

/** A directory that confines path resolution: the root of a descriptor's `*-at` calls. */
export class HostDir implements Closable {
  /** How the OS names this directory: its procfs link, or its real host path. */
  readonly path: string;
  readonly #handle: FileHandle | undefined;
  readonly #resources: ResourceSet | undefined;

  private constructor(path: string, handle: FileHandle | undefined, resources: ResourceSet | undefined) {
    this.path = path;
    this.#handle = handle;
    this.#resources = resources;
    resources?.add(this);
  }

  /** Opens a host directory the embedder named (a preopen): its own symlinks are the host's choice. */
  static async open(hostPath: string, resources: ResourceSet): Promise<HostDir> {
    if (!PROCFS) return new HostDir(resolveHostPath(hostPath), undefined, undefined);
    return HostDir.adopt(await open(hostPath, WALK_FLAGS & ~constants.O_NOFOLLOW), hostPath, resources);
  }

  /** Takes over a handle open on a directory; `hostPath` names it where there is no procfs. */
  static adopt(handle: FileHandle, hostPath: string, resources: ResourceSet): HostDir {
    if (!PROCFS) {
      handle.close().catch(() => {});
      return new HostDir(resolveHostPath(hostPath), undefined, undefined);
    }
    return new HostDir(procPath(handle), handle, resources);
  }

  close(): void {
    this.#resources?.delete(this);
    this.#handle?.close().catch(() => {});
  }
}

function procPath(handle: FileHandle): string {
  return `/proc/${process.pid}/fd/${handle.fd}`;
}

/**
 * Resolves a guest path below `dir` and runs `op` on the host path of its last component,
 * while the directories walked to reach it are held open.
 *
 * Confinement: absolute paths, `..` above `dir`, and symlinks whose expansion would do either
 * fail with `not-permitted`, which is what wasmtime (cap-std) reports for an escape. Every
 * intermediate component is opened with `O_NOFOLLOW` before the next is looked up; the last
 * component is never followed by the OS, only by this walk, so `op` must not follow it either
 * (`lstat`, `O_NOFOLLOW`, `touch -h`).
 */
export async function withPath<T>(dir: HostDir, path: string, mode: FinalMode, op: (target: Target) => Promise<T>): Promise<T> {
  const walk = new Walk(dir.path);
  try {
    return await op(await walk.resolve(path, mode));
  } finally {
    walk.release();
  }
}

class Walk {
  readonly #root: string;
  /** Directories entered below the root: their names, and their handles under procfs. */
  readonly #stack: { name: string; handle: FileHandle | undefined }[] = [];

  constructor(root: string) {
    this.#root = root;
  }

  async resolve(path: string, mode: FinalMode): Promise<Target> {
    if (path.includes('\0')) throw 'invalid' satisfies ErrorCode;
    if (path === '') throw 'no-entry' satisfies ErrorCode;
    if (path.startsWith('/')) throw 'not-permitted' satisfies ErrorCode;

    let trailingSlash = path.endsWith('/');
    let pending = components(path);
    let expansions = 0;
    const found = (host: string, missing = false): Target => ({ host, trailingSlash, missing });

    while (pending.length > 0) {
      const name = pending.shift()!;
      const last = pending.length === 0;

      if (name === '..' && this.#stack.length === 0) throw 'not-permitted' satisfies ErrorCode;
      if (last && mode === 'entry') return found(`${this.#here()}/${name}${trailingSlash ? '/' : ''}`);
      if (name === '.') continue;
      if (name === '..') {
        this.#stack.pop()!.handle?.close().catch(() => {});
        continue;
      }
      const host = `${this.#here()}/${name}`;
      if (last && mode === 'nofollow' && !trailingSlash) return found(host);

      let link: string | undefined;
      if (last) {
        const st = await this.#final(host, trailingSlash);
        if (st !== 'symlink') return found(host, st === 'missing');
        link = await readlink(host);
      } else {
        link = await this.#enter(name, host);
        if (link === undefined) continue;
      }

      if (++expansions > MAX_SYMLINK_EXPANSIONS) throw 'loop' satisfies ErrorCode;
      if (link === '') throw 'no-entry' satisfies ErrorCode;
      if (link.startsWith('/')) throw 'not-permitted' satisfies ErrorCode;
      if (last && link.endsWith('/')) trailingSlash = true;
      pending = [...components(link), ...pending];
    }
    // The path names a directory itself (`.`, `a/..`, a symlink to one). `/.` keeps the OS
    // inside it: a procfs name is itself a (magic) symlink that `O_NOFOLLOW` would refuse.
    return found(`${this.#here()}/.`);
  }

  release(): void {
    for (const { handle } of this.#stack) handle?.close().catch(() => {});
    this.#stack.length = 0;
  }

  /** Enters an intermediate directory; answers a symlink's target instead when it is one. */
  async #enter(name: string, host: string): Promise<string | undefined> {
    if (!PROCFS) {
      const link = await this.#symlinkAt(host);
      if (link === undefined) this.#stack.push({ name, handle: undefined });
      return link;
    }
    try {
      this.#stack.push({ name, handle: await open(host, WALK_FLAGS) });
      return undefined;
    } catch (err) {
      const code = errnoToCode(err);
      // O_NOFOLLOW | O_DIRECTORY refuses symlinks and non-directories alike: tell them apart.
      if (code !== 'not-directory' && code !== 'loop') throw err;
      return this.#symlinkAt(host);
    }
  }

  /** An intermediate component's symlink target, or undefined for a directory. */
  async #symlinkAt(host: string): Promise<string | undefined> {
    const st = await lstat(host);
    if (st.isSymbolicLink()) return readlink(host);
    if (!st.isDirectory()) throw 'not-directory' satisfies ErrorCode;
    return undefined;
  }

  /** What the last component is; missing is fine (the caller may be creating it). */
  async #final(host: string, mustBeDirectory: boolean): Promise<'symlink' | 'missing' | 'present'> {
    let st;
    try {
      st = await lstat(host);
    } catch (err) {
      if (errnoToCode(err) === 'no-entry') return 'missing';
      throw err;
    }
    if (st.isSymbolicLink()) return 'symlink';
    if (mustBeDirectory && !st.isDirectory()) throw 'not-directory' satisfies ErrorCode;
    return 'present';
  }

  /** The OS name of the directory the walk is in. */
  #here(): string {
    const top = this.#stack.at(-1);
    if (top?.handle) return procPath(top.handle);
    if (this.#stack.length === 0) return this.#root;
    return `${this.#root === '/' ? '' : this.#root}/${this.#stack.map((s) => s.name).join('/')}`;
  }
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '');
}
