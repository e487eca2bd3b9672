// Shared setup for host tests: one engine per process, a logger whose entries a test can read,
// and workload builders over the fixtures.
import { pino, type Logger } from 'pino';
import { Engine } from '../../src/engine/engine.ts';
import { HostBuilder, type Host } from '../../src/host/host.ts';
import type { Plugin } from '../../src/plugin/plugin.ts';
import type { ComponentInput, WorkloadInput } from '../../src/workload/types.ts';
import { fixturePath } from '../fixtures/index.ts';

export const engine = new Engine();

export interface LogEntry {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger whose entries land in `entries`, parsed. */
export function memoryLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void entries.push(JSON.parse(line)) });
  return { logger, entries };
}

export async function startedHost(...plugins: Plugin[]): Promise<{ host: Host; entries: LogEntry[] }> {
  const { logger, entries } = memoryLogger();
  const builder = new HostBuilder().withEngine(engine).withLogger(logger).withGuestOutput('log').withStopTimeout(300);
  for (const p of plugins) builder.withPlugin(p);
  const host = builder.build();
  await host.start();
  return { host, entries };
}

/** A component entry of a workload, from a fixture. */
export function component(name: string, fixture: string, extra: Partial<Omit<ComponentInput, 'name' | 'file' | 'bytes' | 'image'>> = {}): ComponentInput {
  return { name, file: fixturePath(fixture), ...extra };
}

export function workload(components: ComponentInput[], extra: Partial<WorkloadInput> = {}): WorkloadInput {
  return { namespace: 'test', name: 'app', witWorld: { components, hostInterfaces: [] }, ...extra };
}

/** Polls `check` until it returns a value (not undefined) or `ms` pass. */
export async function eventually<T>(check: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
