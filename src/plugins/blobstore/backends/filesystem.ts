import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BlobstoreError, checkContainerName, checkName, tooLarge, type BlobstoreBackend, type ContainerInfo, type ObjectInfo, type ObjectRef } from '../backend.ts';
import { decodeFileName, encodeFileName } from '../../shared/file-names.ts';
import type { StorageIsolation } from '../../shared/storage-scope.ts';

export interface FilesystemBlobstoreOptions {
  /** The directory holding every container (created if missing). */
  root: string;
  /** The largest object stored, in bytes; default 64 MiB (a value is held in memory while written). */
  maxObjectSize?: number;
}

export const DEFAULT_FILESYSTEM_MAX_OBJECT_SIZE = 64 * 1024 * 1024;

/** Inside a container directory: its creation time. Encoded names never start with `.`. */
const MARKER = '.container';

/**
 * Containers as directories and objects as files: `<root>/<container>/<object>`, names encoded
 * as safe file names (`file-names.ts`, at most 255 bytes once encoded), so no name can leave the
 * root. Data outlives the process.
 *
 * Its default isolation is 'shared': the data is meant to outlive a workload (the dev loop
 * restarts it under a new id), and workloads sharing a root have always shared containers by
 * name; the plugin's `buckets` config limits which ones a workload may touch.
 *
 * Objects are written to a temporary file renamed into place, and a container is created by
 * renaming a prepared directory, so readers never see half of either. An object's `createdAt` is
 * its file's modification time: when this version was written.
 */
export class FilesystemBlobstoreBackend implements BlobstoreBackend {
  readonly root: string;
  readonly maxObjectSize: number;
  readonly defaultIsolation: StorageIsolation = 'shared';

  constructor(options: FilesystemBlobstoreOptions) {
    this.root = options.root;
    this.maxObjectSize = options.maxObjectSize ?? DEFAULT_FILESYSTEM_MAX_OBJECT_SIZE;
  }

  async createContainer(name: string): Promise<ContainerInfo> {
    const dir = this.#containerDir(name);
    const staging = join(this.root, `.tmp-${randomUUID()}`);
    const createdAt = nowSeconds();
    try {
      await mkdir(staging, { recursive: true });
      await writeFile(join(staging, MARKER), JSON.stringify({ createdAt }));
      await rename(staging, dir);
    } catch (err) {
      await rm(staging, { recursive: true, force: true }).catch(() => {});
      if (['EEXIST', 'ENOTEMPTY', 'ENOTDIR'].includes(errorCode(err) ?? '')) {
        throw new BlobstoreError(`container ${JSON.stringify(name)} already exists`);
      }
      throw ioError(err);
    }
    return { name, createdAt };
  }

  async containerInfo(name: string): Promise<ContainerInfo> {
    const dir = await this.#requireContainer(name);
    try {
      const { createdAt } = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as { createdAt: number };
      return { name, createdAt };
    } catch {
      // A directory made by hand has no marker: its modification time is the best guess.
      return { name, createdAt: Math.floor((await io(() => stat(dir))).mtimeMs / 1000) };
    }
  }

  async containerExists(name: string): Promise<boolean> {
    return isDirectory(this.#containerDir(name));
  }

  async deleteContainer(name: string): Promise<void> {
    // Renamed away first, so the container disappears at once, not file by file.
    const trash = join(this.root, `.tmp-${randomUUID()}`);
    try {
      await rename(this.#containerDir(name), trash);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return;
      throw ioError(err);
    }
    await io(() => rm(trash, { recursive: true, force: true }));
  }

  async listObjects(container: string): Promise<string[]> {
    const dir = await this.#requireContainer(container);
    const files = await io(() => readdir(dir));
    return files
      .map(decodeFileName)
      .filter((name) => name !== undefined)
      .sort();
  }

  async writeObject(container: string, name: string, data: Uint8Array): Promise<void> {
    if (data.length > this.maxObjectSize) throw tooLarge(data.length, this.maxObjectSize);
    const path = this.#objectPath(container, name);
    await this.#replace(container, path, (temp) => writeFile(temp, data, { flag: 'wx' }));
  }

  async readObject(container: string, name: string, start: number, end: number): Promise<Uint8Array> {
    const path = this.#objectPath(container, name);
    const file = await open(path, 'r').catch((err) => this.#missing(container, name, err));
    try {
      const { size } = await file.stat();
      const length = Math.max(0, Math.min(end, size) - start);
      const buffer = new Uint8Array(length);
      let read = 0;
      while (read < length) {
        const { bytesRead } = await file.read(buffer, read, length - read, start + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      return buffer.subarray(0, read);
    } catch (err) {
      throw ioError(err);
    } finally {
      await file.close();
    }
  }

  async objectInfo(container: string, name: string): Promise<ObjectInfo> {
    const info = await stat(this.#objectPath(container, name)).catch((err) => this.#missing(container, name, err));
    if (!info.isFile()) return this.#missing(container, name, undefined);
    return { name, container, createdAt: Math.floor(info.mtimeMs / 1000), size: info.size };
  }

  async hasObject(container: string, name: string): Promise<boolean> {
    const path = this.#objectPath(container, name);
    await this.#requireContainer(container);
    return (await stat(path).catch(() => undefined))?.isFile() ?? false;
  }

  async deleteObject(container: string, name: string): Promise<void> {
    const path = this.#objectPath(container, name);
    await this.#requireContainer(container);
    await io(() => rm(path, { force: true }));
  }

  async clearContainer(container: string): Promise<void> {
    for (const name of await this.listObjects(container)) await this.deleteObject(container, name);
  }

  async copyObject(src: ObjectRef, dest: ObjectRef): Promise<void> {
    const from = this.#objectPath(src.container, src.object);
    const to = this.#objectPath(dest.container, dest.object);
    if (!(await stat(from).catch(() => undefined))?.isFile()) return this.#missing(src.container, src.object, undefined);
    await this.#replace(dest.container, to, (temp) => copyFile(from, temp));
  }

  async moveObject(src: ObjectRef, dest: ObjectRef): Promise<void> {
    const from = this.#objectPath(src.container, src.object);
    const to = this.#objectPath(dest.container, dest.object);
    if (!(await stat(from).catch(() => undefined))?.isFile()) return this.#missing(src.container, src.object, undefined);
    await this.#requireContainer(dest.container);
    await io(() => rename(from, to));
  }

  #containerDir(name: string): string {
    checkContainerName(name);
    const file = encodeFileName(name);
    if (!file) throw new BlobstoreError(`invalid container name ${JSON.stringify(name.slice(0, 64))}: too long once encoded`);
    return join(this.root, file);
  }

  #objectPath(container: string, name: string): string {
    checkName('object', name);
    const file = encodeFileName(name);
    if (!file) throw new BlobstoreError(`invalid object name ${JSON.stringify(name.slice(0, 64))}: too long for the filesystem store (255 bytes once encoded)`);
    return join(this.#containerDir(container), file);
  }

  /** Writes a temporary file next to `path` with `fill`, then renames it into place. */
  async #replace(container: string, path: string, fill: (temp: string) => Promise<void>): Promise<void> {
    const dir = await this.#requireContainer(container);
    const temp = join(dir, `.tmp-${randomUUID()}`);
    try {
      await fill(temp);
      await rename(temp, path);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => {});
      if (errorCode(err) === 'ENOENT') await this.#requireContainer(container);
      throw ioError(err);
    }
  }

  async #requireContainer(name: string): Promise<string> {
    const dir = this.#containerDir(name);
    if (!(await isDirectory(dir))) throw new BlobstoreError(`container ${JSON.stringify(name)} does not exist`);
    return dir;
  }

  /** The error for an object that could not be opened: missing container, missing object, or I/O. */
  async #missing(container: string, name: string, err: unknown): Promise<never> {
    if (err !== undefined && errorCode(err) !== 'ENOENT') throw ioError(err);
    await this.#requireContainer(container);
    throw new BlobstoreError(`object ${JSON.stringify(name)} does not exist in container ${JSON.stringify(container)}`);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/** The guest learns the error code, never a host path. */
function ioError(err: unknown): BlobstoreError {
  if (err instanceof BlobstoreError) return err;
  return new BlobstoreError(`storage I/O failed (${errorCode(err) ?? 'unknown error'})`, { cause: err });
}

async function io<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw ioError(err);
  }
}
