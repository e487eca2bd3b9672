import type { KeyPage } from './backend.ts';

/**
 * One page of `keys` in sorted order, for backends whose cursor is an offset into the sorted
 * key list. Keys added or removed between pages may shift it, which the WIT allows
 * ("MAY show an out-of-date list of keys if there are concurrent writes").
 */
export function pageOf(keys: readonly string[], cursor: number | undefined, limit: number): KeyPage {
  const sorted = keys.toSorted();
  const start = cursor ?? 0;
  const end = start + limit;
  return end < sorted.length ? { keys: sorted.slice(start, end), cursor: end } : { keys: sorted.slice(start) };
}
