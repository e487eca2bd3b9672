import ms from 'ms';

/**
 * Milliseconds in a duration such as `500ms`, `30s`, `2m`, proto3's `1.5s`, or a bare number of
 * milliseconds; undefined when the text is none of these or not positive.
 */
export function durationMs(text: string): number | undefined {
  const trimmed = text.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : (ms as (s: string) => number | undefined)(trimmed);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

export const DURATION_HINT = 'use a number with a unit, such as 500ms, 30s or 2m';
