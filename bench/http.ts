/**
 * HTTP throughput on loopback, side by side in one run, with autocannon as the load generator,
 * for three hello-world components of the shapes users bring: `wat` (http-hello, hand-written,
 * one core module), `rust` (rust-http-hello, Debian's rustc and the preview1 adapter: four core
 * modules) and `js` (http-test's `/`, componentize-js: a 12 MB JavaScript engine):
 *   node      a bare Node `http` server answering "hello" (the ceiling on this machine)
 *   fresh     `wasmhost serve` of the component, a fresh instance per request
 *   pooled    the same with warm instances (`--pool-size`)
 *   jco       `jco serve` of the same component (the JavaScript peer, shipped with jco)
 *   no limits the wat hello fresh and pooled again with `--no-limits`: the cost of the limits
 *             instrumentation
 * Every server runs in its own process, all started up front. They are measured in pairs: in
 * each round, at concurrency 1, 10 and 100, every server is loaded for BENCH_HTTP_SECONDS
 * (default 3) right before or right after the bare Node server (the order alternates), and its
 * share of bare Node is taken pair by pair; a figure is the median of BENCH_HTTP_ROUNDS rounds
 * (default 3). Why: this machine's speed drifts by 20-50% from one minute to the next (measured:
 * bare Node alone answered 22k and 45k req/s at 100 connections minutes apart), so a server is
 * only ever compared with the bare one measured next to it. Then a long run per server
 * (BENCH_HTTP_REQUESTS, default 100k, capped at BENCH_HTTP_CAP_SECONDS, default 60 s) reports
 * errors and the server's memory (RSS) before and after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { fixturePath } from '../test/fixtures/index.ts';
import { median } from './stats.ts';

const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);
const LONG_REQUESTS = Number(process.env.BENCH_HTTP_REQUESTS ?? 100_000);
const LONG_CAP_SECONDS = Number(process.env.BENCH_HTTP_CAP_SECONDS ?? 60);
const CONCURRENCY = [1, 10, 100];
const root = join(import.meta.dirname, '..');
const node = process.execPath;

export interface HttpRow {
  server: string;
  connections: number;
  requestsPerSecond: number;
  /** The median of its share of bare Node, each measured next to a run of bare Node. */
  shareOfNode: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface HttpLongRun {
  server: string;
  requests: number;
  seconds: number;
  errors: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
}

export interface Server {
  name: string;
  port: number;
  args: string[];
  /** The whole environment of its process (default: this one's). */
  env?: NodeJS.ProcessEnv;
}

/** The hello components: each answers GET / with a body that starts with `hello`. */
const HELLOS = [
  ['wat', 'http-hello'],
  ['rust', 'rust-http-hello'],
  ['js', 'http-test'],
] as const;

function servers(): Server[] {
  const wasmhost = join(root, 'bin/wasmhost.js');
  const jco = join(root, 'node_modules/@bytecodealliance/jco/dist/jco.js');
  const list: Server[] = [{ name: 'node', port: 8401, args: ['-e', "require('http').createServer((q, s) => s.end('hello')).listen(8401, '127.0.0.1')"] }];
  let port = 8402;
  const add = (name: string, args: (addr: string, port: number) => string[]) => {
    list.push({ name, port, args: args(`127.0.0.1:${port}`, port) });
    port++;
  };
  for (const [label, fixture] of HELLOS) {
    const wasm = fixturePath(fixture);
    add(`${label} fresh`, (addr) => [wasmhost, 'serve', wasm, '--addr', addr]);
    // Next to the same server without the limits instrumentation (what interrupting guests
    // costs), measured one after the other so that both see the machine in the same state.
    if (label === 'wat') add(`${label} fresh, no limits`, (addr) => [wasmhost, 'serve', wasm, '--addr', addr, '--no-limits']);
    add(`${label} pooled`, (addr) => [wasmhost, 'serve', wasm, '--addr', addr, '--pool-size', '100']);
    if (label === 'wat') add(`${label} pooled, no limits`, (addr) => [wasmhost, 'serve', wasm, '--addr', addr, '--pool-size', '100', '--no-limits']);
    add(`${label} jco serve`, (_, p) => [jco, 'serve', wasm, '--host', '127.0.0.1', '--port', String(p)]);
  }
  return list;
}

async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    return (await res.text()).startsWith('hello');
  } catch {
    return false; // not listening (yet)
  }
}

export async function startServer(s: Server): Promise<ChildProcess> {
  // A server left over from an earlier run would be measured in place of this one.
  if (await answers(s.port)) throw new Error(`${s.name}: port ${s.port} is taken by another server`);
  // Its own process group: `jco serve` runs its server in a child process, stopped with it.
  const child = spawn(node, s.args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: s.env });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${s.name} exited: ${stderr.trim()}`);
    if (await answers(s.port)) return child;
    if (Date.now() > deadline) throw new Error(`${s.name} did not answer within 60 s: ${stderr.trim()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Resident memory of a server's process group (`jco serve` serves from a child process). */
function rssMiB(group: number): number {
  let kB = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      // Fields after the command name (which may hold spaces): state, ppid, pgrp, ...
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== group) continue;
      kB += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // the process ended meanwhile
    }
  }
  return Math.round(kB / 1024);
}

export function load(port: number, options: Partial<autocannon.Options>): Promise<autocannon.Result> {
  return autocannon({ url: `http://127.0.0.1:${port}/`, ...options });
}

/** Stops a server and its process group. */
export async function stop(child: ChildProcess): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // the whole group has exited
    }
  };
  const exited = child.exitCode === null ? new Promise((r) => child.once('exit', r)) : Promise.resolve();
  signal('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  signal('SIGKILL');
}

export async function httpBench(log: (line: string) => void = () => {}): Promise<{ rows: HttpRow[]; long: HttpLongRun[] }> {
  const list = servers();
  const children = new Map<Server, ChildProcess>();
  try {
    for (const s of list) {
      log(`http: starting ${s.name}`);
      const child = await startServer(s);
      children.set(s, child);
      await load(s.port, { connections: 10, duration: 1 }); // warm up
    }
    const [bare, ...others] = list;
    const runs = new Map<string, { result: autocannon.Result; share: number }[]>();
    const record = (server: Server, connections: number, result: autocannon.Result, share: number) => {
      const key = `${server.name}|${connections}`;
      runs.set(key, [...(runs.get(key) ?? []), { result, share }]);
    };
    for (let round = 1; round <= ROUNDS; round++) {
      log(`http: round ${round} of ${ROUNDS}`);
      for (const connections of CONCURRENCY) {
        for (const [i, s] of others.entries()) {
          // Alternating which goes first: neither side always gets the warmer (or colder) moment.
          const first = (round + i) % 2 === 0;
          const a = await load((first ? bare : s).port, { connections, duration: SECONDS });
          const b = await load((first ? s : bare).port, { connections, duration: SECONDS });
          const [node, server] = first ? [a, b] : [b, a];
          record(bare, connections, node, 1);
          record(s, connections, server, server.requests.average / node.requests.average);
        }
      }
    }
    const rows: HttpRow[] = [];
    for (const s of list) {
      for (const connections of CONCURRENCY) {
        const results = runs.get(`${s.name}|${connections}`)!;
        // The median run gives the latencies too, so that one row is one measurement.
        const rps = median(results.map((r) => r.result.requests.average));
        const mid = results.reduce((a, b) => (Math.abs(b.result.requests.average - rps) < Math.abs(a.result.requests.average - rps) ? b : a)).result;
        rows.push({
          server: s.name,
          connections,
          requestsPerSecond: Math.round(rps),
          shareOfNode: median(results.map((r) => r.share)),
          p50Ms: mid.latency.p50,
          p99Ms: mid.latency.p99,
          errors: results.reduce((n, r) => n + r.result.errors + r.result.non2xx + r.result.timeouts, 0),
        });
      }
    }
    const long: HttpLongRun[] = [];
    for (const s of list) {
      log(`http: ${LONG_REQUESTS} requests to ${s.name}`);
      const child = children.get(s)!;
      const before = rssMiB(child.pid!);
      const started = performance.now();
      const r = await load(s.port, { connections: 10, amount: LONG_REQUESTS, duration: LONG_CAP_SECONDS });
      long.push({
        server: s.name,
        requests: r.requests.total,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        errors: r.errors + r.non2xx + r.timeouts,
        rssBeforeMiB: before,
        rssAfterMiB: rssMiB(child.pid!),
      });
    }
    return { rows, long };
  } finally {
    await Promise.all([...children.values()].map(stop));
  }
}

export function httpTables(result: { rows: HttpRow[]; long: HttpLongRun[] }): string {
  const lines = ['| server | connections | req/s | % of bare node (paired) | p50 ms | p99 ms | errors |', '|---|---:|---:|---:|---:|---:|---:|'];
  for (const r of result.rows) {
    lines.push(`| ${r.server} | ${r.connections} | ${r.requestsPerSecond} | ${(r.shareOfNode * 100).toFixed(1)}% | ${r.p50Ms} | ${r.p99Ms} | ${r.errors} |`);
  }
  // What the limits instrumentation costs: the same server with it against without, each as a share of bare Node.
  const share = (server: string, c: number) => result.rows.find((r) => r.server === server && r.connections === c)?.shareOfNode;
  lines.push('', '| limits instrumentation cost | connections | with | without | cost |', '|---|---:|---:|---:|---:|');
  for (const [withLimits, without] of [['wat fresh', 'wat fresh, no limits'], ['wat pooled', 'wat pooled, no limits']]) {
    for (const c of CONCURRENCY) {
      const a = share(withLimits, c);
      const b = share(without, c);
      const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
      if (a && b) lines.push(`| ${withLimits} | ${c} | ${pct(a)} | ${pct(b)} | ${pct((b - a) / b)} |`);
    }
  }
  lines.push('', '| server | requests | seconds | errors | RSS before MiB | RSS after MiB |', '|---|---:|---:|---:|---:|---:|');
  for (const l of result.long) lines.push(`| ${l.server} | ${l.requests} | ${l.seconds} | ${l.errors} | ${l.rssBeforeMiB} | ${l.rssAfterMiB} |`);
  return lines.join('\n');
}
