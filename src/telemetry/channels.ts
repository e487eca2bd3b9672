/**
 * The one seam between the request path and telemetry: `node:diagnostics_channel` events that
 * `http` and `host` publish, after undici's `lib/core/diagnostics.js`. A publisher first asks
 * `hasSubscribers` (a property read), so with nobody listening an event costs nothing and its
 * message is never built. OpenTelemetry (`sdk.ts`, loaded only when telemetry is switched on)
 * is one subscriber; anyone may subscribe to the same names.
 *
 * Tracing channels (`wasmhost:invocation`, `wasmhost:plugin.call`, `wasmhost:http.outgoing`)
 * follow Node's `TracingChannel` protocol (start, end, asyncStart, asyncEnd, error); the hot
 * paths check `start.hasSubscribers`, so a subscriber switches them on through `start` (a store
 * bound there carries its context through the call, guest suspensions included).
 * `wasmhost:http.request` is a plain channel run with `runStores` around the handling of a
 * request: a subscriber ends its work when the response closes (the body may stream after the
 * guest returned).
 *
 * This file imports nothing but Node: `http` and `host` may import it, and it knows neither.
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An incoming request routed to a workload. */
export interface HttpRequestEvent {
  req: IncomingMessage;
  res: ServerResponse;
  workloadId: string;
  /** The component that exports `wasi:http/incoming-handler`. */
  component: string;
}

/** A call into a component instance from the host (an HTTP handler, a message, a service run). */
export interface InvocationEvent {
  workloadId: string;
  component: string;
  /** The export: `wasi:http/incoming-handler#handle`, `hit`. */
  target: string;
  result?: unknown;
  error?: unknown;
}

/** A guest's call to a function a plugin serves. */
export interface PluginCallEvent {
  pluginId: string;
  /** Unversioned interface: `wasi:keyvalue/store`. */
  interface: string;
  /** The WIT name: `open`, `[method]bucket.get`, `[static]container.list`. */
  function: string;
  /** Empty for a resource's method (its wrapper is shared by every workload): see plugin-calls.ts. */
  workloadId: string;
  component: string;
  /** Set before `end` when the call answered a promise: the call is over at `asyncEnd`. */
  async?: boolean;
  result?: unknown;
  error?: unknown;
}

/** An outgoing HTTP request of a guest (`wasi:http/outgoing-handler`), allowed and about to be sent. */
export interface OutgoingRequestEvent {
  method: string;
  url: URL;
  /** The headers that will be sent: a subscriber may add some (`traceparent`) in `start`. */
  headers: Record<string, string | string[]>;
  /** Settled with the response (its head) or the error. */
  result?: { status(): number };
  error?: unknown;
}

/** A workload's service failed and is being restarted on a fresh instance. */
export interface ServiceRestartEvent {
  workloadId: string;
  restarts: number;
  reason: string;
}

export const httpRequest = channel('wasmhost:http.request');
export const invocation = tracingChannel<unknown, InvocationEvent>('wasmhost:invocation');
export const pluginCall = tracingChannel<unknown, PluginCallEvent>('wasmhost:plugin.call');
export const outgoingRequest = tracingChannel<unknown, OutgoingRequestEvent>('wasmhost:http.outgoing');
export const serviceRestart = channel('wasmhost:service.restart');

let logFields: (() => Record<string, string>) | undefined;

/**
 * A pino `mixin`: `trace_id` and `span_id` of the span the log line is written in, while
 * telemetry is on; nothing otherwise. The host adds it to its logger when telemetry starts.
 * A new object every time: pino merges the line's fields into it.
 */
export function traceLogFields(): Record<string, string> {
  return logFields ? logFields() : {};
}

/** For the telemetry subscriber: where `traceLogFields` reads the current span (undefined: none). */
export function setTraceLogFields(fields: (() => Record<string, string>) | undefined): void {
  logFields = fields;
}
