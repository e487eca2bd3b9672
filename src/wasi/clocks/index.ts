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

/** A pollable that is ready once the monotonic clock reaches `when` (nanoseconds). */
export function instantPollable(when: bigint): Pollable {
  return new Pollable({
    ready: () => monotonicNow() >= when,
    wait: (signal) => sleep(Math.ceil(Number((when - monotonicNow()) / NS_PER_MS)) + 1, signal),
  });
}

/** Wall time with microsecond resolution (`performance` keeps sub-millisecond precision). */
export function wallNow(): Datetime {
  const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  return { seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) };
}

/** `wasi:clocks/*`: stateless, so one object serves every instance. */
export const clocksImports = {
  'wasi:clocks/monotonic-clock': {
    now: monotonicNow,
    resolution: () => 1n,
    subscribeInstant: (when: bigint) => instantPollable(when),
    subscribeDuration: (duration: bigint) => instantPollable(monotonicNow() + duration),
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
};
