// Push and pull against a real registry on loopback: round trips, pinning, verification, refusals.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startRegistry, registrySkip, type TestRegistry } from '../registry.ts';
import {
  LEGACY_WASM_LAYER,
  OCI_INDEX,
  OciDigestMismatchError,
  OciError,
  OciNotCachedError,
  OciNotComponentError,
  OciNotFoundError,
  OciReferenceError,
  OciSizeLimitError,
  OciTimeoutError,
  OciUnreachableError,
  RegistryClient,
  digestOf,
  parseManifest,
} from '../../src/oci/index.ts';
import { client, closedPort, component, coreModule, pushRaw, silentServer, tamperingProxy, tempDir } from './helpers.ts';

const skip = registrySkip();

describe('OCI push and pull', { skip }, () => {
  let registry: TestRegistry;
  let cache: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    registry = await startRegistry();
    cache = await tempDir();
  });
  after(async () => {
    await registry?.close();
    await cache?.cleanup();
  });

  test('round trip: the bytes come back equal, under the digest push returned', async () => {
    const calc = await component('calc');
    const oci = client(cache.dir);
    const pushed = await oci.push(`${registry.host}/test/calc:v1`, calc, { annotations: { 'org.opencontainers.image.source': 'https://example.com/calc' } });
    assert.match(pushed.digest, /^sha256:[a-f0-9]{64}$/);
    assert.equal(pushed.reference, `${registry.host}/test/calc@${pushed.digest}`);
    assert.equal(pushed.layerDigest, digestOf(calc));

    const pulled = await oci.pull(`${registry.host}/test/calc:v1`, { policy: 'ALWAYS' });
    assert.equal(pulled.digest, pushed.digest);
    assert.deepEqual(Buffer.from(pulled.bytes), calc);
    assert.equal(pulled.fromCache, false);
    assert.equal(pulled.layer.mediaType, 'application/wasm');
    assert.equal(pulled.annotations['org.opencontainers.image.source'], 'https://example.com/calc');
    assert.equal(pulled.reference, `${registry.host}/test/calc:v1`);
    assert.ok(pulled.path.startsWith(cache.dir));

    // What the registry holds is the CNCF Wasm layout, with the component's world in the config.
    const raw = new RegistryClient({ registry: registry.host, insecure: true });
    const manifest = parseManifest((await raw.getManifest('test/calc', pushed.digest)).bytes, undefined, 'm');
    assert.equal(manifest.config?.mediaType, 'application/vnd.wasm.config.v0+json');
    const config = JSON.parse(Buffer.from(await raw.getBlob('test/calc', manifest.config!)).toString());
    assert.equal(config.os, 'wasip2');
    assert.deepEqual(config.layerDigests, [digestOf(calc)]);
    assert.ok(config.component.imports.includes('test:calc/host'), JSON.stringify(config.component));
    assert.ok(config.component.exports.includes('add'), JSON.stringify(config.component));

    // Pushing again skips the blobs the registry has and gives the same layer.
    const again = await oci.push(`${registry.host}/test/calc:v1-again`, calc);
    assert.equal(again.layerDigest, pushed.layerDigest);
    assert.equal(await oci.resolve(`${registry.host}/test/calc:v1-again`), again.digest);
  });

  test('pull by digest, and tag@digest: the digest wins and is verified', async () => {
    const pure = await component('pure');
    const oci = client(cache.dir);
    const { digest } = await oci.push(`${registry.host}/test/pure:1`, pure);
    const fresh = await tempDir();
    try {
      const other = client(fresh.dir);
      const byDigest = await other.pull(`${registry.host}/test/pure@${digest}`);
      assert.equal(byDigest.digest, digest);
      assert.deepEqual(Buffer.from(byDigest.bytes), pure);
      // The tag in `tag@digest` is ignored, as with Docker: a stale tag cannot change what is pulled.
      const pinned = await other.pull(`${registry.host}/test/pure:no-such-tag@${digest}`, { policy: 'ALWAYS' });
      assert.equal(pinned.digest, digest);
    } finally {
      await fresh.cleanup();
    }
  });

  test('a digest the registry does not have: a not-found error naming it', async () => {
    await client(cache.dir).push(`${registry.host}/test/calc:pin`, await component('calc'));
    const wrong = digestOf(new TextEncoder().encode('something else'));
    await assert.rejects(client(cache.dir).pull(`${registry.host}/test/calc:pin@${wrong}`, { policy: 'ALWAYS' }), (err: Error) => {
      assert.ok(err instanceof OciNotFoundError, String(err));
      assert.match(err.message, new RegExp(`${registry.host} has no manifest ${wrong} in test/calc`));
      return true;
    });
  });

  test('content that does not match its digest is refused: expected vs got', async () => {
    const calc = await component('calc');
    const { digest } = await client(cache.dir).push(`${registry.host}/test/tamper:v1`, calc);
    const layer = digestOf(calc);
    // Flip one byte of the layer as it passes.
    const blobs = await tamperingProxy(registry.host, (path, body) => {
      if (path.endsWith(`/blobs/${layer}`)) body[body.length - 1] ^= 0xff;
      return body;
    });
    const fresh = await tempDir();
    try {
      await assert.rejects(client(fresh.dir).pull(`${blobs.host}/test/tamper:v1`), (err: Error) => {
        assert.ok(err instanceof OciDigestMismatchError, String(err));
        assert.equal(err.expected, layer);
        assert.notEqual(err.actual, layer);
        assert.match(err.message, new RegExp(`the wasm layer ${layer} of .* does not match its digest: expected ${layer}, got sha256:[a-f0-9]{64}`));
        return true;
      });
      // Nothing of it reached the cache.
      await assert.rejects(client(fresh.dir).pull(`${blobs.host}/test/tamper:v1`, { policy: 'NEVER' }), OciNotCachedError);
    } finally {
      await blobs.close();
    }
    // A manifest changed in transit: against the pinned digest, and against Docker-Content-Digest.
    const manifests = await tamperingProxy(registry.host, (path, body) => (path.includes('/manifests/') ? Buffer.concat([body, Buffer.from(' ')]) : body));
    try {
      await assert.rejects(client(fresh.dir).pull(`${manifests.host}/test/tamper@${digest}`), (err: Error) => {
        assert.ok(err instanceof OciDigestMismatchError, String(err));
        assert.equal(err.expected, digest);
        assert.match(err.message, /the manifest of .* does not match its digest: expected sha256:.*, got sha256:/);
        return true;
      });
      await assert.rejects(client(fresh.dir).pull(`${manifests.host}/test/tamper:v1`), (err: Error) => err instanceof OciDigestMismatchError && err.expected === digest);
    } finally {
      await manifests.close();
      await fresh.cleanup();
    }
  });

  test('a missing tag or repository: a not-found error naming the reference and registry', async () => {
    await client(cache.dir).push(`${registry.host}/test/calc:exists`, await component('calc'));
    await assert.rejects(client(cache.dir).pull(`${registry.host}/test/calc:nope`), (err: Error) => {
      assert.ok(err instanceof OciNotFoundError, String(err));
      assert.equal(err.message, `${registry.host} has no tag "nope" in test/calc (looking for ${registry.host}/test/calc:nope)`);
      return true;
    });
    await assert.rejects(client(cache.dir).pull(`${registry.host}/test/never-pushed:1`), (err: Error) => {
      assert.ok(err instanceof OciNotFoundError, String(err));
      assert.match(err.message, new RegExp(`^${registry.host} has no (repository test/never-pushed|tag "1" in test/never-pushed)`));
      return true;
    });
  });

  test('push refuses bytes that are not a component, and sends nothing', async () => {
    const oci = client(cache.dir);
    const raw = new RegistryClient({ registry: registry.host, insecure: true });
    await assert.rejects(oci.push(`${registry.host}/test/bad:core`, await coreModule(), { source: 'hello-p1.wasm' }), (err: Error) => {
      assert.ok(err instanceof OciNotComponentError, String(err));
      assert.equal(err.message, 'hello-p1.wasm is a core WebAssembly module, not a component');
      return true;
    });
    await assert.rejects(oci.push(`${registry.host}/test/bad:text`, new TextEncoder().encode('hello, registry')), /test\/bad:text is not a WebAssembly component: it is not a WebAssembly binary \(no \\0asm magic number\)$/);
    const calc = await component('calc');
    await assert.rejects(oci.push(`${registry.host}/test/bad:cut`, calc.subarray(0, calc.length - 10)), (err: Error) => {
      assert.ok(err instanceof OciNotComponentError, String(err));
      assert.match(err.message, /is not a valid WebAssembly component/);
      return true;
    });
    for (const tag of ['core', 'text', 'cut']) await assert.rejects(raw.getManifest('test/bad', tag), OciNotFoundError);
    assert.equal(await raw.blobExists('test/bad', digestOf(await coreModule())), false);
  });

  test('pull refuses a registry artifact that is not a component, and caches none of it', async () => {
    await pushRaw(registry.host, 'test/raw', 'core', await coreModule());
    await pushRaw(registry.host, 'test/raw', 'junk', new TextEncoder().encode('#!/bin/sh\necho not wasm\n'));
    await pushRaw(registry.host, 'test/raw', 'tar', await component('calc'), { layerMediaType: 'application/vnd.oci.image.layer.v1.tar' });
    const fresh = await tempDir();
    try {
      const oci = client(fresh.dir);
      await assert.rejects(oci.pull(`${registry.host}/test/raw:core`), (err: Error) => {
        assert.ok(err instanceof OciNotComponentError, String(err));
        assert.equal(err.message, `the wasm layer of ${registry.host}/test/raw:core is a core WebAssembly module, not a component`);
        return true;
      });
      await assert.rejects(oci.pull(`${registry.host}/test/raw:junk`), OciNotComponentError);
      await assert.rejects(oci.pull(`${registry.host}/test/raw:tar`), (err: Error) => {
        assert.ok(err instanceof OciError && !(err instanceof OciNotComponentError), String(err));
        assert.match(err.message, /has no application\/wasm layer \(its layers: application\/vnd\.oci\.image\.layer\.v1\.tar\)/);
        return true;
      });
      for (const tag of ['core', 'junk', 'tar']) await assert.rejects(oci.pull(`${registry.host}/test/raw:${tag}`, { policy: 'NEVER' }), OciNotCachedError);
    } finally {
      await fresh.cleanup();
    }
  });

  test('the legacy layer media type is accepted on pull', async () => {
    const calc = await component('calc');
    const digest = await pushRaw(registry.host, 'test/legacy', 'v1', calc, { layerMediaType: LEGACY_WASM_LAYER, component: { imports: [], exports: [] } });
    const pulled = await client(cache.dir).pull(`${registry.host}/test/legacy:v1`);
    assert.equal(pulled.digest, digest);
    assert.equal(pulled.layer.mediaType, LEGACY_WASM_LAYER);
    assert.deepEqual(Buffer.from(pulled.bytes), calc);
  });

  test('an index: the wasm entry is followed; the index digest names the image', async () => {
    const pure = await component('pure');
    const image = await pushRaw(registry.host, 'test/index', 'image', pure, { component: { imports: [], exports: ['add'] } });
    const raw = new RegistryClient({ registry: registry.host, insecure: true });
    const size = (await raw.getManifest('test/index', image)).bytes.length;
    const index = new TextEncoder().encode(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: image, size, platform: { architecture: 'wasm', os: 'wasip2' } }] }),
    );
    const indexDigest = await raw.putManifest('test/index', 'multi', index, OCI_INDEX);
    const fresh = await tempDir();
    try {
      const pulled = await client(fresh.dir).pull(`${registry.host}/test/index:multi`);
      assert.equal(pulled.digest, indexDigest);
      assert.deepEqual(Buffer.from(pulled.bytes), pure);
      const cached = await client(fresh.dir).pull(`${registry.host}/test/index:multi`, { policy: 'NEVER' });
      assert.equal(cached.digest, indexDigest);
      assert.equal(cached.fromCache, true);
    } finally {
      await fresh.cleanup();
    }
  });

  test('progress: a large layer reports its bytes as they arrive, ending at its size', async () => {
    const greeter = await component('greeter');
    await client(cache.dir).push(`${registry.host}/test/greeter:v1`, greeter);
    const fresh = await tempDir();
    try {
      const seen: Array<[number, number]> = [];
      const pulled = await client(fresh.dir).pull(`${registry.host}/test/greeter:v1`, { onProgress: (n, total) => seen.push([n, total]) });
      assert.deepEqual(Buffer.from(pulled.bytes), greeter);
      assert.ok(seen.length > 1, `${seen.length} progress calls`);
      assert.deepEqual(seen.at(-1), [greeter.length, greeter.length]);
      assert.ok(seen.every(([n, total], i) => total === greeter.length && (i === 0 || n > seen[i - 1][0])));
      // A cache hit downloads nothing and so reports nothing.
      seen.length = 0;
      await client(fresh.dir).pull(`${registry.host}/test/greeter:v1`);
      assert.equal(seen.length, 0);
    } finally {
      await fresh.cleanup();
    }
  });

  test('size limit: a layer above maxBlobBytes is refused before download', async () => {
    const calc = await component('calc');
    await client(cache.dir).push(`${registry.host}/test/calc:size`, calc);
    const fresh = await tempDir();
    try {
      await assert.rejects(client(fresh.dir, { maxBlobBytes: calc.length - 1 }).pull(`${registry.host}/test/calc:size`), (err: Error) => {
        assert.ok(err instanceof OciSizeLimitError, String(err));
        assert.match(err.message, new RegExp(`is ${calc.length} bytes, more than the limit of ${calc.length - 1}`));
        return true;
      });
    } finally {
      await fresh.cleanup();
    }
  });

  test('push to tag@digest is refused; push to a digest must be the content\'s own', async () => {
    const calc = await component('calc');
    const wrong = digestOf(calc);
    await assert.rejects(client(cache.dir).push(`${registry.host}/test/calc:t@${wrong}`, calc), OciReferenceError);
    await assert.rejects(client(cache.dir).push(`${registry.host}/test/calc@${wrong}`, calc), /the manifest's digest is sha256:/);
    const created = new Date('2024-01-01T00:00:00Z');
    const { digest } = await client(cache.dir).push(`${registry.host}/test/calc:fixed`, calc, { created });
    const byDigest = await client(cache.dir).push(`${registry.host}/test/calc@${digest}`, calc, { created });
    assert.equal(byDigest.digest, digest);
  });
});

describe('OCI network failures', { skip }, () => {
  test('timeout: a registry that accepts and never answers fails within the limit', async () => {
    const silent = await silentServer();
    const cache = await tempDir();
    try {
      const started = Date.now();
      await assert.rejects(client(cache.dir, { timeoutMs: 300 }).pull(`${silent.host}/test/app:1`), (err: Error) => {
        assert.ok(err instanceof OciTimeoutError, String(err));
        assert.equal(err.message, `pull of ${silent.host}/test/app:1 did not finish within 300 ms`);
        return true;
      });
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      await assert.rejects(client(cache.dir).push(`${silent.host}/test/app:1`, await component('calc'), { timeoutMs: 200 }), /push of .* did not finish within 200 ms/);
    } finally {
      await silent.close();
      await cache.cleanup();
    }
  });

  test('unreachable: a closed port, and HTTPS against a plain HTTP registry', async () => {
    const cache = await tempDir();
    const registry = await startRegistry();
    try {
      const port = await closedPort();
      await assert.rejects(client(cache.dir).pull(`127.0.0.1:${port}/test/app:1`), (err: Error) => {
        assert.ok(err instanceof OciUnreachableError, String(err));
        assert.match(err.message, new RegExp(`cannot reach registry 127\\.0\\.0\\.1:${port} at http://127\\.0\\.0\\.1:${port}`));
        return true;
      });
      await assert.rejects(client(cache.dir, { insecure: false }).pull(`${registry.host}/test/app:1`), (err: Error) => {
        assert.ok(err instanceof OciUnreachableError, String(err));
        assert.match(err.hint ?? '', /--insecure/);
        return true;
      });
      // Insecure for listed registries only.
      await assert.rejects(client(cache.dir, { insecure: ['other:5000'] }).pull(`${registry.host}/test/app:1`), OciUnreachableError);
      await assert.rejects(client(cache.dir, { insecure: [registry.host] }).pull(`${registry.host}/test/app:1`), OciNotFoundError);
    } finally {
      await registry.close();
      await cache.cleanup();
    }
  });
});
