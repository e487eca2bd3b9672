/**
 * What the NATS backends of several plugins share about calling JetStream: a time bound on every
 * call, the state of the connection, and words for failures that a guest may read (never a
 * server address). Types only from the client: nothing here loads it.
 */
import type { NatsConnection, Status } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';

/** JetStream API error codes the backends act on. */
export const JS_STREAM_NAME_IN_USE = 10058;
export const JS_STREAM_NOT_FOUND = 10059;
/** A stream whose subjects overlap: for an object store, one of the same name made a moment ago. */
export const JS_STREAM_SUBJECT_OVERLAP = 10065;
const JS_WRONG_LAST_SEQUENCE = new Set([10071, 10164]);

/** Thrown by `withWatchdog` when the work went quiet for too long. */
export class NatsCallTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`NATS did not answer within ${timeoutMs} ms`);
    this.name = 'NatsCallTimeout';
  }
}

/**
 * The JetStream API error code of `err`, if it is a JetStream API error (checked by shape: the
 * client's classes are not imported here, and other errors, DOMException among them, have
 * numeric codes too).
 */
export function jetStreamCode(err: unknown): number | undefined {
  const candidate = err as { code?: unknown; apiError?: unknown } | null;
  return typeof candidate?.apiError === 'function' && typeof candidate.code === 'number' ? candidate.code : undefined;
}

export function isStreamNotFound(err: unknown): boolean {
  return jetStreamCode(err) === JS_STREAM_NOT_FOUND;
}

/** Whether the server has a stream of that name (`KV_<bucket>`, `OBJ_<store>`). */
export async function streamExists(jsm: JetStreamManager, stream: string): Promise<boolean> {
  try {
    await jsm.streams.info(stream);
    return true;
  } catch (err) {
    if (isStreamNotFound(err)) return false;
    throw err;
  }
}

/** A compare-and-swap publish lost: the subject's last revision is not the one expected. */
export function isWrongLastSequence(err: unknown): boolean {
  return JS_WRONG_LAST_SEQUENCE.has(jetStreamCode(err) ?? 0);
}

/**
 * Nobody answered on the subject: a publish to a subject no stream captures (its store is gone),
 * or JetStream is off. The client names both "jetstream is not enabled".
 */
export function isNoResponders(err: unknown): boolean {
  const name = (err as Error | null)?.name;
  if (name === 'RequestError') return isNoResponders((err as Error).cause);
  return name === 'JetStreamNotEnabled' || name === 'NoResponders';
}

/** The client's own request timeout (alone, or as the cause of a `RequestError`). */
function isClientTimeout(err: unknown): boolean {
  const name = (err as Error | null)?.name;
  if (name === 'RequestError') return isClientTimeout((err as Error).cause);
  return name === 'TimeoutError';
}

/**
 * Runs `work`, failing with `NatsCallTimeout` once `timeoutMs` pass without `work` calling
 * `alive()` (a call of many requests, such as a large upload, lives as long as it progresses).
 * On timeout `signal` aborts so that `work` can stop its consumers and streams; whatever `work`
 * does later is ignored, and a rejection it ends with is swallowed rather than left unhandled.
 */
export async function withWatchdog<T>(timeoutMs: number, work: (alive: () => void, signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const { promise: expired, reject } = Promise.withResolvers<never>();
  let timer = setTimeout(fire, timeoutMs);
  function fire(): void {
    const error = new NatsCallTimeout(timeoutMs);
    controller.abort(error);
    reject(error);
  }
  const alive = () => {
    if (controller.signal.aborted) return;
    clearTimeout(timer);
    timer = setTimeout(fire, timeoutMs);
  };
  const running = work(alive, controller.signal);
  running.catch(() => {});
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a connection is usable now, kept from its status events. */
export class NatsConnectionState {
  readonly #nc: NatsConnection;
  readonly #status: AsyncIterable<Status>;
  #down = false;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    this.#status = nc.status();
    void this.#watch();
  }

  /** Why calls cannot succeed now, or undefined while connected. */
  get problem(): string | undefined {
    if (this.#nc.isClosed()) return 'the NATS connection is closed';
    if (this.#nc.isDraining()) return 'the NATS connection is draining';
    return this.#down ? 'the connection to NATS is down and the client is reconnecting' : undefined;
  }

  /** Stops watching (the client's status iterator is a QueuedIterator with `stop`). */
  stop(): void {
    (this.#status as { stop?: () => void }).stop?.();
  }

  async #watch(): Promise<void> {
    try {
      for await (const status of this.#status) {
        if (status.type === 'disconnect') this.#down = true;
        else if (status.type === 'reconnect') this.#down = false;
      }
    } catch {
      // The iterator ends with the connection; nothing to report.
    }
  }
}

/**
 * What went wrong with a NATS call, in words a guest may read, or undefined for an error that is
 * not a NATS failure (a bug: the caller rethrows it, and the plugin logs it).
 */
export function natsFailure(err: unknown, timeoutMs: number, state: NatsConnectionState): string | undefined {
  const name = (err as Error | null)?.name;
  const problem = state.problem;
  if (err instanceof NatsCallTimeout || isClientTimeout(err)) {
    return `NATS did not answer within ${timeoutMs} ms${problem ? ` (${problem})` : ''}`;
  }
  if (name === 'ClosedConnectionError') return 'the NATS connection is closed';
  if (name === 'DrainingConnectionError') return 'the NATS connection is draining';
  if (isNoResponders(err)) return 'JetStream is not available on the NATS server';
  if (name === 'PermissionViolationError' || name === 'AuthorizationError') return 'NATS denied the request (permissions)';
  if (jetStreamCode(err) !== undefined) return `JetStream refused the request: ${(err as Error).message}`;
  return undefined;
}
