/**
 * `serve --workers 2` against `serve --workers 1`, for the hello components (`wat`: http-hello,
 * `rust`: rust-http-hello, `js`: http-test's `/`), fresh instances and pooled ones. Measured in
 * pairs as the HTTP bench is (this machine drifts): in each round, at 10 and 100 connections,
 * the one-worker and two-worker servers are loaded one right after the other (the order
 * alternates), and the figure is the median of the two-worker server's throughput as a share of
 * the one-worker server's, over BENCH_WORKERS_ROUNDS rounds (default 3) of
 * BENCH_WORKERS_SECONDS (default 3). The load generator (autocannon) runs in this process, on
 * the same cores: on a 2-core machine a second worker competes with it.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fixturePath } from '../test/fixtures/index.ts';
import { load, startServer, stop, type Server } from './http.ts';
import { median } from './stats.ts';

const SECONDS = Number(process.env.BENCH_WORKERS_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_WORKERS_ROUNDS ?? 3);
const CONCURRENCY = [10, 100];
const HELLOS = [
  ['wat', 'http-hello'],
  ['rust', 'rust-http-hello'],
  ['js', 'http-test'],
] as const;

export interface WorkersRow {
  server: string;
  connections: number;
  oneWorker: number;
  twoWorkers: number;
  /** Median, pair by pair, of the two-worker server's req/s over the one-worker server's. */
  ratio: number;
  errors: number;
}

/** The pairs: the same component and instance policy with one and with two workers. */
function pairs(): { name: string; one: Server; two: Server }[] {
  const wasmhost = join(import.meta.dirname, '..', 'bin/wasmhost.js');
  let port = 8701;
  const serve = (name: string, wasm: string, extra: string[], workers: number): Server => {
    const p = port++;
    return { name, port: p, args: [wasmhost, 'serve', wasm, '--addr', `127.0.0.1:${p}`, '--workers', String(workers), ...extra] };
  };
  const list = [];
  for (const [label, fixture] of HELLOS) {
    const wasm = fixturePath(fixture);
    for (const [mode, extra] of [['fresh', []], ['pooled', ['--pool-size', '100']]] as const) {
      const name = `${label} ${mode}`;
      list.push({ name, one: serve(name, wasm, [...extra], 1), two: serve(name, wasm, [...extra], 2) });
    }
  }
  return list;
}

export async function workersBench(log: (line: string) => void = () => {}): Promise<WorkersRow[]> {
  const rows: WorkersRow[] = [];
  for (const pair of pairs()) {
    // One pair at a time: idle servers of other pairs would still hold memory and threads.
    const children: ChildProcess[] = [];
    try {
      log(`workers: starting ${pair.name}, one and two workers`);
      for (const s of [pair.one, pair.two]) {
        children.push(await startServer(s));
        await load(s.port, { connections: 10, duration: 1 }); // warm up (both workers get requests)
      }
      for (const connections of CONCURRENCY) {
        const one: number[] = [];
        const two: number[] = [];
        const ratios: number[] = [];
        let errors = 0;
        for (let round = 1; round <= ROUNDS; round++) {
          const twoFirst = round % 2 === 0;
          const a = await load((twoFirst ? pair.two : pair.one).port, { connections, duration: SECONDS });
          const b = await load((twoFirst ? pair.one : pair.two).port, { connections, duration: SECONDS });
          const [r1, r2] = twoFirst ? [b, a] : [a, b];
          one.push(r1.requests.average);
          two.push(r2.requests.average);
          ratios.push(r2.requests.average / r1.requests.average);
          errors += r1.errors + r1.non2xx + r1.timeouts + r2.errors + r2.non2xx + r2.timeouts;
        }
        rows.push({ server: pair.name, connections, oneWorker: Math.round(median(one)), twoWorkers: Math.round(median(two)), ratio: median(ratios), errors });
        log(`workers: ${pair.name} at ${connections}: ${rows.at(-1)!.ratio.toFixed(2)}x`);
      }
    } finally {
      for (const child of children) await stop(child);
    }
  }
  return rows;
}

export function workersTable(rows: WorkersRow[]): string {
  const lines = ['| server | connections | --workers 1 req/s | --workers 2 req/s | 2 / 1 | errors |', '|---|---:|---:|---:|---:|---:|'];
  for (const r of rows) lines.push(`| ${r.server} | ${r.connections} | ${r.oneWorker} | ${r.twoWorkers} | ${r.ratio.toFixed(2)}x | ${r.errors} |`);
  return lines.join('\n');
}

// `node bench/workers.ts` runs it alone.
if (import.meta.main) {
  const rows = await workersBench((line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${workersTable(rows)}\n`);
}
