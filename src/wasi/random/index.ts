import { randomBytes, randomFillSync } from 'node:crypto';
import { LimitExceededError } from '../../errors.ts';

/** The most bytes one call may ask for; a guest asking for gigabytes must not exhaust the host. */
export const MAX_RANDOM_BYTES = 64 * 1024 * 1024;

function bytes(len: bigint): Uint8Array {
  if (len > BigInt(MAX_RANDOM_BYTES)) {
    throw new LimitExceededError('random-bytes', `guest asked for ${len} random bytes (limit ${MAX_RANDOM_BYTES})`);
  }
  return randomBytes(Number(len));
}

function u64(): bigint {
  return randomFillSync(new BigUint64Array(1))[0];
}

/** `wasi:random/*`: from the OS CSPRNG, for the insecure variants too (they may be secure). */
export const randomImports = {
  'wasi:random/random': { getRandomBytes: bytes, getRandomU64: u64 },
  'wasi:random/insecure': { getInsecureRandomBytes: bytes, getInsecureRandomU64: u64 },
  'wasi:random/insecure-seed': { insecureSeed: () => [u64(), u64()] },
};
