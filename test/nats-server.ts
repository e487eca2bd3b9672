/**
 * A private nats-server with JetStream, for tests that must stop and restart the server (the
 * shared one on 4222 belongs to everyone). `restart()` keeps the port and the store directory,
 * so clients reconnect to the same address and find the data written before.
 *
 * The child is killed when the test process exits, even if a test forgot to `cleanup()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reachable, servicesRequired } from './services.ts';
import { freePort } from './free-port.ts';

export const NATS_SERVER_BINARY = process.env.WASMHOST_TEST_NATS_SERVER ?? '/usr/sbin/nats-server';

export interface NatsServerOptions {
  /** Where JetStream keeps its data; default a new temporary directory, removed by `cleanup()`. */
  storeDir?: string;
}

export interface NatsServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Whether the server process is running. */
  readonly running: boolean;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); the store directory stays. No-op when stopped. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port over the same store directory. */
  restart(): Promise<void>;
  /** Stops the server and removes the store directory if this helper made it. Idempotent. */
  cleanup(): Promise<void>;
}

/**
 * The `skip` option for tests that need a private server: false when the binary exists, else
 * the reason (printed by node:test); throws instead under WASMHOST_REQUIRE_SERVICES=1.
 */
export function natsServerAvailable(): false | string {
  if (existsSync(NATS_SERVER_BINARY)) return false;
  const why = `${NATS_SERVER_BINARY} is not installed`;
  if (servicesRequired) throw new Error(`${why}, and WASMHOST_REQUIRE_SERVICES=1 requires it`);
  return why;
}

const STARTUP_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const ownDir = options.storeDir === undefined;
  const storeDir = options.storeDir ?? (await mkdtemp(join(tmpdir(), 'wasmhost-nats-')));
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const proc = spawn(NATS_SERVER_BINARY, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.add(proc);
    child = proc;
    let log = '';
    proc.stderr!.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    let exitCode: number | null | undefined;
    proc.once('exit', (code) => {
      exitCode = code;
      children.delete(proc);
    });
    proc.once('error', () => {}); // a missing binary also emits 'exit'; the loop below reports it
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    // Ready once JetStream is up, not merely once the port accepts connections.
    while (!/Server is ready/.test(log) || !(await reachable('127.0.0.1', port, 500))) {
      if (exitCode !== undefined) throw new Error(`nats-server on port ${port} exited with ${exitCode} while starting:\n${log}`);
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`nats-server on port ${port} was not ready within ${STARTUP_TIMEOUT_MS} ms:\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get running() {
      return child !== undefined;
    },
    stop,
    async restart() {
      await stop();
      await start();
    },
    async cleanup() {
      await stop();
      if (ownDir) await rm(storeDir, { recursive: true, force: true });
    },
  };
}
