/**
 * What a workload says about its HTTP route, in the `config` of its `wasi:http/incoming-handler`
 * host interface (the reference's `host` key, plus the ones its users asked for):
 *   host                     the Host header the host router matches (port ignored)
 *   host-aliases             more host names, comma separated
 *   path                     a path prefix (`/api` matches `/api` and `/api/...`, not `/apix`)
 *   request-timeout          how long a request may take (`30s`, `500ms`, `2m`); then 504
 *   max-concurrent-requests  requests handled at once (default 256); more wait up to `queue-timeout`, then 503
 *   queue-timeout            how long a request waits for a slot (default 1s)
 */
import { parseDuration, timerMs } from '../duration.ts';
import { UsageError } from '../errors.ts';
import { listSetting } from '../plugin/config.ts';

export interface RouteConfig {
  host: string | undefined;
  aliases: string[];
  pathPrefix: string;
  timeoutMs: number;
  maxConcurrency: number;
  queueTimeoutMs: number;
}

export const ROUTE_CONFIG_KEYS = ['host', 'host-aliases', 'path', 'request-timeout', 'max-concurrent-requests', 'queue-timeout'] as const;

const DEFAULT_QUEUE_TIMEOUT_MS = 1000;
/** Requests one component handles at once unless its workload says otherwise (the host's instance cap per component). */
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 256;

export function normalizeHost(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return (colon === -1 ? h : h.slice(0, colon)).replace(/\.$/, '');
}

/** The route settings from the workload's `wasi:http` interface config (unknown keys already refused). */
export function routeConfig(config: Readonly<Record<string, string>>, defaultTimeoutMs: number, where: string): RouteConfig {
  let pathPrefix = config.path?.trim() ?? '/';
  if (!pathPrefix.startsWith('/')) throw new UsageError(`${where}: path "${pathPrefix}" must start with /`);
  if (pathPrefix.length > 1) pathPrefix = pathPrefix.replace(/\/+$/, '');
  const max = config['max-concurrent-requests'];
  if (max !== undefined && !/^[1-9]\d*$/.test(max.trim())) throw new UsageError(`${where}: max-concurrent-requests "${max}" must be a positive integer`);
  return {
    host: config.host ? normalizeHost(config.host) : undefined,
    aliases: listSetting(config['host-aliases'] ?? '').map(normalizeHost),
    pathPrefix,
    timeoutMs: config['request-timeout'] ? parseDuration(config['request-timeout'], `${where}: request-timeout`) : timerMs(defaultTimeoutMs),
    maxConcurrency: max === undefined ? DEFAULT_MAX_CONCURRENT_REQUESTS : Number(max),
    queueTimeoutMs: config['queue-timeout'] ? parseDuration(config['queue-timeout'], `${where}: queue-timeout`) : DEFAULT_QUEUE_TIMEOUT_MS,
  };
}
