/**
 * The WIT packages in wit/ (see wit/README.md). For each package folder:
 * - its files are byte-identical to the upstream git blobs they were copied from, and nothing else
 *   is there;
 * - it declares the expected package name and version and exactly the expected interfaces;
 * - it parses and resolves: a small world that imports (and exports) its interfaces is embedded into
 *   a dummy core module with jco's wasm-tools, turned into a component, and the component's world
 *   names exactly the expected `namespace:package/interface@version` imports and exports.
 * Finally one world using every served interface at once checks that the packages (two versions of
 * wasi:config among them) resolve together.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const WIT = resolve(import.meta.dirname, '../../wit');

// jco's wasm-tools read the WIT folder through preview2-shim's filesystem, which has no preopens by
// default. (The package's typings are the browser variant's; on Node the argument maps guest path
// to host path.)
const { _setPreopens } = await import('@bytecodealliance/preview2-shim/filesystem');
(_setPreopens as (preopens: Record<string, string>) => void)({ '/': '/' });
const { componentEmbed, componentNew, componentWit } = await import('@bytecodealliance/jco');

interface Package {
  /** Folder under wit/. */
  dir: string;
  /** `namespace:name@version`, as in the `package` header. */
  id: string;
  /** Each .wit file of the folder and the git blob id of the upstream file it copies. */
  blobs: Record<string, string>;
  /** Every interface the package defines. */
  interfaces: string[];
  /** Interfaces the test world imports / exports (unqualified). */
  imports: string[];
  exports: string[];
  /** Other wit/ folders the package needs to resolve. */
  deps: string[];
  /** Interfaces of other packages the component ends up importing (fully qualified). */
  transitiveImports: string[];
}

const WASI_IO_0_2_1 = ['wasi:io/error@0.2.1', 'wasi:io/poll@0.2.1', 'wasi:io/streams@0.2.1'];

const PACKAGES: Package[] = [
  {
    dir: 'wasi-keyvalue@0.2.0-draft',
    id: 'wasi:keyvalue@0.2.0-draft',
    blobs: { 'package.wit': '412280a91290fa0f30724d17edb17c10f45c5db3' },
    interfaces: ['store', 'atomics', 'batch', 'watcher'],
    imports: ['store', 'atomics', 'batch'],
    exports: ['watcher'],
    deps: [],
    transitiveImports: [],
  },
  {
    dir: 'wasi-blobstore@0.2.0-draft',
    id: 'wasi:blobstore@0.2.0-draft',
    blobs: { 'package.wit': '6b0eac30d482b5fd3bea3e8c6b7c3722e3f43f2f' },
    interfaces: ['types', 'container', 'blobstore'],
    imports: ['types', 'container', 'blobstore'],
    exports: [],
    deps: ['wasi-io@0.2.1'],
    transitiveImports: WASI_IO_0_2_1,
  },
  {
    dir: 'wasi-config@0.2.0-rc.1',
    id: 'wasi:config@0.2.0-rc.1',
    blobs: { 'package.wit': 'd8950ee0480480fc5d28761a380b0e2f97db4d95' },
    interfaces: ['store'],
    imports: ['store'],
    exports: [],
    deps: [],
    transitiveImports: [],
  },
  {
    dir: 'wasi-config@0.2.0-draft',
    id: 'wasi:config@0.2.0-draft',
    blobs: {
      'runtime_config.wit': '29d53b1acd3071bfefc36520acc971c51cbcf8b4',
      'world.wit': '378c4a77954c9c0d0bc92574b0b5a5ae65176701',
    },
    interfaces: ['runtime'],
    imports: ['runtime'],
    exports: [],
    deps: [],
    transitiveImports: [],
  },
  {
    dir: 'wasi-logging@0.1.0-draft',
    id: 'wasi:logging@0.1.0-draft',
    blobs: { 'package.wit': '164cb5b9ca8a13f9a1da5112f3429986dc0a1976' },
    interfaces: ['logging'],
    imports: ['logging'],
    exports: [],
    deps: [],
    transitiveImports: [],
  },
  {
    dir: 'wasmcloud-messaging@0.2.0',
    id: 'wasmcloud:messaging@0.2.0',
    blobs: { 'package.wit': 'b037df7060244267bd0871c323b1577c82436498' },
    interfaces: ['types', 'handler', 'consumer'],
    imports: ['types', 'consumer'],
    exports: ['handler'],
    deps: [],
    transitiveImports: [],
  },
  {
    dir: 'wasmcloud-postgres@0.1.1-draft',
    id: 'wasmcloud:postgres@0.1.1-draft',
    blobs: { 'package.wit': '22943cdc748c4f2ae461bf4f8a051704427dd828' },
    interfaces: ['types', 'query', 'prepared'],
    imports: ['types', 'query', 'prepared'],
    exports: [],
    deps: [],
    transitiveImports: [],
  },
  {
    // Not served on its own: wasi:blobstore@0.2.0-draft needs exactly this version to resolve.
    dir: 'wasi-io@0.2.1',
    id: 'wasi:io@0.2.1',
    blobs: { 'package.wit': '5a47b2a049dd383539adaa3524c7200c69613ca9' },
    interfaces: ['error', 'poll', 'streams'],
    imports: ['streams'],
    exports: [],
    deps: [],
    transitiveImports: ['wasi:io/error@0.2.1', 'wasi:io/poll@0.2.1'],
  },
  {
    dir: 'wasi-webgpu@0.0.1',
    id: 'wasi:webgpu@0.0.1',
    blobs: { 'webgpu.wit': '3f8929ff57ee0fc91957d29ff0b0eba2140005db', 'imports.wit': '774b702146a82e3fada28f47fe5b1fbad3277d30' },
    interfaces: ['webgpu'],
    imports: ['webgpu'],
    exports: [],
    deps: ['wasi-graphics-context@0.0.1', 'wasi-io@0.2.0'],
    transitiveImports: ['wasi:graphics-context/graphics-context@0.0.1', 'wasi:io/poll@0.2.0'],
  },
  {
    dir: 'wasi-graphics-context@0.0.1',
    id: 'wasi:graphics-context@0.0.1',
    blobs: { 'graphics-context.wit': '9ad874507ac608940e075717e1ea1ae07eef1327' },
    interfaces: ['graphics-context'],
    imports: ['graphics-context'],
    exports: [],
    deps: [],
    transitiveImports: [],
  },
  {
    // Not served on its own: wasi:webgpu@0.0.1 uses wasi:io/poll@0.2.0 exactly.
    dir: 'wasi-io@0.2.0',
    id: 'wasi:io@0.2.0',
    blobs: {
      'error.wit': '22e5b64894b821b798ab63d462ea7afae9be42e5',
      'poll.wit': 'ddc67f8b7ace45e737d2f4ed2a8f22b70b63d39c',
      'streams.wit': '6d2f871e3b6f511d0753453dcbcb06ddc300ba0e',
      'world.wit': '5f0b43fe50d14d3fea88cc962ff0be316c57f032',
    },
    interfaces: ['error', 'poll', 'streams'],
    imports: ['streams'],
    exports: [],
    deps: [],
    transitiveImports: ['wasi:io/error@0.2.0', 'wasi:io/poll@0.2.0'],
  },
];

/** `git hash-object` of a file's bytes. */
function gitBlobId(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** `wasi:keyvalue@0.2.0-draft` + `store` -> `wasi:keyvalue/store@0.2.0-draft`. */
function qualified(id: string, iface: string): string {
  const at = id.indexOf('@');
  return `${id.slice(0, at)}/${iface}${id.slice(at)}`;
}

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Builds a component from a world using the given wit/ folders (copied under deps/, .wit files only)
 * and returns the `import`/`export` lines of its world, as componentWit prints them.
 */
async function componentWorld(
  folders: string[],
  imports: string[],
  exports: string[],
): Promise<{ imports: string[]; exports: string[] }> {
  const root = mkdtempSync(join(tmpdir(), 'wasmhost-wit-'));
  tempDirs.push(root);
  for (const folder of new Set(folders)) {
    const target = join(root, 'deps', folder);
    mkdirSync(target, { recursive: true });
    for (const file of readdirSync(join(WIT, folder))) {
      if (file.endsWith('.wit')) cpSync(join(WIT, folder, file), join(target, file));
    }
  }
  const body = [...imports.map((i) => `  import ${i};`), ...exports.map((e) => `  export ${e};`)];
  const world = `package wasmhost:wit-test;\n\nworld check {\n${body.join('\n')}\n}\n`;
  writeFileSync(join(root, 'world.wit'), world);
  const core = await componentEmbed({ dummy: true, witPath: root, world: 'wasmhost:wit-test/check' });
  const wit = await componentWit(await componentNew(core, []));
  const lines = (kind: string) =>
    [...wit.matchAll(new RegExp(`^\\s*${kind} ([^;\\s]+);$`, 'gm'))].map((m) => m[1]).sort();
  return { imports: lines('import'), exports: lines('export') };
}

for (const pkg of PACKAGES) {
  describe(pkg.id, () => {
    const dir = join(WIT, pkg.dir);

    test('files are the upstream blobs, with the expected package header and interfaces', () => {
      const witFiles = readdirSync(dir).filter((f) => f.endsWith('.wit')).sort();
      assert.deepEqual(witFiles, Object.keys(pkg.blobs).sort(), 'the .wit files of the folder');
      const headers: string[] = [];
      const interfaces: string[] = [];
      for (const file of witFiles) {
        const bytes = readFileSync(join(dir, file));
        assert.equal(gitBlobId(bytes), pkg.blobs[file], `${pkg.dir}/${file} is not the upstream blob`);
        const text = bytes.toString('utf8');
        for (const m of text.matchAll(/^package ([^;\s]+);$/gm)) headers.push(m[1]);
        for (const m of text.matchAll(/^interface ([a-z][a-z0-9-]*) \{$/gm)) interfaces.push(m[1]);
      }
      assert.deepEqual([...new Set(headers)], [pkg.id], 'package headers naming the expected package and version');
      assert.deepEqual(interfaces.sort(), [...pkg.interfaces].sort());
      const source = readFileSync(join(dir, 'SOURCE.md'), 'utf8');
      for (const blob of Object.values(pkg.blobs)) {
        assert.ok(source.includes(blob), `SOURCE.md names blob ${blob}`);
      }
    });

    test('parses, resolves and yields a component with the expected imports and exports', async () => {
      const imports = pkg.imports.map((i) => qualified(pkg.id, i));
      const exports = pkg.exports.map((e) => qualified(pkg.id, e));
      const world = await componentWorld([pkg.dir, ...pkg.deps], imports, exports);
      assert.deepEqual(world.imports, [...imports, ...pkg.transitiveImports].sort());
      assert.deepEqual(world.exports, [...exports].sort());
    });
  });
}

test('all served packages resolve together in one world', async () => {
  const served = PACKAGES.filter((p) => !p.id.startsWith('wasi:io@'));
  const imports = served.flatMap((p) => p.imports.map((i) => qualified(p.id, i)));
  const exports = served.flatMap((p) => p.exports.map((e) => qualified(p.id, e)));
  const world = await componentWorld(
    served.flatMap((p) => [p.dir, ...p.deps]),
    imports,
    exports,
  );
  // wasi:webgpu's wasi:io/poll@0.2.0 merges into 0.2.1 (WIT resolution unifies compatible versions).
  assert.deepEqual(world.imports, [...imports, ...WASI_IO_0_2_1].sort());
  assert.deepEqual(world.exports, [...exports].sort());
});

test('wit/README.md lists every package folder and every blob', () => {
  const readme = readFileSync(join(WIT, 'README.md'), 'utf8');
  const folders = readdirSync(WIT, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual(folders.sort(), PACKAGES.map((p) => p.dir).sort(), 'the folders of wit/');
  for (const pkg of PACKAGES) {
    assert.ok(readme.includes(`\`${pkg.id}\``), `README names ${pkg.id}`);
    for (const [file, blob] of Object.entries(pkg.blobs)) {
      const row = `| \`${pkg.dir}/${file}\` | \`${blob}\` |`;
      assert.ok(readme.includes(row), `README gives the blob of ${pkg.dir}/${file}`);
    }
  }
});
