/**
 * `allowedHosts`: where a component's outgoing HTTP may go. An entry is a host name or IP
 * (`api.example.com`, `10.0.0.7`, `[::1]`), optionally with a port (`:8080`; without one any port
 * is allowed); `*.example.com` matches subdomains only, never `example.com` itself; `*` alone
 * allows every host. An empty list allows nothing, unless the host runs in development mode.
 */

interface HostPattern {
  /** Lowercase host; for `*.example.com`, the suffix `.example.com`. */
  host: string;
  wildcard: boolean;
  any: boolean;
  port: number | undefined;
}

export function parseHostPattern(entry: string): HostPattern {
  let text = entry.trim().toLowerCase();
  if (text === '*') return { host: '', wildcard: false, any: true, port: undefined };
  let port: number | undefined;
  const portMatch = /^(.*[^:]):(\d{1,5})$/.exec(text);
  if (portMatch && (text.startsWith('[') ? portMatch[1].endsWith(']') : !portMatch[1].includes(':'))) {
    text = portMatch[1];
    port = Number(portMatch[2]);
  }
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const wildcard = text.startsWith('*.');
  return { host: wildcard ? text.slice(1) : text, wildcard, any: false, port };
}

export class AllowedHosts {
  readonly #patterns: HostPattern[];
  /** True when the list is empty and unlisted hosts are allowed (development mode). */
  readonly #allowAll: boolean;

  constructor(entries: readonly string[], allowWhenEmpty = false) {
    this.#patterns = entries.map(parseHostPattern);
    this.#allowAll = entries.length === 0 && allowWhenEmpty;
  }

  /** `host` as in a URL's hostname (IPv6 with or without brackets), `port` the effective port. */
  allows(host: string, port: number): boolean {
    if (this.#allowAll) return true;
    const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
    return this.#patterns.some(
      (p) => p.any || ((p.port === undefined || p.port === port) && (p.wildcard ? h.endsWith(p.host) && h.length > p.host.length : h === p.host)),
    );
  }
}
