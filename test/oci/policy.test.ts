// Pull policies and the local cache: what is answered without the network, what is refused, cleanup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistry, registrySkip } from '../registry.ts';
import { describeBinary } from '../../src/engine.ts';
import { OciImageFetcher, OciNotCachedError, OciUnreachableError, digestOf } from '../../src/oci/index.ts';
import type { ImageFetcher } from '../../src/host/sources.ts';
import { client, component, tempDir } from './helpers.ts';

const skip = registrySkip();

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out.sort();
}

async function backdate(paths: string[], ms: number): Promise<void> {
  const then = new Date(Date.now() - ms);
  for (const p of paths) await utimes(p, then, then);
}

test('IF_NOT_PRESENT answers from the cache with the registry gone; NEVER too; ALWAYS needs it', { skip }, async () => {
  const registry = await startRegistry();
  const cache = await tempDir();
  try {
    const calc = await component('calc');
    const ref = `${registry.host}/test/policy:v1`;
    const oci = client(cache.dir);
    const { digest } = await oci.push(ref, calc);
    const first = await oci.pull(ref, { policy: 'IF_NOT_PRESENT' });
    assert.equal(first.fromCache, false);

    await registry.stop();
    const second = await oci.pull(ref, { policy: 'IF_NOT_PRESENT' });
    assert.equal(second.fromCache, true);
    assert.equal(second.digest, digest);
    assert.deepEqual(Buffer.from(second.bytes), calc);
    assert.equal(second.path, first.path);
    const never = await oci.pull(ref, { policy: 'NEVER' });
    assert.equal(never.digest, digest);
    const pinned = await oci.pull(`${registry.host}/test/policy@${digest}`, { policy: 'NEVER' });
    assert.deepEqual(Buffer.from(pinned.bytes), calc);
    // The default policy is IF_NOT_PRESENT.
    assert.equal((await oci.pull(ref)).fromCache, true);
    // ALWAYS asks the registry, which is gone.
    await assert.rejects(oci.pull(ref, { policy: 'ALWAYS' }), OciUnreachableError);
    await assert.rejects(oci.pull(`${registry.host}/test/policy@${digest}`, { policy: 'ALWAYS' }), OciUnreachableError);
  } finally {
    await registry.close();
    await cache.cleanup();
  }
});

test('NEVER with an empty cache fails with a clear error; nothing is fetched', { skip }, async () => {
  const registry = await startRegistry();
  const cache = await tempDir();
  try {
    const ref = `${registry.host}/test/never:v1`;
    await client(cache.dir).push(ref, await component('calc'));
    await assert.rejects(client(cache.dir).pull(ref, { policy: 'NEVER' }), (err: Error) => {
      assert.ok(err instanceof OciNotCachedError, String(err));
      assert.equal(err.message, `${ref} is not in the local cache (${cache.dir}) and pull policy NEVER forbids pulling it`);
      return true;
    });
    assert.deepEqual(await files(cache.dir).catch(() => []), []);
  } finally {
    await registry.close();
    await cache.cleanup();
  }
});

test('ALWAYS sees a re-pushed tag; IF_NOT_PRESENT keeps what it has until then', { skip }, async () => {
  const registry = await startRegistry();
  const cache = await tempDir();
  try {
    const ref = `${registry.host}/test/moving:latest`;
    const oci = client(cache.dir);
    const [calc, pure] = [await component('calc'), await component('pure')];
    const a = await oci.push(ref, calc);
    assert.equal((await oci.pull(ref, { policy: 'ALWAYS' })).digest, a.digest);
    const b = await oci.push(ref, pure);
    assert.notEqual(a.digest, b.digest);

    const stale = await oci.pull(ref, { policy: 'IF_NOT_PRESENT' });
    assert.equal(stale.digest, a.digest);
    assert.deepEqual(Buffer.from(stale.bytes), calc);
    const fresh = await oci.pull(ref, { policy: 'ALWAYS' });
    assert.equal(fresh.digest, b.digest);
    assert.deepEqual(Buffer.from(fresh.bytes), pure);
    // The tag now resolves to the new digest in the cache as well.
    const after = await oci.pull(ref, { policy: 'NEVER' });
    assert.equal(after.digest, b.digest);
    // ALWAYS with the layer already cached resolves the manifest but downloads no layer.
    const seen: number[] = [];
    await oci.pull(ref, { policy: 'ALWAYS', onProgress: (n) => seen.push(n) });
    assert.deepEqual(seen, []);
  } finally {
    await registry.close();
    await cache.cleanup();
  }
});

test('a corrupt cache entry is never served: re-fetched, or a miss under NEVER', { skip }, async () => {
  const registry = await startRegistry();
  const cache = await tempDir();
  try {
    const calc = await component('calc');
    const ref = `${registry.host}/test/corrupt:v1`;
    const oci = client(cache.dir);
    await oci.push(ref, calc);
    const { path } = await oci.pull(ref);
    assert.equal(path, oci.cache.blobPath(digestOf(calc)));
    await writeFile(path, 'garbage');
    await assert.rejects(oci.pull(ref, { policy: 'NEVER' }), OciNotCachedError);
    const again = await oci.pull(ref);
    assert.equal(again.fromCache, false);
    assert.deepEqual(Buffer.from(again.bytes), calc);
    assert.equal((await oci.pull(ref, { policy: 'NEVER' })).fromCache, true);
  } finally {
    await registry.close();
    await cache.cleanup();
  }
});

test('cleanCache removes what was not used for the given age; a cache hit counts as use', { skip }, async () => {
  const registry = await startRegistry();
  const cache = await tempDir();
  try {
    const oci = client(cache.dir);
    const keep = `${registry.host}/test/keep:v1`;
    const drop = `${registry.host}/test/drop:v1`;
    await oci.push(keep, await component('calc'));
    await oci.push(drop, await component('pure'));
    await oci.pull(keep);
    await oci.pull(drop);
    const all = await files(cache.dir);
    assert.equal(all.length, 6, all.join('\n')); // per image: tag entry, manifest, layer

    assert.deepEqual(await oci.cleanCache({ olderThanMs: 60 * 60_000 }), { removedFiles: 0, freedBytes: 0 });
    await backdate(all, 2 * 60 * 60_000);
    await registry.stop();
    await oci.pull(keep, { policy: 'NEVER' }); // touches its three files
    const stale: string[] = [];
    for (const p of all) if ((await stat(p)).mtimeMs < Date.now() - 60 * 60_000) stale.push(p);
    assert.equal(stale.length, 3);
    let staleBytes = 0;
    for (const p of stale) staleBytes += (await stat(p)).size;
    assert.deepEqual(await oci.cleanCache({ olderThanMs: 60 * 60_000 }), { removedFiles: 3, freedBytes: staleBytes });
    assert.deepEqual(await files(cache.dir), all.filter((p) => !stale.includes(p)));
    assert.equal((await oci.pull(keep, { policy: 'NEVER' })).fromCache, true);
    await assert.rejects(oci.pull(drop, { policy: 'NEVER' }), OciNotCachedError);

    assert.equal((await oci.cleanCache({ olderThanMs: 0 })).removedFiles, 3);
    await assert.rejects(oci.pull(keep, { policy: 'NEVER' }), OciNotCachedError);
  } finally {
    await registry.close();
    await cache.cleanup();
  }
});

test('OciImageFetcher: the host\'s ImageFetcher, with workload pull policies and secrets', { skip }, async () => {
  const registry = await startRegistry({ auth: { htpasswd: { username: 'wl', password: 'wl-secret' } } });
  const cache = await tempDir();
  try {
    const calc = await component('calc');
    const ref = `${registry.host}/test/fetch:v1`;
    await client(cache.dir).push(ref, calc, { credentials: { username: 'wl', password: 'wl-secret' } });
    const pulls: boolean[] = [];
    const fetcher: ImageFetcher = new OciImageFetcher({ describeBinary, cacheDir: cache.dir, insecure: true, dockerConfigDir: false, onPull: (r) => pulls.push(r.fromCache) });
    await assert.rejects(fetcher.fetch(ref, { pullPolicy: 'IMAGE_PULL_POLICY_NEVER', pullSecret: { username: 'wl', password: 'wl-secret' } }), OciNotCachedError);
    await assert.rejects(fetcher.fetch(ref, { pullPolicy: 'IMAGE_PULL_POLICY_UNSPECIFIED' }), /requires credentials/);
    await assert.rejects(fetcher.fetch(ref, { pullPolicy: 'IMAGE_PULL_POLICY_ALWAYS', pullSecret: { username: 'wl', password: 'nope' } }), /refused the credentials of user "wl"/);
    const bytes = await fetcher.fetch(ref, { pullPolicy: 'IMAGE_PULL_POLICY_IF_NOT_PRESENT', pullSecret: { username: 'wl', password: 'wl-secret' } });
    assert.deepEqual(Buffer.from(bytes), calc);
    // UNSPECIFIED is IF_NOT_PRESENT: served from the cache, no credentials needed.
    assert.deepEqual(Buffer.from(await fetcher.fetch(ref, { pullPolicy: 'IMAGE_PULL_POLICY_UNSPECIFIED' })), calc);
    assert.deepEqual(pulls, [false, true]);
    // ALWAYS goes back to the registry, which wants the secret again.
    await assert.rejects(fetcher.fetch(ref, { pullPolicy: 'IMAGE_PULL_POLICY_ALWAYS' }), /requires credentials/);
  } finally {
    await registry.close();
    await cache.cleanup();
  }
});
