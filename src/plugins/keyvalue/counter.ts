import { KeyValueError } from './backend.ts';

const U64_MAX = 2n ** 64n - 1n;
const DECIMAL = /^\s*(\d{1,20})\s*$/;

/**
 * The next value of a counter stored as decimal ASCII text (what wasmCloud's filesystem and NATS
 * stores write): a missing key counts as 0; a value that is not such a number, or a sum past
 * u64, fails rather than being silently reset or wrapped.
 */
export function nextCounterValue(key: string, current: Uint8Array | undefined, delta: bigint): { value: bigint; bytes: Uint8Array } {
  let base = 0n;
  if (current !== undefined) {
    const match = DECIMAL.exec(Buffer.from(current).toString('latin1'));
    if (!match || BigInt(match[1]) > U64_MAX) {
      throw new KeyValueError('other', `cannot increment key ${JSON.stringify(key)}: its value is not a decimal u64`);
    }
    base = BigInt(match[1]);
  }
  const value = base + delta;
  if (value > U64_MAX) {
    throw new KeyValueError('other', `cannot increment key ${JSON.stringify(key)} by ${delta}: the result exceeds u64`);
  }
  return { value, bytes: Buffer.from(value.toString(), 'latin1') };
}
