/**
 * `--otel` on `serve`, `up`, `dev` and `host`: OpenTelemetry is on with the flag, or when the
 * standard `OTEL_*` variables ask for it (an endpoint, a service name, an exporter), configured
 * by those variables either way.
 */
import type { Host } from '../host/host.ts';
import { telemetryRequested, type TelemetryOptions } from '../telemetry/options.ts';
import { notice } from './output.ts';

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
