import { UsageError } from '../errors.ts';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, kb: 2 ** 10, kib: 2 ** 10, m: 2 ** 20, mb: 2 ** 20, mib: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, gib: 2 ** 30 };

/**
 * `--max-memory 64MiB`: bytes. Units are binary whichever way they are spelled (K, KB, KiB...),
 * as wasmtime reads them. By hand: the registry's size parsers reject the IEC spellings.
 */
export function parseSize(value: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`${flag} ${value}: expected a size such as 64MiB, 512K or 1GiB`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes < 65536) throw new UsageError(`${flag} ${value}: at least one 64 KiB page is needed`);
  return bytes;
}

/**
 * `--max-guest-memory 64MiB`: the memory limit of each instance whose component sets none (its
 * manifest's `memoryLimitMb`), as wash-runtime's flag of that name; the host's default is 256 MiB.
 */
export function guestMemoryLimit(value: string | undefined): { memoryLimitMb: number } | undefined {
  return value === undefined ? undefined : { memoryLimitMb: Math.ceil(parseSize(value, '--max-guest-memory') / 2 ** 20) };
}
