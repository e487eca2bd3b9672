/**
 * Engine benchmarks: compile (first, disk cache, memory cache), instantiate (median of N fresh
 * instances) and call overhead both ways, for a small WAT component (calc), a componentize-js
 * one (greeter), and the three HTTP hellos (WAT, Rust with the preview1 adapter, JavaScript):
 * their fresh instances, restored (the last one closed first) or new (the others kept alive),
 * and the memory a warm instance holds. The baseline, measured in the same run, is the
 * component's own core module driven directly through V8 (no canonical-ABI glue): the floor any
 * component engine sits on.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Engine, InstanceClosedError, WasiContext, createWasiImports, type Instance } from '../src/index.ts';
import { httpTypes } from '../src/http/types/index.ts';
import { fixturePath } from '../test/fixtures/index.ts';
import { median, timeIt, type Row } from './stats.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1000);
const CALLS = Number(process.env.BENCH_CALLS ?? 20000);

async function compileTimes(name: string): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-bench-'));
  try {
    const cold = await timeIt(() => new Engine({ cacheDir: dir }).compile(fixturePath(name)));
    // A new Engine per sample: measures a new process's start with a warm disk cache.
    const disk: number[] = [];
    for (let i = 0; i < 5; i++) disk.push(await timeIt(() => new Engine({ cacheDir: dir }).compile(fixturePath(name))));
    const engine = new Engine({ cacheDir: dir });
    await engine.compile(fixturePath(name));
    const memory: number[] = [];
    for (let i = 0; i < 20; i++) memory.push(await timeIt(() => engine.compile(fixturePath(name))));
    return [
      { bench: `${name}: compile, first (decode, instrument, compile)`, value: cold, unit: 'ms' },
      { bench: `${name}: compile, disk cache (new engine)`, value: median(disk), unit: 'ms' },
      { bench: `${name}: compile, memory cache`, value: median(memory), unit: 'ms' },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function medianOf(n: number, fn: () => unknown): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await timeIt(fn));
  return median(samples) * 1000;
}

/** Per-call time of `fn`, from the median of several batches of `CALLS / 10` calls. */
async function perCall(fn: () => unknown): Promise<number> {
  const batch = Math.max(1, Math.floor(CALLS / 10));
  for (let i = 0; i < batch; i++) await fn(); // warm-up
  const samples: number[] = [];
  for (let b = 0; b < 10; b++) {
    const t = performance.now();
    for (let i = 0; i < batch; i++) await fn();
    samples.push((performance.now() - t) / batch);
  }
  return median(samples) * 1000;
}

/**
 * The core module behind calc, compiled directly: V8's own instantiate and call cost. Not
 * instrumented for limits: its fuel checks would call hooks only a `Limiter` installs.
 */
async function rawCalcModule(): Promise<WebAssembly.Module> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-bench-'));
  try {
    await new Engine({ cacheDir: dir, instrument: false }).compile(fixturePath('calc'));
    const [entry] = await readdir(join(dir, 'components'));
    return await WebAssembly.compile(await readFile(join(dir, 'components', entry, 'module-0.wasm')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The HTTP hellos' imports: a WASI context granting nothing, and wasi:http's types. */
function helloImports() {
  const ctx = new WasiContext({});
  return { ...createWasiImports(ctx), 'wasi:http/types': httpTypes, 'wasi:http/outgoing-handler': { handle: () => undefined } };
}

const DONE = new InstanceClosedError('benchmark done');

/** Fresh instances of a hello: restored ones, new ones, and the heap and RSS a warm one holds. */
async function helloRows(label: string, fixture: string): Promise<Row[]> {
  const compiled = await new Engine({ cacheDir: false }).compile(fixturePath(fixture));
  const restored = await medianOf(INSTANCES, async () => (await compiled.instantiate(helloImports())).close(DONE));
  // Kept alive until all are made: every one is a new instance group with new core instances.
  const kept: Instance[] = [];
  const fresh = await medianOf(Math.min(INSTANCES, 200), async () => kept.push(await compiled.instantiate(helloImports())));
  for (const i of kept.splice(0)) i.close(DONE);
  // What a warm instance holds: its linear memories and tables, and the JS heap it adds.
  gc();
  const before = process.memoryUsage().heapUsed;
  const WARM = 50;
  for (let i = 0; i < WARM; i++) kept.push(await compiled.instantiate(helloImports()));
  gc();
  const heap = (process.memoryUsage().heapUsed - before) / WARM / 1024;
  const linear = kept[0].limiter.usedBytes / 1024;
  for (const i of kept.splice(0)) i.close(DONE);
  return [
    { bench: `${label} hello: fresh instance, restored (median of ${INSTANCES})`, value: restored, unit: 'us' },
    { bench: `${label} hello: fresh instance, new core instances (median of ${Math.min(INSTANCES, 200)})`, value: fresh, unit: 'us' },
    { bench: `${label} hello: a warm instance's linear memory and tables`, value: linear, unit: 'KiB' },
    { bench: `${label} hello: a warm instance's JS heap (of ${WARM})`, value: heap, unit: 'KiB' },
  ];
}

export async function engineBench(): Promise<Row[]> {
  const rows: Row[] = [];
  rows.push(...(await compileTimes('calc')), ...(await compileTimes('greeter')), ...(await compileTimes('rust-http-hello')));
  rows.push(...(await helloRows('wat', 'http-hello')), ...(await helloRows('rust', 'rust-http-hello')), ...(await helloRows('js', 'http-test')));

  const engine = new Engine({ cacheDir: false });
  const calc = await engine.compile(fixturePath('calc'));
  const greeter = await engine.compile(fixturePath('greeter'));
  const calcImports = () => ({ 'test:calc/host': { ping: () => {} } });
  const greeterImports = () => ({ 'test:greeter/host': { log: () => {} } });

  const rawModule = await rawCalcModule();
  const rawImports = () => ({ 'test:calc/host': { ping: () => {} } });
  rows.push({
    bench: `calc: instantiate (median of ${INSTANCES})`,
    value: await medianOf(INSTANCES, () => calc.instantiate(calcImports())),
    unit: 'us',
    baseline: await medianOf(INSTANCES, () => WebAssembly.instantiate(rawModule, rawImports())),
  });
  rows.push({
    bench: `greeter: instantiate (median of ${INSTANCES})`,
    value: await medianOf(INSTANCES, () => greeter.instantiate(greeterImports())),
    unit: 'us',
  });
  const raw = await WebAssembly.instantiate(rawModule, rawImports());

  const calcInstance: Instance = await calc.instantiate(calcImports());
  const greeterInstance: Instance = await greeter.instantiate(greeterImports());
  const add = calcInstance.getFunction('add');
  const noop = calcInstance.getFunction('noop');
  const ping = calcInstance.getFunction('ping-host');
  const greet = greeterInstance.getFunction('greet');
  const callHost = greeterInstance.getFunction('call-host');
  const rawExports = raw.exports as Record<string, (...a: number[]) => number>;

  rows.push({ bench: 'calc: host -> guest add(u32, u32)', value: await perCall(() => add(1, 2)), unit: 'us', baseline: await perCall(() => rawExports.add(1, 2)) });
  rows.push({ bench: 'calc: host -> guest noop()', value: await perCall(() => noop()), unit: 'us', baseline: await perCall(() => rawExports.noop()) });
  const pingsPerCall = 1000;
  rows.push({
    bench: 'calc: guest -> host ping() (per import call)',
    value: (await perCall(() => ping(pingsPerCall))) / pingsPerCall,
    unit: 'us',
    baseline: (await perCall(() => rawExports['ping-host'](pingsPerCall))) / pingsPerCall,
  });
  rows.push({ bench: 'greeter: host -> guest greet(string)', value: await perCall(() => greet('world')), unit: 'us' });
  rows.push({ bench: 'greeter: guest -> host log(string) (per import call)', value: (await perCall(() => callHost(100))) / 100, unit: 'us' });
  return rows;
}
