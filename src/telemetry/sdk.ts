/**
 * OpenTelemetry for a host: the SDK (traces and metrics exported over OTLP/HTTP, configured by
 * the standard `OTEL_*` variables and the host's options) and the subscriber that turns the
 * events of `channels.ts` into spans and measurements. Loaded with `import()` when a host
 * starts with telemetry: a host without it never imports OpenTelemetry.
 *
 * Spans: a server span per HTTP request (its parent from the request's W3C `traceparent`), an
 * internal span per call into an instance, one per plugin call, and a client span per outgoing
 * request, whose context goes out in its `traceparent`. The current span travels in an
 * `AsyncLocalStorage` bound to the channels (its value follows the guest across JSPI
 * suspensions), not in OpenTelemetry's global context: an embedding program keeps its own
 * global setup, and this one is started and stopped with the host.
 *
 * One SDK per process, whatever the number of hosts that ask for one (the channels are
 * process-wide): the first host's options set it up, the last one to stop shuts it down.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Channel } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { symbols, type Logger } from 'pino';
import {
  createContextKey,
  createNoopMeter,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Meter,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { getNumberFromEnv, getStringFromEnv, getStringListFromEnv, loggingErrorHandler, setGlobalErrorHandler, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import {
  httpRequest,
  invocation,
  outgoingRequest,
  pluginCall,
  serviceRestart,
  setTraceLogFields,
  traceLogFields,
  type HttpRequestEvent,
  type InvocationEvent,
  type OutgoingRequestEvent,
  type PluginCallEvent,
  type ServiceRestartEvent,
} from './channels.ts';
import { UsageError } from '../errors.ts';
import type { TelemetryOptions } from './options.ts';

const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
const SCOPE = 'wasmhost';

/** What a host observes for the gauges: its id and its guest memory now. */
export interface ObservedHost {
  readonly id: string;
  readonly guestMemory: { usedBytes: number; capBytes: number; instances: number };
}

export interface TelemetryHandle {
  /** Where traces and metrics go, for the CLI's one line (`OTLP http://localhost:4318`). */
  readonly destination: string;
  /** Reports this host's instances and guest memory; answers how to stop. */
  observeHost(host: ObservedHost): () => void;
  /** Adds `trace_id`/`span_id` to the lines of this logger (and its children) written within a span; answers how to undo it. */
  correlateLogs(logger: Logger): () => void;
  /** This user is done: the last one flushes and shuts the SDK down. */
  stop(): Promise<void>;
}

let shared: { telemetry: Telemetry; users: number } | undefined;

/** Starts the process's telemetry, or joins the one already running. */
export function startTelemetry(options: TelemetryOptions, logger: Logger): TelemetryHandle {
  if (shared) shared.users++;
  else shared = { telemetry: new Telemetry(options, logger), users: 1 };
  const { telemetry } = shared;
  let stopped = false;
  return {
    destination: telemetry.destination,
    observeHost: (host) => telemetry.observeHost(host),
    correlateLogs,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (!shared || --shared.users > 0) return;
      shared = undefined;
      await telemetry.shutdown();
    },
  };
}

/** The span (and its work) a tracing-channel event started, until it ends. */
interface Open {
  span: Span;
  started: number;
}

const PLUGIN_CALL = createContextKey('wasmhost plugin call');
const INVOCATION = createContextKey('wasmhost invocation');
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
/** Seconds: the semantic conventions' advice for HTTP durations. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

class Telemetry {
  readonly destination: string;
  readonly #store = new AsyncLocalStorage<Context>();
  readonly #propagator = new W3CTraceContextPropagator();
  readonly #tracerProvider: TracerProvider | undefined;
  readonly #meterProvider: MeterProvider | undefined;
  readonly #tracer: Tracer;
  readonly #meter: Meter;
  readonly #open = new WeakMap<object, Open>();
  readonly #hosts = new Set<ObservedHost>();
  readonly #instruments;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(options: TelemetryOptions, logger: Logger) {
    const log = logger.child({ part: 'telemetry' });
    let lastError = 0;
    // Export failures (a collector down) reach OpenTelemetry's error handler: one warning a minute.
    setGlobalErrorHandler((err) => {
      if (Date.now() - lastError < 60_000) return;
      lastError = Date.now();
      log.warn({ err }, 'telemetry export failed');
    });
    if (getStringFromEnv('OTEL_EXPORTER_OTLP_PROTOCOL') === 'grpc') {
      log.warn('OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported: exporting OTLP over HTTP');
    }
    const resource = defaultResource()
      .merge(resourceFromAttributes({ 'service.name': SCOPE, 'service.version': VERSION }))
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(resourceFromAttributes({ ...options.resourceAttributes, ...(options.serviceName ? { 'service.name': options.serviceName } : {}) }));
    const base = options.endpoint?.replace(/\/+$/, '');
    const where: string[] = [];

    const traces = options.traces === false ? undefined : options.spanExporter ? { exporter: options.spanExporter, name: 'the given exporter' } : chosen('OTEL_TRACES_EXPORTER', 'traces', base);
    const spanExporter = traces && (traces.exporter as SpanExporter);
    if (traces) where.push(`traces to ${traces.name}`);
    if (spanExporter) {
      this.#tracerProvider = new TracerProvider({
        resource,
        sampler: sampler(),
        spanProcessors: [
          new BatchSpanProcessor({
            exporter: spanExporter,
            scheduledDelayMillis: getNumberFromEnv('OTEL_BSP_SCHEDULE_DELAY'),
            maxQueueSize: getNumberFromEnv('OTEL_BSP_MAX_QUEUE_SIZE'),
            maxExportBatchSize: getNumberFromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
            exportTimeoutMillis: getNumberFromEnv('OTEL_BSP_EXPORT_TIMEOUT'),
          }),
        ],
      });
    }
    this.#tracer = this.#tracerProvider?.getTracer(SCOPE, VERSION) ?? trace.getTracerProvider().getTracer(SCOPE);

    const metrics = options.metrics === false ? undefined : options.metricExporter ? { exporter: options.metricExporter, name: 'the given exporter' } : chosen('OTEL_METRICS_EXPORTER', 'metrics', base);
    const metricExporter = metrics && (metrics.exporter as PushMetricExporter);
    if (metrics) where.push(`metrics to ${metrics.name}`);
    this.destination = where.join(', ') || 'nothing exported (no traces, no metrics)';
    if (metricExporter) {
      const interval = options.metricIntervalMs ?? getNumberFromEnv('OTEL_METRIC_EXPORT_INTERVAL') ?? 60_000;
      const reader = new PeriodicExportingMetricReader({
        exporter: metricExporter,
        exportIntervalMillis: interval,
        exportTimeoutMillis: Math.min(getNumberFromEnv('OTEL_METRIC_EXPORT_TIMEOUT') ?? 30_000, interval),
      });
      this.#meterProvider = new MeterProvider({ resource, readers: [reader] });
    }
    this.#meter = this.#meterProvider?.getMeter(SCOPE, VERSION) ?? createNoopMeter();
    this.#instruments = this.#makeInstruments();
    this.#subscribe();
    setTraceLogFields(() => this.#logFields());
  }

  #makeInstruments() {
    const m = this.#meter;
    const instruments = {
      requests: m.createCounter('wasmhost.http.server.requests', { description: 'HTTP requests served by workloads', unit: '{request}' }),
      requestDuration: m.createHistogram('http.server.request.duration', {
        description: 'Duration of HTTP requests served by workloads, until the response is sent',
        unit: 's',
        advice: { explicitBucketBoundaries: DURATION_BUCKETS },
      }),
      clientDuration: m.createHistogram('http.client.request.duration', {
        description: "Duration of guests' outgoing HTTP requests, until the response head",
        unit: 's',
        advice: { explicitBucketBoundaries: DURATION_BUCKETS },
      }),
      invocationDuration: m.createHistogram('wasmhost.invocation.duration', {
        description: 'Duration of calls into component instances',
        unit: 's',
        advice: { explicitBucketBoundaries: DURATION_BUCKETS },
      }),
      restarts: m.createCounter('wasmhost.service.restarts', { description: 'Restarts of workload services after a failure', unit: '{restart}' }),
    };
    const instances = m.createObservableGauge('wasmhost.instances', { description: 'Live component instances', unit: '{instance}' });
    const memory = m.createObservableGauge('wasmhost.guest.memory.usage', { description: "Guests' linear memories and tables, all instances", unit: 'By' });
    const limit = m.createObservableGauge('wasmhost.guest.memory.limit', { description: "The host's cap on guest memory", unit: 'By' });
    m.addBatchObservableCallback(
      (result) => {
        for (const host of this.#hosts) {
          const attributes = { 'wasmhost.host.id': host.id };
          const { usedBytes, capBytes, instances: live } = host.guestMemory;
          result.observe(instances, live, attributes);
          result.observe(memory, usedBytes, attributes);
          if (Number.isFinite(capBytes)) result.observe(limit, capBytes, attributes);
        }
      },
      [instances, memory, limit],
    );
    return instruments;
  }

  /** The context to start a span in: the current one, or the root. */
  #current(): Context {
    return this.#store.getStore() ?? ROOT_CONTEXT;
  }

  #subscribe(): void {
    const store = this.#store;
    httpRequest.bindStore(store, (message) => this.#onRequest(message as HttpRequestEvent));
    invocation.start.bindStore(store, (e) => this.#onInvocation(e));
    pluginCall.start.bindStore(store, (e) => this.#onPluginCall(e));
    outgoingRequest.start.bindStore(store, (e) => this.#onOutgoing(e));
    const on = <T>(ch: Channel, f: (event: T) => void) => {
      const listener = (message: unknown) => f(message as T);
      ch.subscribe(listener);
      this.#unsubscribe.push(() => ch.unsubscribe(listener));
    };
    // A call that throws before answering a promise ends at `end`; one that answered one, at `asyncEnd`.
    on(invocation.end, (e: InvocationEvent) => e.error !== undefined && this.#endInvocation(e));
    on(invocation.asyncEnd, (e: InvocationEvent) => this.#endInvocation(e));
    on(pluginCall.end, (e: PluginCallEvent) => !e.async && this.#endPluginCall(e));
    on(pluginCall.asyncEnd, (e: PluginCallEvent) => this.#endPluginCall(e));
    on(outgoingRequest.end, (e: OutgoingRequestEvent) => e.error !== undefined && this.#endOutgoing(e));
    on(outgoingRequest.asyncEnd, (e: OutgoingRequestEvent) => this.#endOutgoing(e));
    on(serviceRestart, (e: ServiceRestartEvent) => this.#instruments.restarts.add(1, { 'wasmhost.workload.id': e.workloadId }));
    this.#unsubscribe.push(() => {
      httpRequest.unbindStore(store);
      invocation.start.unbindStore(store);
      pluginCall.start.unbindStore(store);
      outgoingRequest.start.unbindStore(store);
    });
  }

  #onRequest(e: HttpRequestEvent): Context {
    const { req, res } = e;
    const parent = this.#propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const method = KNOWN_METHODS.has(req.method ?? '') ? req.method! : '_OTHER';
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const attributes: Attributes = {
      'http.request.method': method,
      'url.path': q === -1 ? target : target.slice(0, q),
      'url.scheme': (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
      'network.protocol.version': req.httpVersion,
      'client.address': req.socket.remoteAddress,
      'wasmhost.workload.id': e.workloadId,
      'wasmhost.component': e.component,
    };
    if (q !== -1) attributes['url.query'] = target.slice(q + 1);
    if (req.headers.host) attributes['server.address'] = req.headers.host.replace(/:\d+$/, '');
    if (req.headers['user-agent']) attributes['user_agent.original'] = req.headers['user-agent'];
    const span = this.#tracer.startSpan(method === '_OTHER' ? 'HTTP' : method, { kind: SpanKind.SERVER, attributes }, parent);
    const started = performance.now();
    res.once('close', () => {
      const status = res.statusCode;
      const cut = !res.writableFinished;
      span.setAttribute('http.response.status_code', status);
      const metric: Attributes = { 'http.request.method': method, 'http.response.status_code': status, 'wasmhost.workload.id': e.workloadId };
      if (cut || status >= 500) {
        const type = cut ? 'response_cut' : String(status);
        span.setAttribute('error.type', type);
        span.setStatus({ code: SpanStatusCode.ERROR, message: cut ? 'the response was cut before its end' : undefined });
        metric['error.type'] = type;
      }
      span.end();
      this.#instruments.requests.add(1, metric);
      this.#instruments.requestDuration.record((performance.now() - started) / 1000, metric);
    });
    return trace.setSpan(parent, span);
  }

  #onInvocation(e: InvocationEvent): Context {
    const parent = this.#current();
    const span = this.#tracer.startSpan(
      `call ${e.target}`,
      { kind: SpanKind.INTERNAL, attributes: { 'wasmhost.workload.id': e.workloadId, 'wasmhost.component': e.component, 'wasmhost.function': e.target } },
      parent,
    );
    this.#open.set(e, { span, started: performance.now() });
    return trace.setSpan(parent, span).setValue(INVOCATION, e);
  }

  #endInvocation(e: InvocationEvent): void {
    const open = this.#take(e);
    if (!open) return;
    const failed = e.error !== undefined;
    if (failed) fail(open.span, e.error);
    open.span.end();
    this.#instruments.invocationDuration.record((performance.now() - open.started) / 1000, {
      'wasmhost.workload.id': e.workloadId,
      'wasmhost.component': e.component,
      'wasmhost.function': e.target,
      'wasmhost.outcome': failed ? 'error' : 'ok',
    });
  }

  #onPluginCall(e: PluginCallEvent): Context {
    const parent = this.#current();
    // A plugin calling its own traced methods (atomics' increment calls bucket.increment) is one call.
    if (parent.getValue(PLUGIN_CALL)) return parent;
    const within = parent.getValue(INVOCATION) as InvocationEvent | undefined;
    const span = this.#tracer.startSpan(
      `${e.interface}#${e.function}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'wasmhost.plugin.id': e.pluginId,
          'wasmhost.interface': e.interface,
          'wasmhost.function': e.function,
          'wasmhost.workload.id': e.workloadId || within?.workloadId || '',
          'wasmhost.component': e.component || within?.component || '',
        },
      },
      parent,
    );
    this.#open.set(e, { span, started: 0 });
    return trace.setSpan(parent, span).setValue(PLUGIN_CALL, true);
  }

  #endPluginCall(e: PluginCallEvent): void {
    const open = this.#take(e);
    if (!open) return;
    if (e.error !== undefined) fail(open.span, e.error);
    open.span.end();
  }

  #onOutgoing(e: OutgoingRequestEvent): Context {
    const parent = this.#current();
    const url = new URL(e.url.href);
    url.username = '';
    url.password = '';
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    const method = KNOWN_METHODS.has(e.method) ? e.method : '_OTHER';
    const span = this.#tracer.startSpan(
      method === '_OTHER' ? 'HTTP' : method,
      { kind: SpanKind.CLIENT, attributes: { 'http.request.method': method, 'url.full': url.href, 'server.address': url.hostname, 'server.port': port } },
      parent,
    );
    const context = trace.setSpan(parent, span);
    this.#propagator.inject(context, e.headers, defaultTextMapSetter);
    this.#open.set(e, { span, started: performance.now() });
    return context;
  }

  #endOutgoing(e: OutgoingRequestEvent): void {
    const open = this.#take(e);
    if (!open) return;
    const { span } = open;
    const metric: Attributes = { 'http.request.method': KNOWN_METHODS.has(e.method) ? e.method : '_OTHER', 'server.address': e.url.hostname };
    if (e.error !== undefined) {
      fail(span, e.error);
      metric['error.type'] = errorType(e.error);
    } else if (e.result) {
      const status = e.result.status();
      span.setAttribute('http.response.status_code', status);
      metric['http.response.status_code'] = status;
      if (status >= 400) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute('error.type', String(status));
        metric['error.type'] = String(status);
      }
    }
    span.end();
    this.#instruments.clientDuration.record((performance.now() - open.started) / 1000, metric);
  }

  #take(e: object): Open | undefined {
    const open = this.#open.get(e);
    this.#open.delete(e);
    return open;
  }

  #logFields(): Record<string, string> {
    const span = trace.getSpan(this.#current());
    if (!span) return {};
    const { traceId, spanId, traceFlags } = span.spanContext();
    return { trace_id: traceId, span_id: spanId, trace_flags: `0${traceFlags.toString(16)}`.slice(-2) };
  }

  observeHost(host: ObservedHost): () => void {
    this.#hosts.add(host);
    return () => this.#hosts.delete(host);
  }

  /** Stops listening, then flushes what is buffered and shuts the providers down. */
  async shutdown(): Promise<void> {
    for (const undo of this.#unsubscribe.splice(0)) undo();
    await Promise.allSettled([this.#tracerProvider?.shutdown(), this.#meterProvider?.shutdown()]);
    setTraceLogFields(undefined);
    setGlobalErrorHandler(loggingErrorHandler());
    this.#hosts.clear();
  }
}

/**
 * Puts `traceLogFields` into a pino logger's mixin (through pino's public symbol), beside any
 * mixin it has: its child loggers find it through their prototype, those made before included.
 */
function correlateLogs(logger: Logger): () => void {
  const key = symbols.mixinSym as unknown as keyof Logger;
  const target = logger as unknown as Record<PropertyKey, unknown>;
  const had = Object.hasOwn(target, key);
  const previous = target[key] as ((...args: unknown[]) => object) | undefined;
  target[key] = previous ? (...args: unknown[]) => ({ ...previous(...args), ...traceLogFields() }) : traceLogFields;
  return () => {
    if (had) target[key] = previous;
    else delete target[key];
  };
}

function fail(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setAttribute('error.type', errorType(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : describe(error) });
}

/** A thrown `Error`'s code or class; a WIT error's tag (`HTTP-request-denied`, `no-such-store`). */
function errorType(error: unknown): string {
  if (error instanceof Error) return (error as { code?: string }).code ?? error.name;
  if (error && typeof error === 'object' && 'tag' in error) return String((error as { tag: unknown }).tag);
  return '_OTHER';
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Where OTLP/HTTP sends a signal: the option's base, else the standard variables' choice. */
function otlpUrl(signal: 'traces' | 'metrics', base: string | undefined): string {
  if (base) return `${base}/v1/${signal}`;
  const specific = getStringFromEnv(`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`);
  if (specific) return specific;
  return `${(getStringFromEnv('OTEL_EXPORTER_OTLP_ENDPOINT') ?? 'http://localhost:4318').replace(/\/+$/, '')}/v1/${signal}`;
}

/**
 * The exporter an `OTEL_*_EXPORTER` variable names (default `otlp`; `none` for none). Of a list,
 * the first one wasmhost has (one exporter per signal).
 */
function chosen(variable: string, signal: 'traces' | 'metrics', base: string | undefined): { exporter: SpanExporter | PushMetricExporter; name: string } | undefined {
  const names = getStringListFromEnv(variable) ?? ['otlp'];
  if (names.includes('none')) return undefined;
  const name = names.find((n) => n === 'otlp' || n === 'console');
  if (name === undefined) {
    throw new UsageError(`${variable}=${names.join(',')}: no such exporter in wasmhost`, { hint: `set ${variable} to otlp (OTLP over HTTP), console or none` });
  }
  if (name === 'console') return { exporter: signal === 'traces' ? new ConsoleSpanExporter() : new ConsoleMetricExporter(), name: 'the console' };
  const url = otlpUrl(signal, base);
  // The exporters read the other OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression) themselves.
  return { exporter: signal === 'traces' ? new OTLPTraceExporter({ url }) : new OTLPMetricExporter({ url }), name: url };
}

/** `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`, as the specification defines them. */
function sampler(): Sampler {
  const ratio = () => {
    const arg = getNumberFromEnv('OTEL_TRACES_SAMPLER_ARG');
    return arg === undefined || arg < 0 || arg > 1 ? 1 : arg;
  };
  switch (getStringFromEnv('OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on') {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
