// The parts of the OCI client that need no registry: references, challenges, manifests, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LEGACY_WASM_LAYER,
  OCI_INDEX,
  OciAuthError,
  OciDigestMismatchError,
  OciError,
  OciNotCachedError,
  OciNotComponentError,
  OciNotFoundError,
  OciReferenceError,
  OciSizeLimitError,
  OciTimeoutError,
  OciUnreachableError,
  WASM_CONFIG,
  WASM_LAYER,
  buildArtifact,
  digestOf,
  formatReference,
  parseChallenges,
  parseManifest,
  parseReference,
  toPullPolicy,
} from '../../src/oci/index.ts';
import { wasmEntry, wasmLayer } from '../../src/oci/manifest.ts';
import { WasmhostError } from '../../src/errors.ts';

const D = `sha256:${'ab'.repeat(32)}`;

test('references: default registry, library/ prefix, default tag, ports, digests', () => {
  assert.deepEqual(parseReference('hello'), { registry: 'docker.io', repository: 'library/hello', tag: 'latest' });
  assert.deepEqual(parseReference('org/app:1.0'), { registry: 'docker.io', repository: 'org/app', tag: '1.0' });
  assert.deepEqual(parseReference('index.docker.io/hello'), { registry: 'docker.io', repository: 'library/hello', tag: 'latest' });
  assert.deepEqual(parseReference('ghcr.io/org/team/app:v2'), { registry: 'ghcr.io', repository: 'org/team/app', tag: 'v2' });
  assert.deepEqual(parseReference('127.0.0.1:5000/app'), { registry: '127.0.0.1:5000', repository: 'app', tag: 'latest' });
  assert.deepEqual(parseReference('localhost/app:x'), { registry: 'localhost', repository: 'app', tag: 'x' });
  assert.deepEqual(parseReference('localhost:5000/a/b'), { registry: 'localhost:5000', repository: 'a/b', tag: 'latest' });
  // A digest alone implies no tag; tag and digest together keep both (the digest wins on pull).
  assert.deepEqual(parseReference(`ghcr.io/app@${D}`), { registry: 'ghcr.io', repository: 'app', digest: D });
  assert.deepEqual(parseReference(`ghcr.io/app:1@${D}`), { registry: 'ghcr.io', repository: 'app', tag: '1', digest: D });
  assert.equal(formatReference(parseReference('hello')), 'docker.io/library/hello:latest');
  assert.equal(formatReference(parseReference(`ghcr.io/app:1@${D}`)), `ghcr.io/app:1@${D}`);
});

test('references: malformed ones are refused with the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['ghcr.io/App/x', /"App" is not a valid repository name component/],
    ['ghcr.io/app:-bad', /"-bad" is not a valid tag/],
    ['ghcr.io/app@sha256:1234', /not a digest/],
    [`ghcr.io/app@md5:${'a'.repeat(32)}`, /not a digest/],
    ['ghcr.io/', /repository name is missing/],
    ['ghcr.io/a//b', /"" is not a valid repository name component/],
    ['ghcr.io/../etc', /"\.\." is not a valid repository name component/],
    ['bad_host.io:x:y/app', /not a valid registry host|not a valid tag/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseReference(text), (err: Error) => err instanceof OciReferenceError && message.test(err.message), text);
  }
});

test('WWW-Authenticate: Bearer with quoted params, Basic, Bearer preferred, garbage ignored', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/hello:pull"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/hello:pull' },
  });
  assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
  assert.deepEqual(parseChallenges(['Basic realm="x"', 'Bearer realm="https://t/x",service=s']), { scheme: 'bearer', params: { realm: 'https://t/x', service: 's' } });
  assert.deepEqual(parseChallenges('bearer realm="a\\"b"'), { scheme: 'bearer', params: { realm: 'a"b' } });
  assert.equal(parseChallenges('Negotiate abc'), undefined);
  assert.equal(parseChallenges(undefined), undefined);
});

test('buildArtifact: the CNCF Wasm layout, with annotations, digests that match the bytes', () => {
  const layer = new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]);
  const built = buildArtifact(layer, { component: { imports: ['wasi:cli/environment@0.2.3'], exports: ['add'] }, annotations: { a: 'b' }, created: new Date(0) });
  const manifest = JSON.parse(new TextDecoder().decode(built.manifest));
  assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(manifest.config.mediaType, WASM_CONFIG);
  assert.deepEqual(manifest.layers, [{ mediaType: WASM_LAYER, digest: digestOf(layer), size: 8 }]);
  assert.deepEqual(manifest.annotations, { a: 'b' });
  assert.equal(built.manifestDigest, digestOf(built.manifest));
  assert.equal(manifest.config.digest, digestOf(built.config));
  const config = JSON.parse(new TextDecoder().decode(built.config));
  assert.deepEqual(config, {
    created: '1970-01-01T00:00:00.000Z',
    architecture: 'wasm',
    os: 'wasip2',
    layerDigests: [digestOf(layer)],
    component: { exports: ['add'], imports: ['wasi:cli/environment@0.2.3'] },
  });
  // Same input, same manifest: pushes are reproducible when `created` is fixed.
  assert.equal(buildArtifact(layer, { created: new Date(0) }).manifestDigest, buildArtifact(layer, { created: new Date(0) }).manifestDigest);
});

test('parseManifest: refuses non-JSON, wrong schema, and digests that could escape a path', () => {
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const ok = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [{ mediaType: LEGACY_WASM_LAYER, digest: D, size: 3 }] };
  assert.equal(wasmLayer(parseManifest(enc(ok), undefined, 'm'), 'm').mediaType, LEGACY_WASM_LAYER);
  assert.throws(() => parseManifest(new TextEncoder().encode('nope'), undefined, 'reg/app:1'), /reg\/app:1 is not a usable manifest: not JSON/);
  assert.throws(() => parseManifest(enc({ ...ok, schemaVersion: 1 }), undefined, 'm'), /schemaVersion 1/);
  assert.throws(() => parseManifest(enc({ ...ok, layers: [{ mediaType: WASM_LAYER, digest: 'sha256:../../etc/passwd', size: 1 }] }), undefined, 'm'), /layers\[0\] has an invalid digest/);
  assert.throws(() => parseManifest(enc({ ...ok, layers: [{ mediaType: WASM_LAYER, digest: D, size: -1 }] }), undefined, 'm'), /invalid size/);
  assert.throws(() => parseManifest(enc({ ...ok, mediaType: 'application/x-other' }), undefined, 'm'), /unsupported media type application\/x-other/);
  const noWasm = parseManifest(enc({ ...ok, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: D, size: 1 }] }), undefined, 'r');
  assert.throws(() => wasmLayer(noWasm, 'r'), /r has no application\/wasm layer \(its layers: application\/vnd\.oci\.image\.layer\.v1\.tar\)/);
  const two = parseManifest(enc({ ...ok, layers: [ok.layers[0], { ...ok.layers[0], mediaType: WASM_LAYER }] }), undefined, 'r');
  assert.throws(() => wasmLayer(two, 'r'), /r has 2 wasm layers/);
  // An index: the wasm platform entry is picked among several.
  const index = parseManifest(
    enc({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'cd'.repeat(32)}`, size: 1, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D, size: 1, platform: { os: 'wasip2', architecture: 'wasm' } },
      ],
    }),
    undefined,
    'i',
  );
  assert.equal(wasmEntry(index, 'i').digest, D);
  assert.throws(() => wasmEntry({ ...index, manifests: [index.manifests![0], index.manifests![0]] }, 'i'), /without a single WebAssembly entry \(platforms: linux\/amd64, linux\/amd64\)/);
});

test('pull policies: the workload enum maps onto the client policies', () => {
  assert.equal(toPullPolicy('IMAGE_PULL_POLICY_UNSPECIFIED'), 'IF_NOT_PRESENT');
  assert.equal(toPullPolicy('IMAGE_PULL_POLICY_ALWAYS'), 'ALWAYS');
  assert.equal(toPullPolicy('IMAGE_PULL_POLICY_IF_NOT_PRESENT'), 'IF_NOT_PRESENT');
  assert.equal(toPullPolicy('IMAGE_PULL_POLICY_NEVER'), 'NEVER');
});

test('errors: every OCI error is a WasmhostError with its own stable code', () => {
  const table: Array<[OciError, string]> = [
    [new OciError('x'), 'WASMHOST_OCI'],
    [new OciReferenceError('x'), 'WASMHOST_OCI_BAD_REFERENCE'],
    [new OciNotFoundError('x'), 'WASMHOST_OCI_NOT_FOUND'],
    [new OciAuthError('x'), 'WASMHOST_OCI_AUTH'],
    [new OciDigestMismatchError('layer', 'sha256:a', 'sha256:b'), 'WASMHOST_OCI_DIGEST_MISMATCH'],
    [new OciNotComponentError('x'), 'WASMHOST_OCI_NOT_COMPONENT'],
    [new OciTimeoutError('x'), 'WASMHOST_OCI_TIMEOUT'],
    [new OciNotCachedError('x'), 'WASMHOST_OCI_NOT_CACHED'],
    [new OciUnreachableError('x'), 'WASMHOST_OCI_UNREACHABLE'],
    [new OciSizeLimitError('x'), 'WASMHOST_OCI_TOO_LARGE'],
  ];
  for (const [err, code] of table) {
    assert.ok(err instanceof WasmhostError && err instanceof OciError);
    assert.equal(err.code, code);
    assert.equal(err.name, err.constructor.name);
  }
  assert.equal(new Set(table.map(([, c]) => c)).size, table.length);
  const mismatch = new OciDigestMismatchError('layer', 'sha256:a', 'sha256:b');
  assert.equal(mismatch.message, 'layer does not match its digest: expected sha256:a, got sha256:b');
  assert.deepEqual([mismatch.expected, mismatch.actual], ['sha256:a', 'sha256:b']);
});
