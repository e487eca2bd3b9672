/**
 * What the host needs of an HTTP handler (DESIGN.md: the host declares the interfaces it needs
 * and receives implementations; it never imports `http`). The real handler serves
 * `wasi:http/incoming-handler` and carries outgoing requests; until one is given, the host uses
 * `NoHttpHandler`, which serves nothing.
 */
import type { WorldItem } from '../engine/world.ts';
import type { Implementations, PluginComponent, ResolvedWorkload } from '../plugin/plugin.ts';

export interface HttpHandler {
  /** The port it listens on; 0 when it serves nothing. */
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Whether it serves this import of a component (`wasi:http/outgoing-handler`, `types`). */
  serves(item: WorldItem): boolean;
  /** The implementations of the `wasi:http` imports it serves, for one component. */
  imports(component: PluginComponent): Implementations;
  /** A workload resolved: route to the component that exports `wasi:http/incoming-handler`. */
  onWorkloadResolved(workload: ResolvedWorkload): Promise<void>;
  /** The workload stopped (idempotent). */
  onWorkloadUnbind(workloadId: string): Promise<void>;
}

export class NoHttpHandler implements HttpHandler {
  readonly port = 0;
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  serves(): boolean {
    return false;
  }
  imports(): Implementations {
    return {};
  }
  async onWorkloadResolved(): Promise<void> {}
  async onWorkloadUnbind(): Promise<void> {}
}
