import { mkdir, readFile, writeFile, rename, rm, readdir } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { debuglog } from 'node:util';
import type { Transpiled } from './transpile.ts';

const log = debuglog('wasmhost:cache');

/** Bumped whenever the layout of a cache entry changes. */
const FORMAT = 1;

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `$WASMHOST_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmhost`, else `~/.cache/wasmhost`. */
export function defaultCacheDir(): string {
  if (process.env.WASMHOST_CACHE_DIR) return process.env.WASMHOST_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'wasmhost');
}

interface EntryMeta {
  format: number;
  key: string;
  /** sha256 of every file of the entry: checked on each load. */
  files: Record<string, string>;
  wit: string;
}

/** A loaded entry: the transpiled output plus where its glue lives on disk (to `import()` it). */
export interface CacheHit extends Transpiled {
  gluePath: string;
}

/**
 * Transpiled components on disk, one directory per key. Entries are written to a temporary
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

  async load(key: string): Promise<CacheHit | undefined> {
    const dir = this.entryDir(key);
    let meta: EntryMeta;
    try {
      meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') await this.discard(key, `unreadable meta.json (${(err as Error).message})`);
      return undefined;
    }
    if (meta.format !== FORMAT || meta.key !== key || typeof meta.files !== 'object') {
      await this.discard(key, 'stale or foreign entry');
      return undefined;
    }
    const coreModules = new Map<string, Uint8Array>();
    let glue = '';
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
      if (name.endsWith('.wasm')) coreModules.set(name, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      else glue = data.toString('utf8');
    }
    if (!glue) {
      await this.discard(key, 'no glue');
      return undefined;
    }
    return { glue, coreModules, wit: meta.wit, gluePath: join(dir, 'component.js') };
  }

  async store(key: string, t: Transpiled): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(tmp);
    const files: Record<string, string> = {};
    try {
      await writeFile(join(tmp, 'component.js'), t.glue);
      files['component.js'] = sha256(t.glue);
      for (const [name, data] of t.coreModules) {
        await writeFile(join(tmp, name), data);
        files[name] = sha256(data);
      }
      const meta: EntryMeta = { format: FORMAT, key, files, wit: t.wit };
      await writeFile(join(tmp, 'meta.json'), JSON.stringify(meta));
      await rm(this.entryDir(key), { recursive: true, force: true });
      await rename(tmp, this.entryDir(key));
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      // Another process may have renamed the same entry into place first: that one is as good.
      if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return join(this.entryDir(key), 'component.js');
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
