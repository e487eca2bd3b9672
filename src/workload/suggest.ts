/** "Did you mean" for misspelt field names. */

/** The known field a typo most likely meant: same but for case or separators, up to two edits, or a shortened name. */
export function closest(key: string, known: string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.floor(key.length / 3)) + 1;
  for (const name of known) {
    const d = norm(key) === norm(name) ? 0 : editDistance(key, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  // `restarts` for `maxRestarts`, `mounts` for `volumeMounts`: the tail of exactly one name.
  const shortened = known.filter((name) => key.length >= 4 && norm(name).endsWith(norm(key)));
  return best ?? (shortened.length === 1 ? shortened[0] : undefined);
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}
