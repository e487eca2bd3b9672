/** `wasi:io/error.error`: an opaque error whose only method is a debug string. */
export class IoError {
  readonly #message: string;
  /** Set by filesystem/socket code so `filesystem-error-code` can answer for it. */
  readonly code: string | undefined;

  constructor(message: string, code?: string) {
    this.#message = message;
    this.code = code;
  }

  toDebugString(): string {
    return this.#message;
  }
}
