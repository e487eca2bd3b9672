/**
 * `wasi:io/poll`. A pollable is a readiness check plus a way to wait for readiness; `block`
 * and `poll` return promises when nothing is ready, which JSPI turns into a suspension of
 * the calling guest while the event loop serves everyone else.
 */
export interface Readiness {
  /** True when the event has happened (must be cheap and synchronous). */
  ready(): boolean;
  /** Resolves once `ready()` may have become true; must stop waiting when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void>;
}

export class Pollable {
  readonly #readiness: Readiness;

  constructor(readiness: Readiness) {
    this.#readiness = readiness;
  }

  ready(): boolean {
    return this.#readiness.ready();
  }

  block(): void | Promise<void> {
    if (this.#readiness.ready()) return;
    return waitAny([this]).then(() => undefined);
  }

  /** @internal */
  wait(signal: AbortSignal): Promise<void> {
    return this.#readiness.wait(signal);
  }
}

/** A pollable that is always ready (streams that never block, closed streams). */
export const ALWAYS_READY: Readiness = { ready: () => true, wait: () => Promise.resolve() };

export function readyPollable(): Pollable {
  return new Pollable(ALWAYS_READY);
}

/** A pollable that becomes ready when `promise` settles (either way). */
export function promisePollable(promise: Promise<unknown>): Pollable {
  let settled = false;
  const done = promise.then(
    () => void (settled = true),
    () => void (settled = true),
  );
  return new Pollable({ ready: () => settled, wait: () => done });
}

/** `poll(in: list<borrow<pollable>>) -> list<u32>`: the indexes of the ready ones, waiting for one. */
export function poll(list: Pollable[]): Uint32Array | Promise<Uint32Array> {
  if (list.length === 0) throw new RangeError('poll called with an empty list');
  const now = readyIndexes(list);
  if (now.length > 0) return now;
  return waitAny(list).then(() => readyIndexes(list));
}

function readyIndexes(list: Pollable[]): Uint32Array {
  const out: number[] = [];
  for (let i = 0; i < list.length; i++) if (list[i].ready()) out.push(i);
  return new Uint32Array(out);
}

/** Waits until at least one pollable is ready; cancels the other waits afterwards. */
async function waitAny(list: Pollable[]): Promise<void> {
  const controller = new AbortController();
  try {
    while (!list.some((p) => p.ready())) {
      await Promise.race(list.map((p) => p.wait(controller.signal)));
    }
  } finally {
    controller.abort();
  }
}

/** Waits `ms` milliseconds unless `signal` aborts first (then resolves early; the timer is cleared). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
