/**
 * What can go wrong moving a component to or from a registry. Every error names the reference
 * (and so the registry) it is about; the CLI prints the message and the hint.
 */
import { WasmhostError } from '../errors.ts';

interface OciErrorOptions {
  cause?: unknown;
  hint?: string;
  /** The reference as the user wrote it (or as we normalised it). */
  reference?: string;
}

/** The base of every OCI failure; used as is for a registry that breaks the protocol. */
export class OciError extends WasmhostError {
  override readonly code: string = 'WASMHOST_OCI';
  readonly reference?: string;
  constructor(message: string, options: OciErrorOptions = {}) {
    super(message, options);
    if (options.reference !== undefined) this.reference = options.reference;
  }
}

/** A reference that does not parse (`Foo/bar:tag!`). */
export class OciReferenceError extends OciError {
  override readonly code = 'WASMHOST_OCI_BAD_REFERENCE';
}

/** The registry has no such repository, tag or digest. */
export class OciNotFoundError extends OciError {
  override readonly code = 'WASMHOST_OCI_NOT_FOUND';
}

/** The registry wants credentials, refused the ones given, or denies the operation. */
export class OciAuthError extends OciError {
  override readonly code = 'WASMHOST_OCI_AUTH';
}

/** Content that does not hash to the digest it was asked for (or announced with). */
export class OciDigestMismatchError extends OciError {
  override readonly code = 'WASMHOST_OCI_DIGEST_MISMATCH';
  readonly expected: string;
  readonly actual: string;
  constructor(what: string, expected: string, actual: string, options: OciErrorOptions = {}) {
    super(`${what} does not match its digest: expected ${expected}, got ${actual}`, options);
    this.expected = expected;
    this.actual = actual;
  }
}

/** Bytes that are not a WebAssembly component, refused on push and on pull. */
export class OciNotComponentError extends OciError {
  override readonly code = 'WASMHOST_OCI_NOT_COMPONENT';
}

/** The operation did not finish within its time limit. */
export class OciTimeoutError extends OciError {
  override readonly code = 'WASMHOST_OCI_TIMEOUT';
}

/** Pull policy NEVER and the image is not in the local cache. */
export class OciNotCachedError extends OciError {
  override readonly code = 'WASMHOST_OCI_NOT_CACHED';
}

/** The registry cannot be reached at all (refused, DNS, TLS). */
export class OciUnreachableError extends OciError {
  override readonly code = 'WASMHOST_OCI_UNREACHABLE';
}

/** A manifest or blob larger than the limit (or than it said it was). */
export class OciSizeLimitError extends OciError {
  override readonly code = 'WASMHOST_OCI_TOO_LARGE';
}
