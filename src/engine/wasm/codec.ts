/**
 * Just enough of the core Wasm binary format to read and write the parts wasmhost rewrites
 * (import names, limits instrumentation). Written by hand: the registry's Wasm toolkits either
 * round-trip the whole module (binaryen: seconds on a 12 MB module, re-encodes all code) or
 * cannot write binaries; wasmhost copies everything it does not change byte for byte.
 */
import { InvalidComponentError } from '../../errors.ts';

export class Reader {
  pos: number;
  readonly bytes: Uint8Array;
  /** What the bytes are, for messages: `core module` or `component`. */
  readonly what: string;
  constructor(bytes: Uint8Array, pos = 0, what = 'core module') {
    this.bytes = bytes;
    this.pos = pos;
    this.what = what;
  }
  get done(): boolean {
    return this.pos >= this.bytes.length;
  }
  byte(): number {
    if (this.pos >= this.bytes.length) throw new InvalidComponentError(`truncated ${this.what}`);
    return this.bytes[this.pos++];
  }
  peek(): number {
    if (this.pos >= this.bytes.length) throw new InvalidComponentError(`truncated ${this.what}`);
    return this.bytes[this.pos];
  }
  skip(n: number): void {
    if (this.pos + n > this.bytes.length) throw new InvalidComponentError(`truncated ${this.what}`);
    this.pos += n;
  }
  /** Unsigned LEB128 (up to 64 bits; values above 2^53 lose precision, which no index or length needs). */
  uleb(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new InvalidComponentError(`malformed LEB128 integer in ${this.what}`);
    }
  }
  /** Skips a signed or unsigned LEB128 without decoding it. */
  skipLeb(): void {
    for (let i = 0; i < 10; i++) if ((this.byte() & 0x80) === 0) return;
    throw new InvalidComponentError(`malformed LEB128 integer in ${this.what}`);
  }
  name(): string {
    const len = this.uleb();
    this.skip(len);
    return Buffer.from(this.bytes.subarray(this.pos - len, this.pos)).toString('utf8');
  }
  limits(): void {
    const flags = this.byte();
    this.uleb();
    if (flags & 1) this.uleb();
  }
}

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export function encodeName(s: string): number[] {
  const b = Buffer.from(s, 'utf8');
  return [...uleb(b.length), ...b];
}

/** Skips one import descriptor (the part after the two names); answers its kind. */
export function skipImportDesc(r: Reader): number {
  const kind = r.byte();
  switch (kind) {
    case 0: // func: type index
      r.uleb();
      break;
    case 1: // table: reftype + limits
      skipValType(r);
      r.limits();
      break;
    case 2: // memory
      r.limits();
      break;
    case 3: // global: valtype + mutability
      skipValType(r);
      r.byte();
      break;
    case 4: // tag: attribute + type index
      r.byte();
      r.uleb();
      break;
    default:
      throw new InvalidComponentError(`unknown import kind ${kind} in core module`);
  }
  return kind;
}

/** A value type: one byte, or a reference type with a heap type (`ref null ht`, `ref ht`). */
export function skipValType(r: Reader): void {
  const b = r.byte();
  if (b === 0x63 || b === 0x64) r.skipLeb();
}

/** One section of a module: its id and payload, as a view into the original bytes. */
export interface Section {
  id: number;
  payload: Uint8Array;
}

export const SECTION = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

export function readSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8) throw new InvalidComponentError('truncated core module');
  const r = new Reader(bytes, 8);
  const sections: Section[] = [];
  while (!r.done) {
    const id = r.byte();
    const size = r.uleb();
    r.skip(size);
    sections.push({ id, payload: bytes.subarray(r.pos - size, r.pos) });
  }
  return sections;
}

export function writeModule(header: Uint8Array, sections: readonly Section[]): Uint8Array {
  const parts: Uint8Array[] = [header.subarray(0, 8)];
  for (const s of sections) parts.push(Uint8Array.of(s.id, ...uleb(s.payload.length)), s.payload);
  return Buffer.concat(parts);
}

/** Adds entries at the end of a vector section (creating it, in its place, when absent). */
export function appendEntries(sections: Section[], id: number, entries: number[][]): void {
  let section = sections.find((s) => s.id === id);
  if (!section) {
    section = { id, payload: Uint8Array.of(0) };
    const rank = SECTION_ORDER.indexOf(id);
    const at = sections.findIndex((s) => s.id !== SECTION.custom && SECTION_ORDER.indexOf(s.id) > rank);
    sections.splice(at === -1 ? sections.length : at, 0, section);
  }
  const r = new Reader(section.payload);
  const count = r.uleb();
  section.payload = Buffer.concat([Uint8Array.from(uleb(count + entries.length)), section.payload.subarray(r.pos), Uint8Array.from(entries.flat())]);
}

const SECTION_ORDER: number[] = [
  SECTION.type,
  SECTION.import,
  SECTION.function,
  SECTION.table,
  SECTION.memory,
  SECTION.tag,
  SECTION.global,
  SECTION.export,
  SECTION.start,
  SECTION.element,
  SECTION.dataCount,
  SECTION.code,
  SECTION.data,
];

