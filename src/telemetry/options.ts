/**
 * How telemetry is configured: the host's option (`HostBuilder.withTelemetry`) and the
 * standard `OTEL_*` variables. Nothing here loads OpenTelemetry (types are erased): a host
 * without telemetry never imports it.
 */
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace';

export interface TelemetryOptions {
  /** `service.name` (default: `OTEL_SERVICE_NAME`, else `wasmhost`). */
  serviceName?: string;
  /**
   * The OTLP/HTTP base URL, `http://collector:4318` (default: `OTEL_EXPORTER_OTLP_ENDPOINT`,
   * else `http://localhost:4318`); traces go to `/v1/traces`, metrics to `/v1/metrics`.
   */
  endpoint?: string;
  /** Export traces (default: unless `OTEL_TRACES_EXPORTER=none`). */
  traces?: boolean;
  /** Export metrics (default: unless `OTEL_METRICS_EXPORTER=none`). */
  metrics?: boolean;
  /** How often metrics are exported (default: `OTEL_METRIC_EXPORT_INTERVAL`, else 60 s). */
  metricIntervalMs?: number;
  /** More resource attributes (over `OTEL_RESOURCE_ATTRIBUTES`). */
  resourceAttributes?: Record<string, string>;
  /** Spans go here instead of OTLP (an OpenTelemetry SDK exporter). */
  spanExporter?: SpanExporter;
  /** Metrics go here instead of OTLP. */
  metricExporter?: PushMetricExporter;
}
