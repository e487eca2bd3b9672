/**
 * The host of the fairness benchmark (bench/fairness.ts), in a process of its own: a neighbour
 * (the Rust hello, Host `neighbour`) and a hostile guest (hostile-http, Host `hostile`, 5 s
 * request timeout, the default memory limit) on one listener. `node bench/fairness-host.ts
 * <port> fair|unfair`: `unfair` switches off what this benchmark measures that can be switched
 * off (time slices, the connection cap and idle timeout), for the before column. Prints `ready`.
 */
import { pino } from 'pino';
import { Engine } from '../src/engine/engine.ts';
import { HostBuilder } from '../src/host/host.ts';
import { HttpServer } from '../src/http/server.ts';
import { HostRouter } from '../src/http/router.ts';
import { fixturePath } from '../test/fixtures/index.ts';

const [port, mode] = process.argv.slice(2);
const fair = mode === 'fair';
const http = new HttpServer({
  address: `127.0.0.1:${port}`,
  router: new HostRouter(),
  ...(fair ? {} : { connections: { maxConnections: Infinity, idleTimeoutMs: 0 }, maxRequests: Infinity }),
});
const host = new HostBuilder()
  .withEngine(new Engine())
  .withLogger(pino({ level: 'silent' }))
  .withHttpHandler(http)
  .withGuestOutput('ignore')
  .withLimits(fair ? {} : { timeSliceMs: 0 })
  .build();
await host.start();
const httpInterface = (config: Record<string, string>) => ({ namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], version: '0.2.12', config });
for (const [name, fixture, config] of [
  ['neighbour', 'rust-http-hello', { host: 'neighbour' }],
  ['hostile', 'hostile-http', { host: 'hostile', 'request-timeout': '5s' }],
] as const) {
  const { workloadStatus } = await host.workloadStart({
    workloadId: name,
    workload: { namespace: 'bench', name, witWorld: { components: [{ name, file: fixturePath(fixture) }], hostInterfaces: [httpInterface(config)] } },
  });
  if (workloadStatus.workloadState !== 'WORKLOAD_STATE_RUNNING') throw new Error(`${name}: ${workloadStatus.message}`);
}
process.on('SIGTERM', () => void host.stop().then(() => process.exit(0)));
console.log('ready');
