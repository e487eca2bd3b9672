/**
 * The local image cache: content-addressed blobs (manifests and layers) under `blobs/<alg>/<hex>`,
 * and one small file per tag under `tags/` naming the manifest digest it last resolved to. Every
 * file is written to a temporary name and renamed into place, so concurrent pulls (in this
 * process or another) never see half a file; every blob read is re-hashed, so a corrupt or
 * tampered entry is a miss, never trusted. A hit touches the files it used: cleanup removes what
 * has not been used for a while.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { debuglog } from 'node:util';
import { defaultCacheDir } from '../cache-dir.ts';
import { digestOf, algorithmOf } from './digest.ts';
import { checkDigest } from './reference.ts';

const log = debuglog('wasmhost:oci');

/** `$WASMHOST_CACHE_DIR/oci`, else `$XDG_CACHE_HOME/wasmhost/oci`, else `~/.cache/wasmhost/oci`. */
export function defaultOciCacheDir(): string {
  return join(defaultCacheDir(), 'oci');
}

export interface CleanResult {
  removedFiles: number;
  freedBytes: number;
}

export class OciCache {
  readonly dir: string;
  constructor(dir = defaultOciCacheDir()) {
    this.dir = dir;
  }

  blobPath(digest: string): string {
    checkDigest(digest);
    return join(this.dir, 'blobs', algorithmOf(digest), digest.slice(digest.indexOf(':') + 1));
  }

  #tagPath(reference: string): string {
    return join(this.dir, 'tags', `${digestOf(new TextEncoder().encode(reference)).slice('sha256:'.length)}.json`);
  }

  /** The blob's bytes if cached and intact; a corrupt entry is removed and reported as a miss. */
  async readBlob(digest: string): Promise<Uint8Array | undefined> {
    const path = this.blobPath(digest);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log('cannot read cached blob %s: %s', path, (err as Error).message);
      return undefined;
    }
    if (digestOf(bytes, algorithmOf(digest)) !== digest) {
      log('cached blob %s does not match its digest: removed', path);
      await rm(path, { force: true });
      return undefined;
    }
    await touch(path);
    return bytes;
  }

  async writeBlob(digest: string, bytes: Uint8Array): Promise<string> {
    const path = this.blobPath(digest);
    await atomicWrite(path, bytes);
    return path;
  }

  /** The manifest digest `reference` (a tag reference) last resolved to, if recorded. */
  async readTag(reference: string): Promise<string | undefined> {
    const path = this.#tagPath(reference);
    try {
      const entry = JSON.parse(await readFile(path, 'utf8')) as { reference?: string; digest?: string };
      if (entry.reference !== reference || typeof entry.digest !== 'string') return undefined;
      checkDigest(entry.digest);
      await touch(path);
      return entry.digest;
    } catch {
      return undefined;
    }
  }

  async writeTag(reference: string, digest: string): Promise<void> {
    await atomicWrite(this.#tagPath(reference), new TextEncoder().encode(JSON.stringify({ reference, digest, resolvedAt: new Date().toISOString() })));
  }

  /**
   * Removes every cache file not used (pulled, or read from the cache) for `olderThanMs`; stray
   * temporary files of interrupted writes go too once they are that old.
   */
  async clean(options: { olderThanMs: number }): Promise<CleanResult> {
    const cutoff = Date.now() - options.olderThanMs;
    const result: CleanResult = { removedFiles: 0, freedBytes: 0 };
    for (const sub of ['tags', 'blobs']) {
      for await (const file of walk(join(this.dir, sub))) {
        let info;
        try {
          info = await stat(file);
        } catch {
          continue;
        }
        if (info.mtimeMs > cutoff) continue;
        await rm(file, { force: true });
        result.removedFiles++;
        result.freedBytes += info.size;
      }
    }
    return result;
  }
}

async function* walk(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* walk(path);
    else if (e.isFile()) yield path;
  }
}

async function atomicWrite(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Marks a file as just used; the cache's age is the time since last use. */
async function touch(path: string): Promise<void> {
  const now = new Date();
  await utimes(path, now, now).catch(() => {});
}
