/**
 * What OpenTelemetry costs on the HTTP hello (http-hello, a fresh instance per request), side by
 * side in one run, each server in its own process:
 *   node  a bare Node http server (the baseline, as in http.ts)
 *   off   `wasmhost serve` without telemetry (no --otel, no OTEL_* variable)
 *   on    the same with --otel, exporting traces and metrics over OTLP/HTTP to a local sink (a
 *         plain Node server in a process of its own that counts what it receives), with the
 *         SDK's default batching
 * In each round, at concurrency 1, 10 and 100, the three are loaded for BENCH_TELEMETRY_SECONDS
 * (default 3) each, one right after the other in an order that rotates from round to round; off
 * and on are taken as shares of the node run next to them (this machine's speed drifts from one
 * minute to the next, see http.ts), and on against off. A figure is the median of
 * BENCH_TELEMETRY_ROUNDS rounds (default 3).
 *
 * The seam itself (telemetry/channels.ts) is measured directly too: with nobody subscribed, a
 * request through a route and an invocation reads `hasSubscribers` twice; the time of those
 * reads, against the time of one request at one connection, is what "off" adds at most. And
 * what "on" adds per request, in this process, without HTTP or a guest: the events of one
 * request (a server span around an invocation span, and the measurements) replayed many times
 * with nobody listening, with spans and metrics going to an exporter that drops them, and with
 * spans exported over OTLP to the sink.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import { pino } from 'pino';
import { httpRequest, invocation } from '../src/telemetry/channels.ts';
import type { TelemetryOptions } from '../src/telemetry/options.ts';
import { fixturePath } from '../test/fixtures/index.ts';
import { load, startServer, stop, type HttpRow, type Server } from './http.ts';
import { median } from './stats.ts';

const SECONDS = Number(process.env.BENCH_TELEMETRY_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_TELEMETRY_ROUNDS ?? 3);
const CONCURRENCY = [1, 10, 100];
const SINK_PORT = 8610;

/** An HTTP row (bench/http.ts) of one of the three servers. */
export interface TelemetryRow extends HttpRow {
  server: 'node' | 'off' | 'on';
}

export interface TelemetryResult {
  rows: TelemetryRow[];
  /** Per concurrency: the median of (off - on) / off, run by run. */
  costOfOn: { connections: number; cost: number }[];
  /** What reached the sink in the whole run (only `on` exports). */
  sink: { exports: number; spans: number; metricExports: number };
  seam: { readsPerRequest: number; nsPerRead: number; requestUs: number; shareOfRequest: number };
  /** us per request of the telemetry events alone (no HTTP, no guest), in this process. */
  events: { off: number; spansAndMetrics: number; exported: number };
}

/** The OTLP sink: answers every export with 200 and counts spans (`parentSpanId` is not `"spanId"`); GET /stats reports. */
const SINK = `
const http = require('node:http');
const stats = { exports: 0, spans: 0, metricExports: 0 };
http.createServer((req, res) => {
  if (req.method === 'GET') return res.end(JSON.stringify(stats));
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/v1/traces') {
      stats.exports++;
      // Counted without parsing: the sink should take as little of the machine as it can.
      const body = Buffer.concat(chunks);
      for (let i = body.indexOf('"spanId"'); i !== -1; i = body.indexOf('"spanId"', i + 8)) stats.spans++;
    } else stats.metricExports++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
}).listen(${SINK_PORT}, '127.0.0.1');
`;

function servers(): Server[] {
  const wasmhost = join(import.meta.dirname, '..', 'bin/wasmhost.js');
  const wasm = fixturePath('http-hello');
  // No OTEL_* variable from the caller's environment: off is off.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  return [
    { name: 'node', port: 8601, args: ['-e', "require('http').createServer((q, s) => s.end('hello')).listen(8601, '127.0.0.1')"] },
    { name: 'off', port: 8602, args: [wasmhost, 'serve', wasm, '--addr', '127.0.0.1:8602'], env: clean },
    {
      name: 'on',
      port: 8603,
      args: [wasmhost, 'serve', wasm, '--addr', '127.0.0.1:8603', '--otel'],
      env: { ...clean, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${SINK_PORT}`, OTEL_SERVICE_NAME: 'wasmhost-bench' },
    },
  ];
}

/** ns per `hasSubscribers` read with nobody subscribed: the two reads a request makes, many times. */
function seamNs(): number {
  const n = 20_000_000;
  let hits = 0;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    if (httpRequest.hasSubscribers) hits++;
    if (invocation.start.hasSubscribers) hits++;
  }
  const ns = ((performance.now() - t) * 1e6) / (2 * n);
  if (hits) throw new Error('telemetry is subscribed in the bench process');
  return ns;
}

/** us per replay of one request's events, with telemetry as `options` says (off when undefined). */
async function eventsUs(options: TelemetryOptions | undefined): Promise<number> {
  const { startTelemetry } = await import('../src/telemetry/sdk.ts');
  const telemetry = options && startTelemetry(options, pino({ level: 'silent' }));
  const req = { method: 'GET', url: '/', headers: { host: '127.0.0.1:8000', 'user-agent': 'autocannon' }, httpVersion: '1.1', socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
  const call = { workloadId: 'hello', component: 'http-hello', target: 'wasi:http/incoming-handler#handle' };
  const one = async () => {
    const res = Object.assign(new EventEmitter(), { statusCode: 200, writableFinished: true }) as unknown as ServerResponse;
    const serve = () => (invocation.start.hasSubscribers ? invocation.tracePromise(async () => undefined, { ...call }) : Promise.resolve());
    await (httpRequest.hasSubscribers ? httpRequest.runStores({ req, res, workloadId: 'hello', component: 'http-hello' }, serve) : serve());
    res.emit('close');
  };
  const replay = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await one();
      if (i % 500 === 0) await new Promise((r) => setImmediate(r)); // let the exporter run
    }
  };
  await replay(20_000);
  const n = 100_000;
  const t = performance.now();
  await replay(n);
  const us = ((performance.now() - t) * 1000) / n;
  await telemetry?.stop();
  return us;
}

export async function telemetryBench(log: (line: string) => void = () => {}): Promise<TelemetryResult> {
  const list = servers();
  const children: ChildProcess[] = [];
  const sink = spawn(process.execPath, ['-e', SINK], { stdio: 'ignore', detached: true });
  children.push(sink);
  try {
    for (const s of list) {
      log(`telemetry: starting ${s.name}`);
      children.push(await startServer(s));
      await load(s.port, { connections: 10, duration: 1 }); // warm up
    }
    const [node, off, on] = list;
    const runs = new Map<string, { result: autocannon.Result; share: number }[]>();
    const costs = new Map<number, number[]>();
    const record = (name: string, c: number, result: autocannon.Result, share: number) => {
      const key = `${name}|${c}`;
      runs.set(key, [...(runs.get(key) ?? []), { result, share }]);
    };
    for (let round = 1; round <= ROUNDS; round++) {
      log(`telemetry: round ${round} of ${ROUNDS}`);
      for (const connections of CONCURRENCY) {
        // Rotating order: none of the three always gets the warmer (or colder) moment.
        const order = [node, off, on].map((_, i, a) => a[(i + round) % a.length]);
        const results = new Map<string, autocannon.Result>();
        for (const s of order) results.set(s.name, await load(s.port, { connections, duration: SECONDS }));
        const rps = (name: string) => results.get(name)!.requests.average;
        for (const s of list) record(s.name, connections, results.get(s.name)!, rps(s.name) / rps('node'));
        costs.set(connections, [...(costs.get(connections) ?? []), (rps('off') - rps('on')) / rps('off')]);
      }
    }
    const rows: TelemetryRow[] = [];
    for (const s of list) {
      for (const connections of CONCURRENCY) {
        const results = runs.get(`${s.name}|${connections}`)!;
        const rps = median(results.map((r) => r.result.requests.average));
        const mid = results.reduce((a, b) => (Math.abs(b.result.requests.average - rps) < Math.abs(a.result.requests.average - rps) ? b : a)).result;
        rows.push({
          server: s.name as TelemetryRow['server'],
          connections,
          requestsPerSecond: Math.round(rps),
          shareOfNode: median(results.map((r) => r.share)),
          p50Ms: mid.latency.p50,
          p99Ms: mid.latency.p99,
          errors: results.reduce((n, r) => n + r.result.errors + r.result.non2xx + r.result.timeouts, 0),
        });
      }
    }
    const received = (await (await fetch(`http://127.0.0.1:${SINK_PORT}/stats`)).json()) as TelemetryResult['sink'];
    const nsPerRead = seamNs();
    const dropAll = { export: (_: unknown, done: (r: { code: number }) => void) => done({ code: 0 }), shutdown: async () => {}, forceFlush: async () => {} };
    const events = {
      off: await eventsUs(undefined),
      spansAndMetrics: await eventsUs({ spanExporter: dropAll, metricExporter: dropAll as never, metricIntervalMs: 60_000 }),
      exported: await eventsUs({ endpoint: `http://127.0.0.1:${SINK_PORT}`, metrics: false }),
    };
    const offAtOne = rows.find((r) => r.server === 'off' && r.connections === 1)!;
    const requestUs = 1e6 / offAtOne.requestsPerSecond;
    return {
      rows,
      costOfOn: CONCURRENCY.map((connections) => ({ connections, cost: median(costs.get(connections)!) })),
      sink: received,
      seam: { readsPerRequest: 2, nsPerRead, requestUs, shareOfRequest: (2 * nsPerRead) / (requestUs * 1000) },
      events,
    };
  } finally {
    await Promise.all(children.map(stop));
  }
}

export function telemetryTables(r: TelemetryResult): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = ['| telemetry | connections | req/s | % of bare node (paired) | p50 ms | p99 ms | errors |', '|---|---:|---:|---:|---:|---:|---:|'];
  for (const row of r.rows) lines.push(`| ${row.server} | ${row.connections} | ${row.requestsPerSecond} | ${pct(row.shareOfNode)} | ${row.p50Ms} | ${row.p99Ms} | ${row.errors} |`);
  lines.push('', '| cost of telemetry on (against off, paired) | connections | cost |', '|---|---:|---:|');
  for (const c of r.costOfOn) lines.push(`| exporting to a local OTLP sink | ${c.connections} | ${pct(c.cost)} |`);
  const { seam, sink } = r;
  lines.push(
    '',
    `off: ${seam.readsPerRequest} hasSubscribers reads per request, ${seam.nsPerRead.toFixed(2)} ns each, against ${seam.requestUs.toFixed(1)} us per request at 1 connection: ${(seam.shareOfRequest * 100).toFixed(4)}% of a request`,
    `on, the events of one request alone (no HTTP, no guest): ${r.events.off.toFixed(2)} us with telemetry off, ${r.events.spansAndMetrics.toFixed(1)} us making its 2 spans and 3 measurements, ${r.events.exported.toFixed(1)} us with the spans exported over OTLP/HTTP`,
    `sink: ${sink.spans} spans in ${sink.exports} trace exports, ${sink.metricExports} metric exports`,
  );
  return lines.join('\n');
}

// Run alone: node bench/telemetry.ts
if (import.meta.main) {
  const result = await telemetryBench((line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${telemetryTables(result)}\n\n${JSON.stringify(result, null, 2)}\n`);
}
