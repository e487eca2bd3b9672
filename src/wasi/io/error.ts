/** `wasi:io/error.error`: an opaque error whose only method is a debug string. */
export class IoError {
  readonly #message: string;
  /** Set by filesystem/socket code so `filesystem-error-code` can answer for it. */
  readonly code: string | undefined;
  /** What failed underneath (a socket error, a body that broke), for interfaces that classify it. */
  readonly cause: unknown;

  constructor(message: string, code?: string, cause?: unknown) {
    this.#message = message;
    this.code = code;
    this.cause = cause;
  }

  toDebugString(): string {
    return this.#message;
  }
}
