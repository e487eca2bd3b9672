/**
 * The dependency rule of DESIGN.md, checked on every run: one folder per part, and a part may
 * import only the parts below it (`cli` -> ... -> `wasi` -> `engine`; shared base modules
 * such as errors.ts are open to all). Nothing imports `cli`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../src');

/** Part -> the parts it may import. Base modules (files directly in src/) are always allowed. */
const ALLOWED: Record<string, string[]> = {
  engine: [],
  wasi: ['engine'],
  workload: ['engine'],
  plugin: ['workload', 'wasi', 'engine'],
  // A plugin sees only the contract; plugins never import each other (checked below).
  plugins: ['plugin'],
  // Telemetry knows no part: the parts publish diagnostics_channel events, telemetry subscribes.
  telemetry: [],
  host: ['plugin', 'workload', 'wasi', 'engine', 'telemetry'],
  // The HTTP server is a plugin like the others (it also uses the host's Gate); the host never imports it.
  http: ['host', 'plugin', 'wasi', 'engine', 'telemetry'],
  // OCI only moves bytes; it asks the engine whether they are a component.
  oci: ['engine'],
  // The cluster host only drives a host, through the Host API and the workload types, as any operator would.
  washlet: ['host', 'workload'],
  cli: ['washlet', 'oci', 'http', 'host', 'plugins', 'plugin', 'workload', 'wasi', 'engine', 'telemetry'],
};

/** The package's entry points (package.json `exports`): parts never import them. */
const ENTRY_POINTS = ['index.ts', 'engine.ts', 'nats.ts', 'postgres.ts', 'webgpu.ts'];

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

function partOf(file: string): string | undefined {
  const rel = relative(SRC, file).split('/');
  return rel.length > 1 ? rel[0] : undefined;
}

test('source folders import only the parts below them', async () => {
  const violations: string[] = [];
  for await (const file of sourceFiles(SRC)) {
    const from = partOf(file);
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g)) {
      const target = resolve(dirname(file), m[1] ?? m[2]);
      const to = partOf(target);
      if (to === undefined || to === from) continue;
      if (ENTRY_POINTS.includes(relative(SRC, target)) && from !== 'cli') violations.push(`${relative(SRC, file)} imports the public entry point ${relative(SRC, target)}`);
      if (from === undefined) continue; // the entry points re-export every part
      if (!(ALLOWED[from] ?? []).includes(to)) violations.push(`${relative(SRC, file)} (${from}) imports ${relative(SRC, target)} (${to})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('plugins never import each other', async () => {
  const violations: string[] = [];
  for await (const file of sourceFiles(join(SRC, 'plugins'))) {
    const own = relative(join(SRC, 'plugins'), file).split('/')[0];
    // The composition of the built-in plugins (`defaults.ts`) sits beside them, not in one.
    if (own.endsWith('.ts')) continue;
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/from\s+'(\.[^']+)'/g)) {
      const target = relative(join(SRC, 'plugins'), resolve(dirname(file), m[1])).split('/');
      // `shared/` holds what several plugins' backends share (NATS, PostgreSQL, file names): open to all.
      if (!target[0].startsWith('..') && target.length > 1 && target[0] !== own && target[0] !== 'shared') violations.push(`${relative(SRC, file)} imports plugins/${target.join('/')}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the plugin contract imports no client library', async () => {
  const violations: string[] = [];
  for await (const file of sourceFiles(join(SRC, 'plugin'))) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*from\s+'([^'.][^']*)'|import\('([^'.][^']*)'\)/g)) {
      const name = m[1] ?? m[2];
      // Node's own modules and the logger type are part of the contract; a NATS or PostgreSQL client is not.
      if (!name.startsWith('node:') && name !== 'pino') violations.push(`${relative(SRC, file)} imports ${name}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('shared plugin helpers import no plugin', async () => {
  const violations: string[] = [];
  for await (const file of sourceFiles(join(SRC, 'plugins', 'shared'))) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/from\s+'(\.[^']+)'/g)) {
      const target = relative(join(SRC, 'plugins'), resolve(dirname(file), m[1])).split('/');
      if (!target[0].startsWith('..') && target[0] !== 'shared') violations.push(`${relative(SRC, file)} imports plugins/${target.join('/')}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('every part has a rule', async () => {
  const parts = (await readdir(SRC, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual(parts.filter((p) => !(p in ALLOWED)), []);
});
