import { WasmhostError } from '../../errors.ts';

/** A subject, subscription pattern or queue group name that NATS would refuse. */
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

/**
 * The backend cannot reach its server now: disconnected (its client is reconnecting) or its
 * connection closed. Calls fail at once with this instead of waiting; a later call may succeed.
 */
export class BackendUnavailableError extends WasmhostError {
  override readonly code = 'WASMHOST_MESSAGING_UNAVAILABLE';
}

/** A message bigger than the server accepts (NATS: the server's `max_payload`, 1 MiB by default). */
export class MessageTooLargeError extends WasmhostError {
  override readonly code = 'WASMHOST_MESSAGING_TOO_LARGE';
  readonly size: number;
  readonly limit: number;
  constructor(subject: string, size: number, limit: number) {
    super(`message of ${size} bytes on subject ${JSON.stringify(subject)} exceeds the server's limit of ${limit} bytes`);
    this.size = size;
    this.limit = limit;
  }
}
