import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Engine,
  WasiContext,
  createWasiImports,
  NotWasmError,
  InvalidComponentError,
  UnsupportedModuleError,
  MissingImportError,
  MissingExportError,
  TrapError,
  InstanceClosedError,
  UnsupportedComponentError,
} from '../../src/index.ts';
import type { CoreModuleTransform } from '../../src/engine.ts';
import { parse } from '@bytecodealliance/jco';
import { fixturePath } from '../fixtures/index.ts';

const tempCache = () => mkdtemp(join(tmpdir(), 'wasmhost-cache-'));

function calcImports(counter: { pings: number }) {
  return { 'test:calc/host': { ping: () => void counter.pings++ } };
}

test('compiles a WAT component, lists its world with versions, and calls its exports', async () => {
  const engine = new Engine({ cacheDir: false });
  const calc = await engine.compile(fixturePath('calc'));
  assert.deepEqual(
    calc.exports.map((e) => e.name),
    ['add', 'noop', 'echo', 'ping-host'],
  );
  assert.deepEqual(calc.imports.map((i) => i.name), ['test:calc/host']);
  assert.equal(calc.origin, 'component');
  assert.match(calc.digest, /^sha256:[0-9a-f]{64}$/);

  const counter = { pings: 0 };
  const instance = await calc.instantiate(calcImports(counter));
  assert.equal(await instance.call('add', 2, 40), 42);
  assert.equal(await instance.call('echo', 'héllo, wörld ✓'), 'héllo, wörld ✓');
  await instance.call('ping-host', 7);
  assert.equal(counter.pings, 7);
});

test('instances are isolated: each has its own imports and state', async () => {
  const engine = new Engine({ cacheDir: false });
  const calc = await engine.compile(fixturePath('calc'));
  const a = { pings: 0 };
  const b = { pings: 0 };
  const [ia, ib] = await Promise.all([calc.instantiate(calcImports(a)), calc.instantiate(calcImports(b))]);
  await ia.call('ping-host', 3);
  await ib.call('ping-host', 5);
  assert.deepEqual([a.pings, b.pings], [3, 5]);
});

test('memory cache serves the same compiled component for the same bytes', async () => {
  const engine = new Engine({ cacheDir: false });
  const bytes = await readFile(fixturePath('calc'));
  const [x, y] = await Promise.all([engine.compile(bytes), engine.compile(bytes)]);
  assert.equal(x, y);
  assert.equal(engine.stats.prepares, 1);
  assert.equal(engine.stats.memoryHits, 1);
});

test('disk cache: a second engine skips transpilation; a corrupt entry is detected and rebuilt', async () => {
  const dir = await tempCache();
  try {
    const first = new Engine({ cacheDir: dir });
    await first.compile(fixturePath('calc'));
    assert.deepEqual(first.stats, { memoryHits: 0, diskHits: 0, prepares: 1 });

    const second = new Engine({ cacheDir: dir });
    const c2 = await second.compile(fixturePath('calc'));
    assert.deepEqual(second.stats, { memoryHits: 0, diskHits: 1, prepares: 0 });
    assert.equal(await (await c2.instantiate(calcImports({ pings: 0 }))).call('add', 1, 1), 2);

    // Flip bytes in a cached core module: the checksum catches it.
    const [entry] = await readdir(join(dir, 'components'));
    const wasmName = (await readdir(join(dir, 'components', entry))).find((f) => f.endsWith('.wasm'))!;
    const wasmPath = join(dir, 'components', entry, wasmName);
    const data = await readFile(wasmPath);
    data[data.length - 1] ^= 0xff;
    await writeFile(wasmPath, data);

    const third = new Engine({ cacheDir: dir });
    const c3 = await third.compile(fixturePath('calc'));
    assert.deepEqual(third.stats, { memoryHits: 0, diskHits: 0, prepares: 1 });
    assert.equal(await (await c3.instantiate(calcImports({ pings: 0 }))).call('add', 2, 2), 4);

    // A truncated meta.json is also rebuilt, not trusted.
    await writeFile(join(dir, 'components', entry, 'meta.json'), '{"format":');
    const fourth = new Engine({ cacheDir: dir });
    await fourth.compile(fixturePath('calc'));
    assert.equal(fourth.stats.prepares, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('every core module passes through the configured transforms before compilation', async () => {
  const seen: [string, number][] = [];
  const spy: CoreModuleTransform = {
    id: 'spy',
    transform(bytes, info) {
      seen.push([info.name, info.index]);
      assert.match(info.componentDigest, /^sha256:/);
      return bytes;
    },
  };
  const engine = new Engine({ cacheDir: false, coreModuleTransforms: [spy] });
  await engine.compile(fixturePath('calc'));
  assert.deepEqual(seen, [[`${fixturePath('calc')} core module 0`, 0]]);
  // A preview1 module wrapped with the adapter: main module, adapter, shim and fixup.
  seen.length = 0;
  await engine.compile(fixturePath('hello-p1'));
  assert.deepEqual(seen.map(([, i]) => i).toSorted(), [0, 1, 2, 3]);
});

test('bad input: bytes that are not Wasm', async () => {
  const engine = new Engine({ cacheDir: false });
  await assert.rejects(engine.compile(Buffer.from('hello world, not wasm'), 'notes.txt'), (err: Error) => {
    assert.ok(err instanceof NotWasmError);
    assert.match(err.message, /notes\.txt is not a WebAssembly binary/);
    return true;
  });
  await assert.rejects(engine.compile(new Uint8Array(0), 'empty.wasm'), /empty\.wasm is not a WebAssembly binary \(an empty file\)/);
});

test('bad input: a truncated component names the problem', async () => {
  const engine = new Engine({ cacheDir: false });
  const bytes = await readFile(fixturePath('calc'));
  await assert.rejects(engine.compile(bytes.subarray(0, Math.floor(bytes.length / 2)), 'half.wasm'), (err: Error) => {
    assert.ok(err instanceof InvalidComponentError, String(err));
    assert.match(err.message, /^half\.wasm is not a valid component: \S/);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
});

test('a component the runtime cannot run yet is refused at compile time, naming the construct', async () => {
  const engine = new Engine({ cacheDir: false });
  // WASI 0.3 components from the shared conformance suite (their async ABI waits for the 0.3 host).
  const p3 = join(import.meta.dirname, '../../../shared/conformance/wasi-testsuite/tests/rust/testsuite/wasm32-wasip3');
  const cases: [string, RegExp][] = [
    ['filesystem-io.wasm', /filesystem-io\.wasm cannot run: the stream type \(the async ABI of WASI 0\.3\)$/],
    ['http-service.wasm', /http-service\.wasm cannot run: the future type \(the async ABI of WASI 0\.3\)$/],
  ];
  for (const [file, message] of cases) {
    await assert.rejects(engine.compile(join(p3, file)), (err: Error) => {
      assert.ok(err instanceof UnsupportedComponentError, String(err));
      assert.match(err.message, message);
      return true;
    });
  }
  // Component-level values cannot be imported yet.
  const value = await parse('(component (import "v" (value string)))').catch(() => undefined);
  if (value) await assert.rejects(engine.compile(value, 'value.wasm'), (err: Error) => err instanceof UnsupportedComponentError && /^value\.wasm cannot run: component values/.test(err.message));
});

test('bad input: a core module that is not WASI names its foreign import', async () => {
  const engine = new Engine({ cacheDir: false });
  await assert.rejects(engine.compile(fixturePath('not-wasi-module')), (err: Error) => {
    assert.ok(err instanceof UnsupportedModuleError);
    assert.match(err.message, /imports env\.foo, which is not WASI preview1/);
    return true;
  });
});

test('bad input: an import nobody provides is named, with its version', async () => {
  const engine = new Engine({ cacheDir: false });
  const c = await engine.compile(fixturePath('missing-import'));
  await assert.rejects(c.instantiate(createWasiImports(new WasiContext())), (err: Error) => {
    assert.ok(err instanceof MissingImportError);
    assert.equal(err.interfaceName, 'acme:missing/thing@1.0.0');
    assert.match(err.message, /acme:missing\/thing@1\.0\.0, which nothing provides/);
    return true;
  });
  // A provider missing one function is reported too.
  await assert.rejects(c.instantiate({ 'acme:missing/thing': {} }), /acme:missing\/thing@1\.0\.0, but the provider lacks call/);
});

test('calling an export that does not exist lists what does', async () => {
  const engine = new Engine({ cacheDir: false });
  const instance = await (await engine.compile(fixturePath('calc'))).instantiate(calcImports({ pings: 0 }));
  await assert.rejects(instance.call('multiply', 1, 2), (err: Error) => {
    assert.ok(err instanceof MissingExportError);
    assert.match(err.message, /no exported function multiply \(exports: add, echo, noop, pingHost\)/);
    return true;
  });
});

test('a trap ends the instance with a clear error; the host and new instances carry on', async () => {
  const engine = new Engine({ cacheDir: false });
  const c = await engine.compile(fixturePath('trap'));
  const instance = await c.instantiate(createWasiImports(new WasiContext()));
  await assert.rejects(instance.run(), (err: Error) => {
    assert.ok(err instanceof TrapError);
    assert.match(err.message, /guest trapped: .*unreachable/);
    return true;
  });
  assert.ok(instance.closedReason instanceof TrapError);
  await assert.rejects(instance.run(), InstanceClosedError);

  const again = await c.instantiate(createWasiImports(new WasiContext()));
  await assert.rejects(again.call('recurse'), (err: Error) => {
    assert.ok(err instanceof TrapError);
    assert.match(err.message, /stack overflow|call stack/i);
    return true;
  });
});

test('a preview1 core module runs through the adapter and keeps its exit code', async () => {
  const engine = new Engine({ cacheDir: false });
  const c = await engine.compile(fixturePath('hello-p1'));
  assert.equal(c.origin, 'preview1');
  const ctx = new WasiContext({ stdout: 'capture' });
  const instance = await c.instantiate(createWasiImports(ctx));
  assert.equal(await instance.run(), 7);
  assert.equal(ctx.capturedStdout().toString(), 'hello from preview1\n');
});
