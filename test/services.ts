/**
 * Real servers for the production backends' tests: NATS with JetStream, PostgreSQL and an OCI
 * registry. A test suite asks for one with `service(...)`: on a machine without it the suite is
 * skipped with a printed reason, and under `WASMHOST_REQUIRE_SERVICES=1` (CI) a missing server
 * fails the run instead.
 */
import { connect } from 'node:net';

export const NATS_URL = process.env.WASMHOST_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
export const POSTGRES_URL = process.env.WASMHOST_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const servicesRequired = process.env.WASMHOST_REQUIRE_SERVICES === '1';

/** Resolves true when something accepts TCP connections at host:port within `timeoutMs`. */
export function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The `skip` option for a test or suite that needs the server at `url`: false when it is up;
 * a reason when it is down (printed by node:test). Throws instead under WASMHOST_REQUIRE_SERVICES=1.
 */
export async function service(name: string, url: string): Promise<false | string> {
  const { hostname, port } = new URL(url);
  if (await reachable(hostname, Number(port))) return false;
  const why = `${name} is not reachable at ${url}`;
  if (servicesRequired) throw new Error(`${why}, and WASMHOST_REQUIRE_SERVICES=1 requires it`);
  console.log(`# skipped: ${why}`);
  return why;
}
