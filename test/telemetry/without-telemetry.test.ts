// A host without telemetry never imports OpenTelemetry: `wasmhost serve` runs with a module hook
// that reports every @opentelemetry package resolved, and serves a request; with --otel, the same
// hook sees them (the control).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fixturePath } from '../fixtures/index.ts';

const CLI = resolve(import.meta.dirname, '../../bin/wasmhost.js');
const HOOK = resolve(import.meta.dirname, 'report-otel-imports.ts');

async function serveOnce(extra: string[]): Promise<string[]> {
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_'))), OTEL_EXPORTER_OTLP_TIMEOUT: '300' };
  const child = spawn(process.execPath, ['--import', HOOK, CLI, 'serve', fixturePath('http-hello'), '--addr', '127.0.0.1:0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const first = await new Promise<string>((r) => createInterface({ input: child.stdout }).once('line', r));
    assert.equal(await (await fetch(first.split(' ').at(-1)!)).text(), 'hello');
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr.join('\n'));
    return stderr.filter((l) => l.startsWith('resolved @opentelemetry/'));
  } finally {
    child.kill('SIGKILL');
  }
}

test('without telemetry, serving a request resolves no @opentelemetry package; with --otel it does', async () => {
  assert.deepEqual(await serveOnce([]), []);
  const resolved = await serveOnce(['--otel']);
  assert.ok(resolved.includes('resolved @opentelemetry/sdk-trace'), resolved.join('\n'));
});
