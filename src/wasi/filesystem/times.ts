import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, lutimes, stat, utimes, type FileHandle } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import type { ErrorCode } from './errors.ts';
import type { Datetime } from './metadata.ts';

/** `wasi:filesystem/types.new-timestamp`. */
export type NewTimestamp = { tag: 'no-change' } | { tag: 'now' } | { tag: 'timestamp'; val: Datetime };

/** What to change the times of: an open file, or a resolved host path (never followed if a symlink). */
export type TimesTarget = { handle: FileHandle } | { path: string; follow: boolean };

/**
 * `set-times` and `set-times-at`. Node's `utimes` family goes through libuv, which rounds to
 * microseconds and cannot leave one of the two times unchanged (no `UTIME_OMIT`), so a guest
 * that sets only the mtime, or a time with nanoseconds, would see different values come back.
 * On Linux the exact call (`utimensat`, with `UTIME_OMIT` and nanoseconds) is reached through
 * GNU `touch`, run without a shell on a path this module built; where that is not available
 * the Node call is used with its precision.
 */
export async function setTimes(target: TimesTarget, atime: NewTimestamp, mtime: NewTimestamp): Promise<void> {
  validate(atime);
  validate(mtime);
  // Errors (missing file, loops) come from here, since `touch -c` ignores a missing file.
  const current = await statOf(target);
  if (atime.tag === 'no-change' && mtime.tag === 'no-change') return;
  if (await setWithTouch(target, atime, mtime)) return;
  await setWithNode(target, current, atime, mtime);
}

function validate(t: NewTimestamp): void {
  if (t.tag !== 'timestamp') return;
  if (t.val.nanoseconds < 0 || t.val.nanoseconds >= 1e9) throw 'invalid' satisfies ErrorCode;
  // Past `time_t`'s range, as wasmtime reports it.
  if (t.val.seconds > 0x7fff_ffff_ffff_ffffn) throw 'overflow' satisfies ErrorCode;
}

function statOf(target: TimesTarget): Promise<BigIntStats> {
  if ('handle' in target) return target.handle.stat({ bigint: true });
  return target.follow ? stat(target.path, { bigint: true }) : lstat(target.path, { bigint: true });
}

const TOUCH = process.platform === 'linux' ? ['/usr/bin/touch', '/bin/touch'].find((p) => existsSync(p)) : undefined;
let probe: Promise<boolean> | undefined;

/** Whether exact times are available here: GNU `touch` (BusyBox's has no nanoseconds). Asked once. */
export function preciseTimes(): Promise<boolean> {
  probe ??= TOUCH ? run(TOUCH, ['--version']).then((out) => out !== undefined && out.includes('GNU coreutils')) : Promise.resolve(false);
  return probe;
}

/** Answers false when `touch` is unusable here, so the caller falls back to Node. */
async function setWithTouch(target: TimesTarget, atime: NewTimestamp, mtime: NewTimestamp): Promise<boolean> {
  if (!TOUCH || !(await preciseTimes())) return false;
  // An open file is reached through its /proc link, which follows it across renames.
  const path = 'handle' in target ? `/proc/${process.pid}/fd/${target.handle.fd}` : target.path;
  const noDeref = 'handle' in target ? [] : ['-h'];
  const calls: string[][] = [];
  if (atime.tag !== 'no-change' && mtime.tag !== 'no-change' && sameSpec(atime, mtime)) {
    calls.push(dateArgs(atime));
  } else {
    if (atime.tag !== 'no-change') calls.push(['-a', ...dateArgs(atime)]);
    if (mtime.tag !== 'no-change') calls.push(['-m', ...dateArgs(mtime)]);
  }
  for (const args of calls) {
    // On failure, leave the real error (permissions, read-only filesystem) to the Node call.
    if ((await run(TOUCH, ['-c', ...noDeref, ...args, '--', path])) === undefined) return false;
  }
  return true;
}

function sameSpec(a: NewTimestamp, b: NewTimestamp): boolean {
  if (a.tag === 'now' || b.tag === 'now') return a.tag === b.tag;
  return a.tag === 'timestamp' && b.tag === 'timestamp' && a.val.seconds === b.val.seconds && a.val.nanoseconds === b.val.nanoseconds;
}

function dateArgs(t: NewTimestamp): string[] {
  if (t.tag !== 'timestamp') return []; // `touch` without a date sets the current time
  return ['-d', `@${t.val.seconds}.${String(t.val.nanoseconds).padStart(9, '0')}`];
}

/** Runs a program without a shell; answers its stdout, or undefined if it failed. */
function run(file: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { LC_ALL: 'C', TZ: 'UTC' }, timeout: 10_000 }, (err, stdout) => resolve(err ? undefined : stdout));
  });
}

async function setWithNode(target: TimesTarget, current: BigIntStats, atime: NewTimestamp, mtime: NewTimestamp): Promise<void> {
  const a = seconds(atime, current.atimeNs);
  const m = seconds(mtime, current.mtimeNs);
  if ('handle' in target) await target.handle.utimes(a, m);
  else if (target.follow) await utimes(target.path, a, m);
  else await lutimes(target.path, a, m);
}

function seconds(t: NewTimestamp, currentNs: bigint): number {
  if (t.tag === 'now') return Date.now() / 1000;
  if (t.tag === 'no-change') return Number(currentNs) / 1e9;
  return Number(t.val.seconds) + t.val.nanoseconds / 1e9;
}
