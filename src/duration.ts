import ms from 'ms';
import { UsageError } from './errors.ts';

/**
 * The longest duration wasmhost accepts: Node's timers hold at most 2^31 - 1 ms (about 24.8
 * days); a longer one fires after 1 ms instead, silently.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * Milliseconds in a duration such as `500ms`, `30s`, `2m`, proto3's `1.5s`, or a bare number of
 * milliseconds; undefined when the text is none of these, not positive, or past `MAX_DURATION_MS`.
 */
export function durationMs(text: string): number | undefined {
  const value = anyDurationMs(text);
  return value !== undefined && value <= MAX_DURATION_MS ? value : undefined;
}

function anyDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : (ms as (s: string) => number | undefined)(trimmed);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** Why a text is not a duration wasmhost takes: it is none, or it is too long. */
export function durationProblem(text: string): string {
  return anyDurationMs(text) === undefined ? 'not a duration' : 'longer than 24 days, the longest Node can time';
}

export const DURATION_HINT = 'use a number with a unit, such as 500ms, 30s or 2m (at most 24 days)';

/** `2s`, `500ms`, `1m`, or a number of milliseconds; else a UsageError naming `what`. */
export function parseDuration(text: string, what: string): number {
  const value = durationMs(text);
  if (value === undefined) throw new UsageError(`${what}: "${text}" is ${durationProblem(text)}`, { hint: DURATION_HINT });
  return value;
}

/** A duration given as a number (the library's options): past Node's timer range it is clamped, not wrapped to 1 ms. */
export function timerMs(ms: number): number {
  return Math.min(ms, MAX_DURATION_MS);
}
