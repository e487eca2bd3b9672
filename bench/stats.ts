/** One measured figure; `baseline` is the same operation on the reference path, same run. */
export interface Row {
  bench: string;
  value: number;
  unit: 'ms' | 'us' | 'req/s' | 'MiB' | 'KiB' | 'count';
  baseline?: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Milliseconds one run of `fn` takes. */
export async function timeIt(fn: () => unknown): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

function fmt(n: number | undefined): string {
  if (n === undefined) return '';
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(3);
}

/** A Markdown table, ready for the README. */
export function table(rows: Row[]): string {
  const lines = ['| benchmark | wasmhost | baseline | unit |', '|---|---:|---:|---|'];
  for (const r of rows) lines.push(`| ${r.bench} | ${fmt(r.value)} | ${fmt(r.baseline)} | ${r.unit} |`);
  return lines.join('\n');
}
