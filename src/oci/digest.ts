/** Content digests (`sha256:<hex>`), computed whole or as bytes stream past. */
import { createHash, type Hash } from 'node:crypto';

export function digestOf(bytes: Uint8Array, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** The algorithm of a digest the caller has already checked (`sha256` or `sha512`). */
export function algorithmOf(digest: string): string {
  return digest.slice(0, digest.indexOf(':'));
}

/** Hashes a stream chunk by chunk with the algorithm of the digest it should match. */
export class DigestVerifier {
  readonly #hash: Hash;
  readonly #algorithm: string;
  constructor(expected: string) {
    this.#algorithm = algorithmOf(expected);
    this.#hash = createHash(this.#algorithm);
  }
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }
  digest(): string {
    return `${this.#algorithm}:${this.#hash.digest('hex')}`;
  }
}
