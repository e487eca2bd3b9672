import { WasmhostError } from '../../errors.ts';

/** A subject (or subscription pattern) that NATS would refuse. */
export class InvalidSubjectError extends WasmhostError {
  override readonly code = 'WASMHOST_MESSAGING_INVALID_SUBJECT';
}

/** A request nobody is subscribed to (NATS answers these at once instead of timing out). */
export class NoRespondersError extends WasmhostError {
  override readonly code = 'WASMHOST_MESSAGING_NO_RESPONDERS';
  readonly subject: string;
  constructor(subject: string) {
    super(`no responders for request on subject ${JSON.stringify(subject)}`);
    this.subject = subject;
  }
}

/** A request whose reply did not come in time. */
export class RequestTimeoutError extends WasmhostError {
  override readonly code = 'WASMHOST_MESSAGING_TIMEOUT';
  readonly subject: string;
  readonly timeoutMs: number;
  constructor(subject: string, timeoutMs: number) {
    super(`request on subject ${JSON.stringify(subject)} timed out after ${timeoutMs} ms`);
    this.subject = subject;
    this.timeoutMs = timeoutMs;
  }
}

/** The backend was closed (the plugin stopped, or its owner closed it). */
export class BackendClosedError extends WasmhostError {
  override readonly code = 'WASMHOST_MESSAGING_CLOSED';
}
