/**
 * Outgoing HTTP for a component instantiated with the engine alone (no host, no `HttpServer`):
 * `wasi:http/types` and `wasi:http/outgoing-handler` on the same undici client the host's
 * components use, to the hosts `allowedHosts` allows (the workload field's syntax; empty: none).
 */
import { pino, type Logger } from 'pino';
import type { ImportObject } from '../engine/component.ts';
import { AllowedHosts } from './allowed-hosts.ts';
import { OutgoingHttp } from './outgoing.ts';
import { httpTypes } from './types/index.ts';

export interface OutgoingHttpOptions {
  /** `api.example.com`, `*.example.com`, `10.0.0.7:8080`, or `*` for any host. */
  allowedHosts: readonly string[];
  /** Where refused requests are logged (warn); default silent. */
  logger?: Logger;
}

export interface OutgoingHttpImports {
  /** To spread into the instance's imports, beside `createWasiImports`. */
  imports: ImportObject;
  /** Closes the client's connections, once the instances using it are done. */
  close(): Promise<void>;
}

export function createOutgoingHttpImports(options: OutgoingHttpOptions): OutgoingHttpImports {
  const outgoing = new OutgoingHttp();
  const handler = outgoing.handlerFor(new AllowedHosts(options.allowedHosts), options.logger ?? pino({ level: 'silent' }));
  return {
    imports: { 'wasi:http/types': httpTypes, 'wasi:http/outgoing-handler': handler },
    close: () => outgoing.close(),
  };
}
