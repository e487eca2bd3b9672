import { InstanceClosedError } from '../../errors.ts';
import { Pollable, sleep } from '../io/poll.ts';

/** `wasi:clocks/wall-clock.datetime`. */
export interface Datetime {
  seconds: bigint;
  nanoseconds: number;
}

const NS_PER_MS = 1_000_000n;

function monotonicNow(): bigint {
  return process.hrtime.bigint();
}

/**
 * A pollable that is ready once the monotonic clock reaches `when` (nanoseconds). When the
 * instance's `lifetime` ends first, a guest waiting on it is woken with an error, so a guest
 * asleep when its instance is closed (a timed-out request) unwinds instead of lingering.
 */
export function instantPollable(when: bigint, lifetime?: AbortSignal): Pollable {
  return new Pollable({
    ready: () => monotonicNow() >= when,
    wait: async (signal) => {
      const ms = Math.ceil(Number((when - monotonicNow()) / NS_PER_MS)) + 1;
      await sleep(ms, lifetime ? AbortSignal.any([signal, lifetime]) : signal);
      if (lifetime?.aborted) throw new InstanceClosedError('the instance was closed while it waited');
    },
  });
}

/** Wall time with microsecond resolution (`performance` keeps sub-millisecond precision). */
export function wallNow(): Datetime {
  const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  return { seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) };
}

/** `wasi:clocks/*`; waits end with the instance's `lifetime` (see `instantPollable`), asked for only when a guest waits. */
export const clocksImports = (lifetime?: () => AbortSignal) => ({
  'wasi:clocks/monotonic-clock': {
    now: monotonicNow,
    resolution: () => 1n,
    subscribeInstant: (when: bigint) => instantPollable(when, lifetime?.()),
    subscribeDuration: (duration: bigint) => instantPollable(monotonicNow() + duration, lifetime?.()),
  },
  'wasi:clocks/wall-clock': {
    now: wallNow,
    resolution: (): Datetime => ({ seconds: 0n, nanoseconds: 1000 }),
  },
  // Unstable in 0.2.x: the host answers in UTC, revealing nothing about where it runs.
  'wasi:clocks/timezone': {
    display: () => ({ utcOffset: 0, name: 'UTC', inDaylightSavingTime: false }),
    utcOffset: () => 0,
  },
});
