import { createHash, randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';

/** `wasi:filesystem/types.descriptor-type`. */
export type DescriptorType =
  | 'unknown'
  | 'block-device'
  | 'character-device'
  | 'directory'
  | 'fifo'
  | 'symbolic-link'
  | 'regular-file'
  | 'socket';

/** `wasi:clocks/wall-clock.datetime`. */
export interface Datetime {
  seconds: bigint;
  nanoseconds: number;
}

export interface DescriptorStat {
  type: DescriptorType;
  linkCount: bigint;
  size: bigint;
  dataAccessTimestamp: Datetime | undefined;
  dataModificationTimestamp: Datetime | undefined;
  statusChangeTimestamp: Datetime | undefined;
}

export interface MetadataHashValue {
  lower: bigint;
  upper: bigint;
}

/** The `is*` predicates that `Stats` and `Dirent` share. */
type TypedEntry = Pick<BigIntStats, 'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isCharacterDevice' | 'isBlockDevice' | 'isFIFO' | 'isSocket'>;

export function descriptorType(entry: TypedEntry): DescriptorType {
  if (entry.isFile()) return 'regular-file';
  if (entry.isDirectory()) return 'directory';
  if (entry.isSymbolicLink()) return 'symbolic-link';
  if (entry.isCharacterDevice()) return 'character-device';
  if (entry.isBlockDevice()) return 'block-device';
  if (entry.isFIFO()) return 'fifo';
  if (entry.isSocket()) return 'socket';
  return 'unknown';
}

export function toDescriptorStat(st: BigIntStats): DescriptorStat {
  return {
    type: descriptorType(st),
    linkCount: st.nlink,
    size: st.size,
    dataAccessTimestamp: toDatetime(st.atimeNs),
    dataModificationTimestamp: toDatetime(st.mtimeNs),
    // POSIX ctime is the status change time the WIT asks for (not the birth time).
    statusChangeTimestamp: toDatetime(st.ctimeNs),
  };
}

/** A datetime is unsigned: times before the epoch are reported as absent, as wasmtime does. */
function toDatetime(ns: bigint): Datetime | undefined {
  if (ns < 0n) return undefined;
  return { seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) };
}

/**
 * Hashes an object's identity (device and inode) with a key drawn once per process: equal
 * within a process, as the WIT requires, without handing the guest the host's raw inode numbers.
 */
const HASH_KEY = randomBytes(16);

export function metadataHash(st: BigIntStats): MetadataHashValue {
  const digest = createHash('sha256').update(HASH_KEY).update(`${st.dev}:${st.ino}`).digest();
  return { lower: digest.readBigUInt64LE(0), upper: digest.readBigUInt64LE(8) };
}

export function sameObject(a: BigIntStats, b: BigIntStats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}
