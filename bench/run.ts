/**
 * `npm run bench`: runs every benchmark, prints a Markdown table and writes JSON to
 * bench/results/<timestamp>.json with the machine it ran on.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem, platform, arch, release } from 'node:os';
import { join } from 'node:path';
import { engineBench } from './engine.ts';
import { hostBench } from './host.ts';
import { httpBench, httpTables } from './http.ts';
import { telemetryBench, telemetryTables } from './telemetry.ts';
import { fairnessBench, fairnessTable } from './fairness.ts';
import { workersBench, workersTable } from './workers.ts';
import { table } from './stats.ts';

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  os: `${platform()} ${release()} ${arch()}`,
  node: process.version,
};

const rows = [...(await engineBench()), ...(await hostBench())];
const baselineNote =
  'baseline: engine rows, the same core module called directly through V8 (no component glue); host rows, the same components instantiated and linked by hand with the engine alone';
process.stdout.write(`${table(rows)}\n\n${baselineNote}\n\n`);
const http = await httpBench((line) => process.stderr.write(`${line}\n`));
process.stdout.write(`HTTP (autocannon on loopback; baseline: a bare Node http server)\n\n${httpTables(http)}\n\n`);
const fairness = await fairnessBench((line) => process.stderr.write(`${line}\n`));
process.stdout.write(`Tenants under attack (a neighbour at 10 connections next to a hostile guest; its share of its own throughput alone, paired; unfair: time slices and the connection cap off)\n\n${fairnessTable(fairness)}\n\n`);
const workers = await workersBench((line) => process.stderr.write(`${line}\n`));
process.stdout.write(`serve --workers 2 against --workers 1 (paired, median; the load generator shares the cores)\n\n${workersTable(workers)}\n\n`);
const telemetry = await telemetryBench((line) => process.stderr.write(`${line}\n`));
process.stdout.write(`OpenTelemetry on the wat hello, fresh instances (off, on exporting to a local OTLP sink; baseline: a bare Node http server)\n\n${telemetryTables(telemetry)}\n\nmachine: ${JSON.stringify(machine)}\n`);

const dir = join(import.meta.dirname, 'results');
await mkdir(dir, { recursive: true });
const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await writeFile(file, JSON.stringify({ machine, rows, baselineNote, http, fairness, workers, telemetry }, null, 2));
process.stdout.write(`results: ${file}\n`);
