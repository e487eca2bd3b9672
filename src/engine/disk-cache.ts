import { mkdir, readFile, writeFile, rename, rm, readdir } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { debuglog } from 'node:util';
import type { Prepared } from './prepare.ts';

const log = debuglog('wasmhost:cache');

/** Bumped whenever the layout of a cache entry changes. */
const FORMAT = 2;

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

interface EntryMeta {
  format: number;
  key: string;
  /** sha256 of every file of the entry: checked on each load. */
  files: Record<string, string>;
  /** How many core modules (`module-<i>.wasm`) the entry holds. */
  modules: number;
}

/**
 * Prepared components on disk (the component, and its core modules instrumented), one directory per key. Entries are written to a temporary
 * directory and renamed into place, so a crash or a second process never leaves half an entry;
 * every load re-hashes the files, so a corrupt or tampered entry is rebuilt, never trusted.
 */
export class DiskCache {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = join(dir, 'components');
  }

  entryDir(key: string): string {
    return join(this.dir, key);
  }

  /** `input`: the bytes compiled, which are the component unless the entry holds a wrapped one. */
  async load(key: string, input: Uint8Array): Promise<Prepared | undefined> {
    const dir = this.entryDir(key);
    let meta: EntryMeta;
    try {
      meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') await this.discard(key, `unreadable meta.json (${(err as Error).message})`);
      return undefined;
    }
    if (meta.format !== FORMAT || meta.key !== key || typeof meta.files !== 'object' || typeof meta.modules !== 'number') {
      await this.discard(key, 'stale or foreign entry');
      return undefined;
    }
    const files = new Map<string, Uint8Array>();
    for (const [name, digest] of Object.entries(meta.files)) {
      let data: Buffer;
      try {
        data = await readFile(join(dir, name));
      } catch {
        await this.discard(key, `missing file ${name}`);
        return undefined;
      }
      if (sha256(data) !== digest) {
        await this.discard(key, `checksum mismatch in ${name}`);
        return undefined;
      }
      files.set(name, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    const component = files.get('component.wasm') ?? input;
    const modules = Array.from({ length: meta.modules }, (_, i) => files.get(`module-${i}.wasm`));
    if (modules.some((m) => !m)) {
      await this.discard(key, 'missing files');
      return undefined;
    }
    return { component, modules: modules as Uint8Array[] };
  }

  /** The component is kept only when it is not the input (a wrapped preview1 module). */
  async store(key: string, prepared: Prepared, input: Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(tmp);
    const files: Record<string, string> = {};
    try {
      const entries: [string, Uint8Array][] = prepared.modules.map((m, i) => [`module-${i}.wasm`, m]);
      if (!Buffer.from(prepared.component).equals(input)) entries.push(['component.wasm', prepared.component]);
      for (const [name, data] of entries) {
        await writeFile(join(tmp, name), data);
        files[name] = sha256(data);
      }
      const meta: EntryMeta = { format: FORMAT, key, files, modules: prepared.modules.length };
      await writeFile(join(tmp, 'meta.json'), JSON.stringify(meta));
      await rm(this.entryDir(key), { recursive: true, force: true });
      await rename(tmp, this.entryDir(key));
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      // Another process may have renamed the same entry into place first: that one is as good.
      if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }

  private async discard(key: string, reason: string): Promise<void> {
    log('discarding cache entry %s: %s', key, reason);
    await rm(this.entryDir(key), { recursive: true, force: true });
  }

  /** Removes every entry. */
  async clear(): Promise<void> {
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      await rm(join(this.dir, name), { recursive: true, force: true });
    }
  }
}
