/**
 * Tenants under attack: a neighbour workload (the Rust hello) under load next to a hostile guest
 * of the same host (bench/fairness-host.ts), and its throughput while each attack runs
 * (bench/fairness-attack.ts: spin, stream, grow, flood) as a share of its own throughput
 * without the attack, measured next to it (the order alternates by round); a figure is the median
 * of FAIRNESS_ROUNDS rounds (default 3) of FAIRNESS_SECONDS (default 3) at 10 connections
 * (FAIRNESS_ATTACKS and FAIRNESS_HOSTS, comma-separated, pick some).
 * Two hosts side by side: `fair` as shipped, and `unfair` with time slices and the connection
 * cap switched off (the before column; streaming's byte budget and metered memory fills have no
 * switch, so `stream` and `grow` keep theirs there).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { median } from './stats.ts';
import { stop } from './http.ts';

const SECONDS = Number(process.env.FAIRNESS_SECONDS ?? 3);
const ROUNDS = Number(process.env.FAIRNESS_ROUNDS ?? 3);
const CONNECTIONS = 10;
const ATTACKS = ['spin', 'stream', 'grow', 'flood'] as const;
const MODES = [
  ['fair', 8501],
  ['unfair', 8502],
] as const;
/** FAIRNESS_ATTACKS=spin,grow and FAIRNESS_HOSTS=fair (say) run only those. */
const picked = (variable: string, all: readonly string[]) => process.env[variable]?.split(',') ?? all;

export interface FairnessRow {
  attack: (typeof ATTACKS)[number];
  host: (typeof MODES)[number][0];
  aloneRequestsPerSecond: number;
  duringRequestsPerSecond: number;
  /** The median of the neighbour's throughput during the attack over its throughput alone, round by round. */
  share: number;
  /** Neighbour requests that failed or timed out during the attacks. */
  errors: number;
}

async function startHost(mode: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'fairness-host.ts'), String(port), mode], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  for await (const line of createInterface({ input: child.stdout! })) if (line === 'ready') return child;
  throw new Error(`the ${mode} fairness host exited before it was ready`);
}

function attacker(port: number, attack: string): ChildProcess {
  return spawn(process.execPath, [join(import.meta.dirname, 'fairness-attack.ts'), `http://127.0.0.1:${port}/`, attack], { stdio: 'ignore', detached: true });
}

const neighbour = (port: number, seconds: number) =>
  autocannon({ url: `http://127.0.0.1:${port}/`, headers: { host: 'neighbour' }, connections: CONNECTIONS, duration: seconds });

/** Waits until the neighbour answers again (an attack's last request may still hold the loop). */
async function settled(port: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) }).then(
      () => true,
      () => false,
    );
    if (ok) return;
  }
}

export async function fairnessBench(log: (line: string) => void = () => {}): Promise<FairnessRow[]> {
  const rows: FairnessRow[] = [];
  for (const [mode, port] of MODES) {
    if (!picked('FAIRNESS_HOSTS', ['fair', 'unfair']).includes(mode)) continue;
    log(`fairness: starting the ${mode} host`);
    const host = await startHost(mode, port);
    try {
      await neighbour(port, 1); // warm up
      for (const attack of ATTACKS) {
        if (!picked('FAIRNESS_ATTACKS', ATTACKS).includes(attack)) continue;
        const runs: { alone: number; during: number; errors: number }[] = [];
        for (let round = 1; round <= ROUNDS; round++) {
          log(`fairness: ${mode} host, ${attack}, round ${round} of ${ROUNDS}`);
          const measureDuring = async () => {
            const child = attacker(port, attack);
            await new Promise((r) => setTimeout(r, 500)); // the attack under way
            const result = await neighbour(port, SECONDS);
            await stop(child);
            await settled(port);
            return result;
          };
          const alone = round % 2 ? await neighbour(port, SECONDS) : undefined;
          const during = await measureDuring();
          const aloneRun = alone ?? (await neighbour(port, SECONDS));
          runs.push({ alone: aloneRun.requests.average, during: during.requests.average, errors: during.errors + during.non2xx + during.timeouts });
          log(`fairness: ${mode} ${attack}: alone ${Math.round(aloneRun.requests.average)} req/s, during ${Math.round(during.requests.average)} req/s`);
        }
        rows.push({
          attack,
          host: mode,
          aloneRequestsPerSecond: Math.round(median(runs.map((r) => r.alone))),
          duringRequestsPerSecond: Math.round(median(runs.map((r) => r.during))),
          share: median(runs.map((r) => r.during / r.alone)),
          errors: runs.reduce((n, r) => n + r.errors, 0),
        });
      }
    } finally {
      await stop(host);
    }
  }
  return rows;
}

export function fairnessTable(rows: FairnessRow[]): string {
  const lines = ['| attack | host | neighbour alone req/s | during the attack req/s | share (paired, median) | neighbour errors |', '|---|---|---:|---:|---:|---:|'];
  for (const r of rows) {
    lines.push(`| ${r.attack} | ${r.host} | ${r.aloneRequestsPerSecond} | ${r.duringRequestsPerSecond} | ${(r.share * 100).toFixed(0)}% | ${r.errors} |`);
  }
  return lines.join('\n');
}

// `node bench/fairness.ts` runs this benchmark alone.
if (import.meta.main) {
  const rows = await fairnessBench((line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${fairnessTable(rows)}\n`);
}
