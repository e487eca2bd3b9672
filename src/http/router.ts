/**
 * Which workload serves a request. The dev router sends everything to the most recently started
 * workload (what `up`, `serve` and `dev` want); the host router matches the Host header (port
 * ignored) against each workload's `host` and `host-aliases`, then the longest `path` prefix.
 */
import type { IncomingMessage } from 'node:http';
import { UsageError } from '../errors.ts';
import { normalizeHost } from './route-config.ts';
import type { WorkloadRoute } from './route.ts';

/** A route, or the status to answer with: 400 (no Host header) or 404 (nothing matches). */
export type RouteMatch = WorkloadRoute | 400 | 404;

export interface Router {
  readonly name: string;
  /** Registers a workload's route; throws when it conflicts with one already registered. */
  add(route: WorkloadRoute): void;
  remove(workloadId: string): void;
  match(req: IncomingMessage): RouteMatch;
  /** Where each route is reachable, for printing (`http://localhost:8000/api`). */
  describe(route: WorkloadRoute, baseUrl: URL): string[];
  /** The routes it holds now. */
  routes(): WorkloadRoute[];
}

export class DevRouter implements Router {
  readonly name = 'dev';
  readonly #routes: WorkloadRoute[] = [];

  add(route: WorkloadRoute): void {
    this.#routes.push(route);
  }

  remove(workloadId: string): void {
    const i = this.#routes.findIndex((r) => r.workloadId === workloadId);
    if (i !== -1) this.#routes.splice(i, 1);
  }

  match(): RouteMatch {
    return this.#routes.at(-1) ?? 404;
  }

  routes(): WorkloadRoute[] {
    return [...this.#routes];
  }

  describe(_route: WorkloadRoute, baseUrl: URL): string[] {
    return [baseUrl.href];
  }
}

export class HostRouter implements Router {
  readonly name = 'host';
  /** Host name -> routes on it, longest path prefix first. */
  readonly #byHost = new Map<string, WorkloadRoute[]>();

  add(route: WorkloadRoute): void {
    const { host, aliases, pathPrefix } = route.config;
    if (!host) {
      throw new UsageError(`workload ${route.workloadId}: the host router needs a "host" in the config of wasi:http/incoming-handler`, {
        hint: 'add config: { host: "app.example.com" } to the workload\'s wasi:http host interface',
      });
    }
    const names = [...new Set([host, ...aliases])];
    for (const name of names) {
      const taken = this.#byHost.get(name)?.find((r) => r.config.pathPrefix === pathPrefix);
      if (taken) throw new UsageError(`workload ${route.workloadId}: host "${name}" path "${pathPrefix}" is already served by workload ${taken.workloadId}`);
    }
    for (const name of names) {
      const list = this.#byHost.get(name) ?? [];
      list.push(route);
      list.sort((a, b) => b.config.pathPrefix.length - a.config.pathPrefix.length);
      this.#byHost.set(name, list);
    }
  }

  remove(workloadId: string): void {
    for (const [name, list] of this.#byHost) {
      const kept = list.filter((r) => r.workloadId !== workloadId);
      if (kept.length === 0) this.#byHost.delete(name);
      else this.#byHost.set(name, kept);
    }
  }

  routes(): WorkloadRoute[] {
    return [...new Set([...this.#byHost.values()].flat())];
  }

  match(req: IncomingMessage): RouteMatch {
    const header = req.headers.host;
    if (!header) return 400;
    const routes = this.#byHost.get(normalizeHost(header));
    if (!routes) return 404;
    const path = (req.url ?? '/').split('?')[0];
    return routes.find((r) => pathMatches(r.config.pathPrefix, path)) ?? 404;
  }

  describe(route: WorkloadRoute, baseUrl: URL): string[] {
    const { host, aliases, pathPrefix } = route.config;
    return [host!, ...aliases].map((name) => {
      const url = new URL(baseUrl.href);
      url.hostname = name;
      url.pathname = pathPrefix;
      return url.href;
    });
  }
}

function pathMatches(prefix: string, path: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}
