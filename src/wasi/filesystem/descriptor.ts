import { constants } from 'node:fs';
import {
  link,
  lstat,
  mkdir,
  open,
  readlink,
  rename,
  rmdir,
  stat,
  symlink,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { InputStream, OutputStream } from '../io/streams.ts';
import { openDirectoryStream, type DirectoryEntryStream } from './directory.ts';
import { guard, type ErrorCode } from './errors.ts';
import {
  descriptorType,
  metadataHash,
  sameObject,
  toDescriptorStat,
  type DescriptorStat,
  type DescriptorType,
  type MetadataHashValue,
} from './metadata.ts';
import { HostDir, withPath, type FinalMode, type Target } from './paths.ts';
import type { OpenResources } from './resources.ts';
import { FileSink, FileSource, SharedFile, readPosition, toPosition } from './streams.ts';
import { setTimes, type NewTimestamp } from './times.ts';

/** `descriptor-flags`, `path-flags`, `open-flags`: jco passes flags as objects of booleans. */
export interface DescriptorFlags {
  read: boolean;
  write: boolean;
  fileIntegritySync: boolean;
  dataIntegritySync: boolean;
  requestedWriteSync: boolean;
  mutateDirectory: boolean;
}
export type PathFlags = { symlinkFollow?: boolean };
export type OpenFlags = { create?: boolean; directory?: boolean; exclusive?: boolean; truncate?: boolean };
export type Advice = 'normal' | 'sequential' | 'random' | 'will-need' | 'dont-need' | 'no-reuse';

/** The largest buffer one `read` call allocates (the guest may ask for up to 2^64 - 1 bytes). */
const MAX_READ = 4 * 1024 * 1024;

type State = { kind: 'directory'; dir: HostDir } | { kind: 'file'; file: SharedFile };

interface Init {
  state: State;
  flags: DescriptorFlags;
  /** From a read-only preopen: every mutation is refused, whatever the flags say. */
  readOnly: boolean;
  /** The instance's open files and directories, closed together when it ends. */
  resources: OpenResources;
}

/** Descriptors are made by `get-directories` and `open-at` only. */
const INTERNAL = Symbol('Descriptor');

/**
 * `wasi:filesystem/types.descriptor`: an open file (a Node `FileHandle`) or a directory, which
 * is the confinement root of every `*-at` call made through it (see `paths.ts`).
 *
 * Errors follow wasmtime's choices, since the preview1 adapter and the WASI test suite are
 * calibrated on it: a mutation under a read-only preopen is `not-permitted`, a file operation
 * on a directory (or a write through a descriptor not opened for writing) is `bad-descriptor`,
 * a directory operation on a file is `not-directory`.
 */
export class Descriptor {
  readonly #state: State;
  readonly #flags: DescriptorFlags;
  readonly #readOnly: boolean;
  readonly #resources: OpenResources;

  constructor(token: symbol, init: Init) {
    if (token !== INTERNAL) throw new TypeError('Descriptor is created by get-directories and open-at');
    this.#state = init.state;
    this.#flags = init.flags;
    this.#readOnly = init.readOnly;
    this.#resources = init.resources;
  }

  /** A preopened directory: readable, and mutable unless the preopen is read-only. */
  static async preopen(hostPath: string, readOnly: boolean, resources: OpenResources): Promise<Descriptor> {
    return new Descriptor(INTERNAL, {
      state: { kind: 'directory', dir: await HostDir.open(hostPath, resources.set) },
      flags: { ...NO_FLAGS, read: true, mutateDirectory: !readOnly },
      readOnly,
      resources,
    });
  }

  readViaStream(offset: bigint): InputStream {
    const file = this.#file('is-directory');
    if (!this.#flags.read) throw 'bad-descriptor' satisfies ErrorCode;
    return new InputStream(new FileSource(file, offset));
  }

  writeViaStream(offset: bigint): OutputStream {
    const file = this.#writableFile();
    return new OutputStream(new FileSink(file, offset));
  }

  appendViaStream(): OutputStream {
    const file = this.#writableFile();
    return new OutputStream(new FileSink(file, 'append'));
  }

  /** Advice is a hint, and Node has no `posix_fadvise`: accepted and ignored. */
  advise(_offset: bigint, _length: bigint, _advice: Advice): void {
    this.#file('bad-descriptor');
  }

  syncData(): Promise<void> {
    return guard(() => this.#sync((h) => h.datasync()));
  }

  sync(): Promise<void> {
    return guard(() => this.#sync((h) => h.sync()));
  }

  getFlags(): DescriptorFlags {
    return { ...this.#flags };
  }

  getType(): DescriptorType | Promise<DescriptorType> {
    if (this.#state.kind === 'directory') return 'directory';
    const { file } = this.#state;
    return guard(async () => descriptorType(await file.handle.stat({ bigint: true })));
  }

  setSize(size: bigint): Promise<void> {
    const file = this.#file('bad-descriptor');
    if (this.#readOnly) throw 'not-permitted' satisfies ErrorCode;
    // The OS refuses a descriptor not open for writing (EINVAL), as it does for wasmtime.
    return guard(() => file.handle.truncate(toPosition(size)));
  }

  setTimes(atime: NewTimestamp, mtime: NewTimestamp): Promise<void> {
    if (this.#readOnly) throw 'not-permitted' satisfies ErrorCode;
    const s = this.#state;
    return guard(() => setTimes(s.kind === 'file' ? { handle: s.file.handle } : { path: `${s.dir.path}/.`, follow: false }, atime, mtime));
  }

  read(length: bigint, offset: bigint): Promise<[Uint8Array, boolean]> {
    const file = this.#file('bad-descriptor');
    if (!this.#flags.read) throw 'bad-descriptor' satisfies ErrorCode;
    return guard(async () => {
      const size = length > BigInt(MAX_READ) ? MAX_READ : Number(length);
      const buffer = Buffer.allocUnsafe(size);
      const { bytesRead } = await file.handle.read(buffer, 0, size, readPosition(offset));
      // As wasmtime: end of file is reported by the read that finds nothing.
      return [buffer.subarray(0, bytesRead), bytesRead === 0];
    });
  }

  write(buffer: Uint8Array, offset: bigint): Promise<bigint> {
    const file = this.#writableFile();
    return guard(async () => {
      let done = 0;
      while (done < buffer.length) {
        const at = toPosition(offset + BigInt(done));
        done += (await file.handle.write(buffer, done, buffer.length - done, at)).bytesWritten;
      }
      return BigInt(done);
    });
  }

  readDirectory(): Promise<DirectoryEntryStream> {
    const dir = this.#directory();
    return guard(() => openDirectoryStream(dir.path, this.#resources.set));
  }

  createDirectoryAt(path: string): Promise<void> {
    return this.#mutateAt(path, 'entry', async ({ host }) => void (await mkdir(host, 0o777)));
  }

  stat(): Promise<DescriptorStat> {
    return guard(async () => toDescriptorStat(await this.#stat()));
  }

  statAt(pathFlags: PathFlags, path: string): Promise<DescriptorStat> {
    // `lstat` even when following: the resolver already expanded every symlink it was asked to.
    return this.#at(path, follow(pathFlags), async ({ host }) => toDescriptorStat(await lstat(host, { bigint: true })));
  }

  setTimesAt(pathFlags: PathFlags, path: string, atime: NewTimestamp, mtime: NewTimestamp): Promise<void> {
    return this.#mutateAt(path, follow(pathFlags), ({ host }) => setTimes({ path: host, follow: false }, atime, mtime));
  }

  linkAt(oldPathFlags: PathFlags, oldPath: string, newDescriptor: Descriptor, newPath: string): Promise<void> {
    const oldDir = this.#directory();
    const newDir = newDescriptor.#directory();
    if (this.#readOnly || newDescriptor.#readOnly) throw 'not-permitted' satisfies ErrorCode;
    // wasmtime refuses to follow here: a hard link to what a symlink names is not portable.
    if (oldPathFlags.symlinkFollow) throw 'invalid' satisfies ErrorCode;
    return guard(() =>
      withPath(oldDir, oldPath, 'nofollow', (from) => withPath(newDir, newPath, 'entry', (to) => link(from.host, to.host))),
    );
  }

  openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, requested: Partial<DescriptorFlags>): Promise<Descriptor> {
    const dir = this.#directory();
    const flags: DescriptorFlags = { ...NO_FLAGS };
    for (const key of Object.keys(NO_FLAGS) as (keyof DescriptorFlags)[]) flags[key] = requested[key] === true;
    const { create = false, directory = false, exclusive = false, truncate = false } = openFlags;
    if (directory && (create || exclusive || truncate)) throw 'invalid' satisfies ErrorCode;
    // As wasmtime: creating or truncating opens for writing, and without `write` a file is opened for reading.
    const write = flags.write || create || truncate;
    const read = flags.read || !flags.write;
    if (this.#readOnly && write) throw 'not-permitted' satisfies ErrorCode;
    if (flags.mutateDirectory && !this.#flags.mutateDirectory) throw 'read-only' satisfies ErrorCode;
    const resources = this.#resources;
    const readOnly = this.#readOnly;
    return guard(() =>
      withPath(dir, path, follow(pathFlags), async (target) => {
        // The walk checked a trailing slash named a directory (the OS is not given the slash).
        if (target.trailingSlash && target.missing) throw (create ? 'is-directory' : 'no-entry') satisfies ErrorCode;
        let osFlags = (read && write ? constants.O_RDWR : write ? constants.O_WRONLY : constants.O_RDONLY) | constants.O_NOFOLLOW;
        // A FIFO would otherwise block a libuv worker thread in open() until a writer appears.
        osFlags |= constants.O_NONBLOCK;
        if (create) osFlags |= constants.O_CREAT | (exclusive ? constants.O_EXCL : 0);
        if (truncate) osFlags |= constants.O_TRUNC;
        if (directory || target.trailingSlash) osFlags |= constants.O_DIRECTORY;
        if (flags.fileIntegritySync || flags.requestedWriteSync) osFlags |= constants.O_SYNC;
        if (flags.dataIntegritySync) osFlags |= constants.O_DSYNC;

        const handle = await open(target.host, osFlags, 0o666);
        let isDirectory: boolean;
        try {
          isDirectory = (await handle.stat()).isDirectory();
        } catch (err) {
          await handle.close();
          throw err;
        }
        if (isDirectory) {
          return new Descriptor(INTERNAL, {
            state: { kind: 'directory', dir: HostDir.adopt(handle, target.host, resources.set) },
            flags: { ...NO_FLAGS, read, mutateDirectory: !readOnly },
            readOnly,
            resources,
          });
        }
        return new Descriptor(INTERNAL, {
          state: { kind: 'file', file: new SharedFile(handle, resources.set) },
          flags: { ...flags, read, write, mutateDirectory: false },
          readOnly,
          resources,
        });
      }),
    );
  }

  readlinkAt(path: string): Promise<string> {
    return this.#at(path, 'nofollow', ({ host }) => readlink(host));
  }

  removeDirectoryAt(path: string): Promise<void> {
    return this.#mutateAt(path, 'entry', ({ host }) => rmdir(host));
  }

  renameAt(oldPath: string, newDescriptor: Descriptor, newPath: string): Promise<void> {
    const oldDir = this.#directory();
    const newDir = newDescriptor.#directory();
    if (this.#readOnly || newDescriptor.#readOnly) throw 'not-permitted' satisfies ErrorCode;
    return guard(() =>
      withPath(oldDir, oldPath, 'entry', (from) => withPath(newDir, newPath, 'entry', (to) => rename(from.host, to.host))),
    );
  }

  symlinkAt(oldPath: string, newPath: string): Promise<void> {
    return this.#mutateAt(newPath, 'entry', async ({ host }) => {
      // An absolute target could never be followed inside the sandbox (cap-std refuses it too).
      if (oldPath.startsWith('/')) throw 'not-permitted' satisfies ErrorCode;
      if (oldPath.includes('\0')) throw 'invalid' satisfies ErrorCode;
      await symlink(oldPath, host);
    });
  }

  unlinkFileAt(path: string): Promise<void> {
    return this.#mutateAt(path, 'entry', ({ host }) => unlink(host));
  }

  isSameObject(other: Descriptor): Promise<boolean> {
    return Promise.all([this.#stat(), other.#stat()]).then(([a, b]) => sameObject(a, b), () => false);
  }

  metadataHash(): Promise<MetadataHashValue> {
    return guard(async () => metadataHash(await this.#stat()));
  }

  metadataHashAt(pathFlags: PathFlags, path: string): Promise<MetadataHashValue> {
    return this.#at(path, follow(pathFlags), async ({ host }) => metadataHash(await lstat(host, { bigint: true })));
  }

  /** The guest dropped its handle: the file closes once no stream made from it is left. */
  [Symbol.dispose](): void {
    if (this.#state.kind === 'file') this.#state.file.release();
    else this.#state.dir.close();
  }

  #stat() {
    const s = this.#state;
    return s.kind === 'file' ? s.file.handle.stat({ bigint: true }) : stat(s.dir.path, { bigint: true });
  }

  /** The open file, or `onDirectory` thrown for a directory. */
  #file(onDirectory: ErrorCode): SharedFile {
    if (this.#state.kind !== 'file') throw onDirectory;
    return this.#state.file;
  }

  #writableFile(): SharedFile {
    const file = this.#file('bad-descriptor');
    if (this.#readOnly) throw 'not-permitted' satisfies ErrorCode;
    if (!this.#flags.write) throw 'bad-descriptor' satisfies ErrorCode;
    return file;
  }

  /** The host directory that confines this descriptor's `*-at` calls. */
  #directory(): HostDir {
    if (this.#state.kind !== 'directory') throw 'not-directory' satisfies ErrorCode;
    return this.#state.dir;
  }

  #at<T>(path: string, mode: FinalMode, op: (target: Target) => Promise<T>): Promise<T> {
    const dir = this.#directory();
    return guard(() => withPath(dir, path, mode, op));
  }

  #mutateAt<T>(path: string, mode: FinalMode, op: (target: Target) => Promise<T>): Promise<T> {
    this.#directory();
    if (this.#readOnly) throw 'not-permitted' satisfies ErrorCode;
    return this.#at(path, mode, op);
  }

  async #sync(op: (handle: FileHandle) => Promise<void>): Promise<void> {
    if (this.#state.kind === 'file') return op(this.#state.file.handle);
    const handle = await open(`${this.#state.dir.path}/.`, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await op(handle);
    } finally {
      await handle.close();
    }
  }
}

export const NO_FLAGS: DescriptorFlags = Object.freeze({
  read: false,
  write: false,
  fileIntegritySync: false,
  dataIntegritySync: false,
  requestedWriteSync: false,
  mutateDirectory: false,
});

function follow(pathFlags: PathFlags): FinalMode {
  return pathFlags.symlinkFollow ? 'follow' : 'nofollow';
}
