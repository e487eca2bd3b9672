/**
 * The host's own cost on top of the engine: a fresh invocation per call (what a message or a
 * request pays), and calls between linked components. The baselines, measured in the same run,
 * do the same work with the engine alone: instances created and linked by hand, eagerly.
 */
import { pino } from 'pino';
import { Engine } from '../src/engine/engine.ts';
import { HostBuilder } from '../src/host/host.ts';
import { pluginInterface } from '../src/plugin/plugin.ts';
import { createWasiImports } from '../src/wasi/imports.ts';
import { WasiContext } from '../src/wasi/context.ts';
import { fixturePath } from '../test/fixtures/index.ts';
import { median, timeIt, type Row } from './stats.ts';

const RUNS = 300;

async function medianUs(fn: () => unknown): Promise<number> {
  for (let i = 0; i < 20; i++) await fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await timeIt(fn));
  return median(samples) * 1000;
}

/** Per-call time from the median of 10 batches of 200 calls: steadier than single calls, whose GC pauses dominate. */
async function batchedUs(fn: () => unknown): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  const samples: number[] = [];
  for (let b = 0; b < 10; b++) {
    const t = performance.now();
    for (let i = 0; i < 200; i++) await fn();
    samples.push((performance.now() - t) / 200);
  }
  return median(samples) * 1000;
}

export async function hostBench(): Promise<Row[]> {
  const engine = new Engine();
  const host = new HostBuilder()
    .withEngine(engine)
    .withLogger(pino({ level: 'silent' }))
    .withGuestOutput('ignore')
    .withPlugin({ id: 'ping', imports: [pluginInterface('test:calc/host')], onComponentBind: () => ({ 'test:calc/host': { ping() {} } }) })
    .build();
  await host.start();
  const calcHost = { namespace: 'test', package: 'calc', interfaces: ['host'], version: '' };
  await host.workloadStart({
    workloadId: 'calc',
    workload: { namespace: 'bench', name: 'calc', witWorld: { components: [{ name: 'calc', file: fixturePath('calc') }], hostInterfaces: [calcHost] } },
  });
  await host.workloadStart({
    workloadId: 'chain',
    workload: {
      namespace: 'bench',
      name: 'chain',
      witWorld: {
        components: ['entry', 'middle', 'callee'].map((n) => ({ name: n, file: fixturePath(`chain-${n}`) })),
        hostInterfaces: [],
      },
    },
  });

  const [calc, entry, middle, callee] = await Promise.all(['calc', 'chain-entry', 'chain-middle', 'chain-callee'].map((f) => engine.compile(fixturePath(f))));
  const byHand = async () => {
    const c = await callee.instantiate(createWasiImports(new WasiContext({})));
    const store = (c.exports as Record<string, unknown>)['test:chain/store@1.0.0'] as Record<string, unknown>;
    const m = await middle.instantiate({ ...createWasiImports(new WasiContext({})), 'test:chain/store': store });
    const mid = (m.exports as Record<string, unknown>)['test:chain/middle@1.0.0'] as Record<string, unknown>;
    return entry.instantiate({ 'test:chain/store': store, 'test:chain/middle': mid });
  };

  const calcWorkload = host.workload('calc')!;
  const chainWorkload = host.workload('chain')!;
  const rows: Row[] = [
    {
      bench: 'host: fresh invocation of calc + add() + close',
      value: await medianUs(async () => {
        const inv = calcWorkload.invocation('calc');
        await inv.call('add', 1, 2);
        await inv.close();
      }),
      unit: 'us',
      baseline: await medianUs(async () => (await calc.instantiate({ 'test:calc/host': { ping() {} } })).call('add', 1, 2)),
    },
    {
      bench: 'host: chain go() in a fresh invocation (3 instances, lazy, resource crossing)',
      value: await medianUs(async () => {
        const inv = chainWorkload.invocation('entry');
        await inv.call('go', 1);
        await inv.close();
      }),
      unit: 'us',
      baseline: await medianUs(async () => (await byHand()).call('go', 1)),
    },
  ];
  const warm = chainWorkload.invocation('entry');
  const warmByHand = await byHand();
  rows.push({
    bench: 'host: linked call entry -> callee, warm (counter-via-open)',
    value: await batchedUs(() => warm.call('counter-via-open', 1)),
    unit: 'us',
    baseline: await batchedUs(() => warmByHand.call('counter-via-open', 1)),
  });
  await warm.close();
  await host.stop();
  return rows;
}
