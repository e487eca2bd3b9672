/** `wasi:filesystem/types.error-code`, in WIT order, as jco spells enum cases. */
export const ERROR_CODES = [
  'access',
  'would-block',
  'already',
  'bad-descriptor',
  'busy',
  'deadlock',
  'quota',
  'exist',
  'file-too-large',
  'illegal-byte-sequence',
  'in-progress',
  'interrupted',
  'invalid',
  'io',
  'is-directory',
  'loop',
  'too-many-links',
  'message-size',
  'name-too-long',
  'no-device',
  'no-entry',
  'no-lock',
  'insufficient-memory',
  'insufficient-space',
  'not-directory',
  'not-empty',
  'not-recoverable',
  'unsupported',
  'no-tty',
  'no-such-device',
  'overflow',
  'not-permitted',
  'pipe',
  'read-only',
  'invalid-seek',
  'text-file-busy',
  'cross-device',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Node's errno names to WASI codes (the same table as wasmtime's `from_raw_os_error`, plus the rest of the enum). */
const ERRNO: Readonly<Record<string, ErrorCode>> = {
  EACCES: 'access',
  EAGAIN: 'would-block',
  EWOULDBLOCK: 'would-block',
  EALREADY: 'already',
  EBADF: 'bad-descriptor',
  EBUSY: 'busy',
  EDEADLK: 'deadlock',
  EDQUOT: 'quota',
  EEXIST: 'exist',
  EFBIG: 'file-too-large',
  EILSEQ: 'illegal-byte-sequence',
  EINPROGRESS: 'in-progress',
  EINTR: 'interrupted',
  EINVAL: 'invalid',
  EIO: 'io',
  EISDIR: 'is-directory',
  ELOOP: 'loop',
  EMLINK: 'too-many-links',
  EMSGSIZE: 'message-size',
  ENAMETOOLONG: 'name-too-long',
  ENODEV: 'no-device',
  ENOENT: 'no-entry',
  ENOLCK: 'no-lock',
  ENOMEM: 'insufficient-memory',
  ENOSPC: 'insufficient-space',
  ENOTDIR: 'not-directory',
  ENOTEMPTY: 'not-empty',
  ENOTRECOVERABLE: 'not-recoverable',
  ENOTSUP: 'unsupported',
  EOPNOTSUPP: 'unsupported',
  ENOSYS: 'unsupported',
  ENOTTY: 'no-tty',
  ENXIO: 'no-such-device',
  EOVERFLOW: 'overflow',
  EPERM: 'not-permitted',
  EPIPE: 'pipe',
  EROFS: 'read-only',
  ESPIPE: 'invalid-seek',
  ETXTBSY: 'text-file-busy',
  EXDEV: 'cross-device',
};

const CODES: ReadonlySet<string> = new Set<string>(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && CODES.has(value);
}

/**
 * The WASI code for a Node system error, whose `code` is an errno name (`ENOENT`; a closed
 * `FileHandle` says `EBADF` without an `errno` number), or undefined for anything else (Node's
 * own `ERR_*` codes are bugs of ours, not answers for the guest).
 */
export function errnoToCode(err: unknown): ErrorCode | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return undefined;
  return ERRNO[code] ?? 'io';
}

/**
 * Translates a failure into what the guest sees: a thrown error-code string (jco's convention
 * for `result` errors). A code already thrown by our own checks passes through; anything that
 * is not a system error is a host bug and stays an Error (the glue turns it into a trap).
 */
export function toGuestError(err: unknown): unknown {
  if (isErrorCode(err)) return err;
  return errnoToCode(err) ?? err;
}

/** Runs `op`, rethrowing system errors as error-code strings. */
export async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw toGuestError(err);
  }
}

/**
 * A stream failure that remembers its WASI code: `wasi:io`'s stream turns it into an `IoError`
 * whose `code` `filesystem-error-code` reports.
 */
export class FileStreamError extends Error {
  readonly wasiCode: ErrorCode;
  constructor(wasiCode: ErrorCode, options?: { cause?: unknown }) {
    super(`file stream failed: ${wasiCode}`, options);
    this.wasiCode = wasiCode;
  }
}

/** Wraps a system error for a stream; host bugs stay as they are. */
export function toStreamError(err: unknown): unknown {
  const code = isErrorCode(err) ? err : errnoToCode(err);
  return code ? new FileStreamError(code, { cause: err }) : err;
}
