/**
 * Which protocol an outgoing request speaks, and the undici agents that carry it. undici does the
 * HTTP/2 itself (sessions over `node:http2`, streamed bodies both ways, response trailers):
 * - `https://`: ALPN offers `h2` first, then `http/1.1`; the server picks.
 * - `http://` with a gRPC content-type: HTTP/2 cleartext with prior knowledge (gRPC has no
 *   HTTP/1.1 form and never upgrades), as wash-runtime's composite outgoing handler does.
 * - any other `http://`: HTTP/1.1, as before (an h2c upgrade would cost every request a round trip).
 * Each agent pools connections per origin: an HTTP/2 session carries many requests at once and
 * is closed once idle for undici's keep-alive time (4 s by default); `close` ends them all.
 */
import { Agent, type Dispatcher } from 'undici';
import type { Fields } from './types/fields.ts';

export type OutgoingProtocol = 'auto' | 'h2c';

/** gRPC's content types: `application/grpc`, `application/grpc+proto`, `application/grpc-web`... */
export function isGrpc(headers: Fields): boolean {
  const type = headers.first('content-type');
  return type !== undefined && type.trim().toLowerCase().startsWith('application/grpc');
}

/** HTTP/2 with prior knowledge for gRPC over `http://`; otherwise what the scheme negotiates. */
export function protocolFor(scheme: 'HTTP' | 'HTTPS', headers: Fields): OutgoingProtocol {
  return scheme === 'HTTP' && isGrpc(headers) ? 'h2c' : 'auto';
}

/** The agents the host's components share, one per protocol and distinct connect timeout. */
export class OutgoingAgents {
  readonly #agents = new Map<string, Agent>();

  get(protocol: OutgoingProtocol, connectTimeoutMs: number | undefined): Dispatcher {
    const key = `${protocol}:${connectTimeoutMs ?? ''}`;
    let agent = this.#agents.get(key);
    if (!agent) {
      const connect = { ...(connectTimeoutMs === undefined ? {} : { timeout: connectTimeoutMs }), preferH2: true };
      // `useH2c` at the top level: the Pool under the Agent builds the connector from it (its
      // types list it only under `h2Options`, which the Pool does not read).
      const h2c = { useH2c: true } as Agent.Options;
      agent = new Agent({ connect, allowH2: true, ...(protocol === 'h2c' ? h2c : {}) });
      this.#agents.set(key, agent);
    }
    return agent;
  }

  async close(): Promise<void> {
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.all(agents.map((a) => a.close()));
  }
}
