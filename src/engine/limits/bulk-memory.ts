/**
 * `memory.fill` and `memory.copy` in metered pieces. One such instruction can touch up to 4 GiB
 * (a guest filling fresh pages held the event loop for over a second in one instruction), so
 * instrument.ts replaces each with a call to a function added to the module: it checks the
 * bounds first (an access out of bounds traps before anything is written, as the spec says),
 * then works in chunks, charging fuel by the byte so the host's time checks and slices reach
 * the guest between chunks.
 */
import { sleb, uleb } from '../wasm/codec.ts';

/** Bytes one chunk touches: well under a millisecond even on fresh pages. */
const CHUNK = 64 * 1024;
/**
 * Fuel is charged one unit per 2^this bytes. Priced for fresh pages, the slowest case: this
 * machine faults them in at about 200 MB/s, so a fuel tank (20,000 units: 80 KB) lasts about
 * 0.4 ms, well within a time slice.
 */
const BYTES_PER_FUEL_SHIFT = 2;

const I32 = 0x7f;
const op = {
  if: [0x04, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  return: [0x0f],
  select: [0x1b],
  get: (l: number) => [0x20, l],
  set: (l: number) => [0x21, l],
  const: (n: number) => [0x41, ...sleb(n)],
  add: [0x6a],
  sub: [0x6b],
  leU: [0x4d],
  ltU: [0x49],
  leS: [0x4c],
  shrU: [0x76],
  i64ExtendU: [0xad],
  i64Add: [0x7c],
  i64Const16Shl: [0x42, 16, 0x86],
  i64GtU: [0x56],
  brIf: (depth: number) => [0x0d, depth],
  memorySize: (m: number) => [0x3f, ...uleb(m)],
  fill: (m: number) => [0xfc, 11, ...uleb(m)],
  copy: (d: number, s: number) => [0xfc, 10, ...uleb(d), ...uleb(s)],
};

/** What the helpers need from the instrumented module. */
export interface MeterIndices {
  fuel: number;
  /** Calls the `check` hook (fuel ran out). */
  check: number[];
}

/** The helper's type: (i32 dest, i32 value-or-source, i32 length) -> (). */
export const BULK_TYPE = [0x60, 3, I32, I32, I32, 0];

// Locals: 0 dest, 1 value or source, 2 length left, 3 this chunk's length.
const [DEST, ARG, LEFT, LEN] = [0, 1, 2, 3];

/** `addr + n` past the end of memory `m` (in 64 bits, so it cannot wrap). */
const outOfBounds = (addr: number, m: number) => [
  ...op.get(addr), ...op.i64ExtendU, ...op.get(LEFT), ...op.i64ExtendU, ...op.i64Add,
  ...op.memorySize(m), ...op.i64ExtendU, ...op.i64Const16Shl, ...op.i64GtU,
];

/** len = min(left, CHUNK) */
const takeChunk = [...op.get(LEFT), ...op.const(CHUNK), ...op.get(LEFT), ...op.const(CHUNK), ...op.ltU, ...op.select, ...op.set(LEN)];

/** fuel -= (len >> shift) + 1; if (fuel <= 0) check() */
const charge = (meter: MeterIndices) => [
  0x23, ...uleb(meter.fuel), ...op.get(LEN), ...op.const(BYTES_PER_FUEL_SHIFT), ...op.shrU, ...op.const(1), ...op.add, ...op.sub, 0x24, ...uleb(meter.fuel),
  0x23, ...uleb(meter.fuel), ...op.const(0), ...op.leS, ...op.if, ...meter.check, ...op.end,
];

const advance = (local: number) => [...op.get(local), ...op.get(LEN), ...op.add, ...op.set(local)];
const shrink = [...op.get(LEFT), ...op.get(LEN), ...op.sub, ...op.set(LEFT)];
/** `base + left`, for working backwards. */
const fromEnd = (local: number) => [...op.get(local), ...op.get(LEFT), ...op.add];

function body(code: number[]): number[] {
  const bytes = [1, 1, I32, ...code, ...op.end];
  return [...uleb(bytes.length), ...bytes];
}

/** A code-section entry doing `memory.fill` on memory `m` in chunks. */
export function fillHelper(m: number, meter: MeterIndices): number[] {
  return body([
    ...outOfBounds(DEST, m), ...op.if, ...op.get(DEST), ...op.get(ARG), ...op.get(LEFT), ...op.fill(m), ...op.return, ...op.end,
    ...op.loop,
    ...takeChunk,
    ...op.get(DEST), ...op.get(ARG), ...op.get(LEN), ...op.fill(m),
    ...advance(DEST), ...shrink, ...charge(meter),
    ...op.get(LEFT), ...op.brIf(0),
    ...op.end,
  ]);
}

/**
 * A code-section entry doing `memory.copy` from memory `s` to `d` in chunks: front to back
 * when the destination is below the source, back to front otherwise, so that overlapping
 * ranges copy as one `memory.copy` would.
 */
export function copyHelper(d: number, s: number, meter: MeterIndices): number[] {
  const original = [...op.get(DEST), ...op.get(ARG), ...op.get(LEFT), ...op.copy(d, s)];
  return body([
    ...outOfBounds(DEST, d), ...outOfBounds(ARG, s), 0x72 /* i32.or */, ...op.if, ...original, ...op.return, ...op.end,
    ...op.get(DEST), ...op.get(ARG), ...op.leU,
    ...op.if,
    ...op.loop,
    ...takeChunk,
    ...op.get(DEST), ...op.get(ARG), ...op.get(LEN), ...op.copy(d, s),
    ...advance(DEST), ...advance(ARG), ...shrink, ...charge(meter),
    ...op.get(LEFT), ...op.brIf(0),
    ...op.end,
    ...op.return,
    ...op.end,
    ...op.loop,
    ...takeChunk,
    ...shrink,
    ...fromEnd(DEST), ...fromEnd(ARG), ...op.get(LEN), ...op.copy(d, s),
    ...charge(meter),
    ...op.get(LEFT), ...op.brIf(0),
    ...op.end,
  ]);
}
