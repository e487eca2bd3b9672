/**
 * The host's HTTP server, an ordinary plugin: Node's HTTP/1.1 and HTTP/2 servers on one port
 * (keep-alive; TLS when given a certificate and key, h2c otherwise: h2-incoming.ts) that routes each request to a workload's `wasi:http/incoming-handler`
 * component (the interface it calls), and serves the `wasi:http` imports every component gets
 * (`types`, and `outgoing-handler` bound to its own `allowedHosts`), declared or not, as WASI is.
 * Its state per workload is the workload's route, if it has one; the host never imports it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { pino, type Logger } from 'pino';
import { unversioned } from '../engine/interface-name.ts';
import { UsageError } from '../errors.ts';
import { hostInterfaceConfig } from '../plugin/config.ts';
import { pluginInterface, type Implementations, type Plugin, type PluginComponent, type ResolvedWorkload } from '../plugin/plugin.ts';
import { Gate } from '../host/gate.ts';
import { AllowedHosts } from './allowed-hosts.ts';
import { ConnectionGuard, type ConnectionLimits } from './connections.ts';
import { plainStatus } from './exchange.ts';
import { createListeners } from './h2-incoming.ts';
import { OutgoingHttp } from './outgoing.ts';
import { ROUTE_CONFIG_KEYS, routeConfig } from './route-config.ts';
import { WorkloadRoute } from './route.ts';
import { DevRouter, type Router } from './router.ts';
import { httpTypes } from './types/index.ts';

export const INCOMING_HANDLER = 'wasi:http/incoming-handler';

export interface HttpServerOptions {
  /** Where to listen: `host:port`, `:port` or a port (default `127.0.0.1:8000`; port 0 picks a free one). */
  address?: string;
  /** Default: the dev router (every request to the most recently started workload). */
  router?: Router;
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  logger?: Logger;
  /** Time limit per request unless the workload sets `request-timeout` (default 30 s). */
  requestTimeoutMs?: number;
  /**
   * Outgoing HTTP from components whose `allowedHosts` is empty: denied (the default, for
   * production) or allowed to any host (development; the server logs that it is so).
   */
  allowAnyOutgoingHost?: boolean;
  /** Connections open at once and how long one may stay idle (see connections.ts). */
  connections?: ConnectionLimits;
  /**
   * Requests under way in the whole server (default 1024): more wait up to `queueTimeoutMs`
   * (default 1 s), then get 503 with `Retry-After`. Each route has its own cap too
   * (`max-concurrent-requests`).
   */
  maxRequests?: number;
  queueTimeoutMs?: number;
  /**
   * Listen only when `listen()` is called (a CLI that listens once its workload runs, so that
   * nothing answers on the port before the component is ready); by default the server listens
   * when the host starts it.
   */
  deferListen?: boolean;
}

/** What the server keeps per workload (held by the host): its route, once resolved. */
export interface HttpWorkloadState {
  route?: WorkloadRoute;
}

export const DEFAULT_ADDRESS = '127.0.0.1:8000';
const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_REQUESTS = 1024;
const DEFAULT_QUEUE_TIMEOUT_MS = 1000;
/** How long `stop` waits for requests in flight before cutting their connections. */
const STOP_GRACE_MS = 10_000;

export function parseAddress(address: string): { host: string; port: number } {
  // `8000`, `:8000`, `host:8000`, `[::1]:8000`: the host part, when there is one, ends at the last colon.
  const m = /^(?:(?:\[([^\]]+)\]|([^:[\]]*)):)?(\d+)$/.exec(address.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`invalid address "${address}"`, { hint: 'use host:port, such as 127.0.0.1:8000 or 0.0.0.0:8080' });
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export class HttpServer implements Plugin<HttpWorkloadState> {
  readonly id = 'wasi-http';
  /** Any version: the server implements wasi:http 0.2 for every 0.2.x guest. */
  readonly imports = [pluginInterface('wasi:http/types,outgoing-handler')];
  readonly exports = [pluginInterface(INCOMING_HANDLER)];
  /** Served to every component that imports them, whether or not its workload declares them. */
  readonly servesUndeclared = true;
  readonly router: Router;
  readonly #options: HttpServerOptions;
  readonly #logger: Logger;
  readonly #outgoing = new OutgoingHttp();
  readonly connections: ConnectionGuard;
  readonly #requests: Gate;
  #server: Server | undefined;
  #port = 0;

  constructor(options: HttpServerOptions = {}) {
    this.#options = options;
    this.connections = new ConnectionGuard(options.connections);
    this.#requests = new Gate(options.maxRequests ?? DEFAULT_MAX_REQUESTS);
    this.router = options.router ?? new DevRouter();
    this.#logger = (options.logger ?? pino({ level: 'silent' })).child({ part: 'http' });
    parseAddress(options.address ?? DEFAULT_ADDRESS); // a bad address fails here, not at start
  }

  get port(): number {
    return this.#port;
  }

  /** The base URL clients use (`http://127.0.0.1:8000/`); a wildcard address is shown as localhost. */
  get url(): URL {
    const { host } = parseAddress(this.#options.address ?? DEFAULT_ADDRESS);
    const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
    return new URL(`${this.#options.tls ? 'https' : 'http'}://${shown}:${this.#port}/`);
  }

  /** The host starts it: it listens, unless `deferListen` leaves that to `listen()`. */
  async start(): Promise<void> {
    if (!this.#options.deferListen) await this.listen();
  }

  /** Listens on the address (once; later calls do nothing). */
  async listen(): Promise<void> {
    if (this.#server) return;
    const { host, port } = parseAddress(this.#options.address ?? DEFAULT_ADDRESS);
    const onRequest = (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res);
    const listeners = createListeners(onRequest, this.#options.tls);
    this.connections.attach(listeners);
    const server = listeners.listener;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'the address is in use' : err.message}`, { cause: err });
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
    this.#logger.info({ url: this.url.href, router: this.router.name }, 'HTTP server listening');
    if (this.#options.allowAnyOutgoingHost) {
      this.#logger.info('development mode: components without allowedHosts may send HTTP requests to any host');
    }
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const found = this.router.match(req);
    if (typeof found === 'number') return plainStatus(res, found);
    const admitted = this.#requests.enter(this.#options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS);
    // Admitted at once (the usual case) without a promise turn; else after a bounded wait.
    if (admitted === true) return this.#serve(found, req, res);
    void Promise.resolve(admitted).then((ok) => {
      if (ok) return this.#serve(found, req, res);
      this.#logger.warn({ maxRequests: this.#options.maxRequests ?? DEFAULT_MAX_REQUESTS }, 'request turned away: the server has too many requests under way');
      plainStatus(res, 503, { 'retry-after': '1' });
    });
  }

  #serve(route: WorkloadRoute, req: IncomingMessage, res: ServerResponse): void {
    route
      .serve(req, res)
      .catch((err: unknown) => {
        this.#logger.error({ err }, 'request handling failed');
        if (!res.headersSent) plainStatus(res, 500);
        else res.destroy();
      })
      .finally(() => this.#requests.leave());
  }

  /** Stops accepting connections, lets requests in flight finish (bounded), then closes the rest. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.connections.closeIdle();
    await Promise.all(this.router.routes().map((r) => r.drain(STOP_GRACE_MS)));
    this.connections.closeAll();
    await closed;
    await this.#outgoing.close();
  }

  onWorkloadBind(): HttpWorkloadState {
    return {};
  }

  /** The `wasi:http` imports of one component: the types, and outgoing requests within its `allowedHosts`. */
  onComponentBind(component: PluginComponent): Implementations {
    const allowed = new AllowedHosts(component.allowedHosts, this.#options.allowAnyOutgoingHost);
    return {
      'wasi:http/types': httpTypes,
      'wasi:http/outgoing-handler': this.#outgoing.handlerFor(allowed, component.logger),
    };
  }

  async onWorkloadResolved(workload: ResolvedWorkload, state: HttpWorkloadState): Promise<void> {
    const entry = httpEntry(workload);
    if (!entry) return;
    const config = routeConfig(
      hostInterfaceConfig('wasi:http', workload.interfaces, { namespace: 'wasi', package: 'http' }, ROUTE_CONFIG_KEYS),
      this.#options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      `workload ${workload.id}`,
    );
    const route = new WorkloadRoute(workload, entry, config, this.#options.tls ? 'https' : 'http', this.#logger);
    this.router.add(route);
    state.route = route;
    // Before the server listens (a CLI that listens once its workload runs) there is no port to show yet.
    this.#logger.info({ workloadId: workload.id, component: entry, urls: this.#server ? this.urls(workload.id) : undefined }, 'serving HTTP');
  }

  async onWorkloadUnbind(_workload: unknown, state: HttpWorkloadState): Promise<void> {
    const { route } = state;
    if (!route) return;
    state.route = undefined;
    await route.drain(route.config.timeoutMs);
    this.router.remove(route.workloadId);
  }

  /** Where a workload is reachable (empty when it serves no HTTP). */
  urls(workloadId: string): string[] {
    const route = this.router.routes().find((r) => r.workloadId === workloadId);
    return route ? this.router.describe(route, this.url) : [];
  }
}

/**
 * The component that receives a workload's requests: the one exporting incoming-handler whose
 * export no other component of the workload consumes (a middleware chain has one outer end).
 * More than one candidate is an error: requests must not land on a component by chance.
 */
export function httpEntry(workload: ResolvedWorkload): string | undefined {
  const exports = (c: PluginComponent) => c.exports.some((e) => unversioned(e) === INCOMING_HANDLER);
  const exporters = workload.components.filter(exports);
  const declared = workload.interfaces.some((i) => i.namespace === 'wasi' && i.package === 'http' && i.interfaces.includes('incoming-handler'));
  if (exporters.length === 0) {
    if (declared) throw new UsageError(`workload ${workload.id} declares ${INCOMING_HANDLER} but no component exports it`);
    return undefined;
  }
  const consumed = (c: PluginComponent) =>
    workload.components.some((other) => other !== c && other.imports.some((i) => unversioned(i) === INCOMING_HANDLER));
  const outer = exporters.length === 1 ? exporters : exporters.filter((c) => !consumed(c));
  if (outer.length !== 1) {
    const names = (outer.length ? outer : exporters).map((c) => `"${c.name}"`).join(', ');
    throw new UsageError(`workload ${workload.id}: more than one component exports ${INCOMING_HANDLER} (${names}); which one serves requests is ambiguous`, {
      hint: 'keep one HTTP entry component per workload, or have one import the other\'s incoming-handler',
    });
  }
  return outer[0].name;
}
