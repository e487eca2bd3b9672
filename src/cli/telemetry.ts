/**
 * `--otel` on `serve`, `up`, `dev` and `host`: OpenTelemetry is on with the flag, or when the
 * standard `OTEL_*` variables ask for it (an endpoint, a service name, an exporter), configured
 * by those variables either way.
 */
import type { Host, TelemetryOptions } from '../index.ts';
import { notice } from './output.ts';

/** The variables whose presence asks for telemetry (any of them switches it on). */
const SWITCHES = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_SERVICE_NAME',
  'OTEL_TRACES_EXPORTER',
  'OTEL_METRICS_EXPORTER',
];

/**
 * Whether the environment asks for telemetry: any of the exporter, endpoint or service-name
 * variables set (an exporter set to `none` does not count), unless `OTEL_SDK_DISABLED=true`.
 * The CLI's choice: the library switches telemetry on only when asked in code.
 */
export function telemetryRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return SWITCHES.some((name) => {
    const value = env[name]?.trim();
    return !!value && !(name.endsWith('_EXPORTER') && value.toLowerCase() === 'none');
  });
}

/** `.option(...OTEL_FLAG)`: the flag and its help. */
export const OTEL_FLAG = ['--otel', 'export traces and metrics with OpenTelemetry over OTLP/HTTP (the OTEL_* variables configure it, and switch it on too)'] as const;

/** The host's telemetry option: on with `--otel` or the environment, else undefined. */
export function telemetryOption(otel: boolean | undefined): TelemetryOptions | undefined {
  return otel || telemetryRequested() ? {} : undefined;
}

/** The note saying where telemetry goes, when it is on (none when it is off). */
export function telemetryNotices(host: Host): string[] {
  return host.telemetry ? [`OpenTelemetry on: ${host.telemetry.destination}`] : [];
}

/** One line on stderr saying where telemetry goes, when it is on. */
export function noteTelemetry(host: Host): void {
  for (const text of telemetryNotices(host)) notice(text);
}
