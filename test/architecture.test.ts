/**
 * The dependency rule of DESIGN.md, checked on every run: one folder per part, and a part may
 * import only the parts below it (`host` -> `plugin` -> `wasi` -> `engine`; shared base modules
 * such as errors.ts are open to all, and import no part). The parts on top reach the others only
 * through public faces: the CLI imports nothing but the package's entry points, as an embedder
 * would; `oci` imports no part (it is given the engine's `describeBinary`); `washlet` drives a
 * host through the Host API alone (its messages in `workload`, and the host's types, never its
 * code). Nothing imports `cli`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../src');

/** The package's entry points (package.json `exports`), as paths under src/: the public API. */
const ENTRY_POINTS: string[] = Object.values(JSON.parse(await readFile(resolve(SRC, '../package.json'), 'utf8')).exports as Record<string, string | { default: string }>)
  .flatMap((e) => (typeof e === 'object' ? [e.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')] : []));

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
  // OCI only moves bytes: whether they are a component it asks of the engine's `describeBinary`, which it is given.
  oci: [],
  // The cluster host drives a host as any operator would: the Host API's messages and their wire
  // format (`workload`), and the host's types (TYPES_ONLY) for the host and image fetcher it is given.
  washlet: ['workload'],
  // The CLI is built on the public API: it imports the package's entry points (and base modules), no part.
  cli: [],
};

/** Part -> the parts it may import types from (`import type`), never code. */
const TYPES_ONLY: Record<string, string[]> = {
  washlet: ['host'],
};

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/** `host/host.ts` -> `host`; undefined for a file directly in src/ (an entry point or a base module). */
function partOf(path: string): string | undefined {
  const segments = path.split('/');
  return segments.length > 1 ? segments[0] : undefined;
}

test('source folders import only the parts below them', async () => {
  const violations: string[] = [];
  for await (const file of sourceFiles(SRC)) {
    const source = relative(SRC, file);
    const from = partOf(source);
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)(\s+type\b)?[^'"]*from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g)) {
      const target = relative(SRC, resolve(dirname(file), m[2] ?? m[3]));
      const to = partOf(target);
      if (to === from) continue;
      if (ENTRY_POINTS.includes(target)) {
        // The entry points are for the CLI and embedders; they re-export the parts, so a part importing one could import itself back.
        if (from !== undefined && from !== 'cli') violations.push(`${source} imports the public entry point ${target}`);
        continue;
      }
      if (to === undefined) continue; // a base module: open to all
      if (from === undefined) {
        // An entry point re-exports the parts, but never the CLI; a base module imports no part.
        const entry = ENTRY_POINTS.includes(source);
        if (!entry || to === 'cli') violations.push(`${source} (${entry ? 'an entry point' : 'a base module'}) imports ${target} (${to})`);
        continue;
      }
      const typesOnly = m[1] !== undefined && (TYPES_ONLY[from] ?? []).includes(to);
      if (!typesOnly && !(ALLOWED[from] ?? []).includes(to)) violations.push(`${source} (${from}) imports ${target} (${to})`);
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
