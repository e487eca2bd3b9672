/**
 * Mutations of Wasm binaries for fuzzing the loader: byte-level ones (flip, overwrite, insert,
 * delete, truncate) and section-level ones that keep the framing valid, so the input gets past
 * the first length check and into the decoders (drop, duplicate, swap, splice from another
 * binary, lie about a size). Section ops may reach one level down, into a component's nested
 * core modules and components. Every choice is a plain number taken modulo what is there, so
 * fast-check can shrink a failing mutation list.
 */
import fc from 'fast-check';

export const CORE_PREAMBLE = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
export const COMPONENT_PREAMBLE = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00);

/** Component sections whose payload is itself a binary with a preamble. */
const NESTED_BINARY_SECTIONS = new Set([0x01 /* core module */, 0x04 /* component */]);

export interface Section {
  id: number;
  payload: Uint8Array;
}

export type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'drop-section'; section: number; nested: boolean }
  | { kind: 'duplicate-section'; section: number; nested: boolean }
  | { kind: 'swap-sections'; section: number; other: number; nested: boolean }
  | { kind: 'splice-section'; section: number; donor: number; donorSection: number; nested: boolean }
  | { kind: 'lie-about-size'; section: number; size: number; nested: boolean };

export function encodeU32(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Sections after the preamble, or undefined when the framing does not hold together. */
export function splitSections(bytes: Uint8Array): Section[] | undefined {
  if (bytes.length < 8) return undefined;
  const sections: Section[] = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++];
    let size = 0;
    let shift = 0;
    for (;;) {
      if (at >= bytes.length || shift > 28) return undefined;
      const b = bytes[at++];
      size |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    size >>>= 0;
    if (at + size > bytes.length) return undefined;
    sections.push({ id, payload: bytes.subarray(at, at + size) });
    at += size;
  }
  return sections;
}

export function joinSections(preamble: Uint8Array, sections: readonly Section[], sizeOf = (s: Section) => s.payload.length): Uint8Array {
  const parts: number[] = [...preamble.subarray(0, 8)];
  for (const s of sections) parts.push(s.id, ...encodeU32(sizeOf(s)), ...s.payload);
  return Uint8Array.from(parts);
}

/** The binary with a custom section appended (valid in modules and components alike). */
export function withCustomSection(bytes: Uint8Array, name: string): Uint8Array {
  const encodedName = new TextEncoder().encode(name);
  const payload = Uint8Array.from([...encodeU32(encodedName.length), ...encodedName]);
  return Uint8Array.from([...bytes, 0x00, ...encodeU32(payload.length), ...payload]);
}

export function applyMutations(bytes: Uint8Array, mutations: readonly Mutation[], donors: readonly Uint8Array[]): Uint8Array {
  return mutations.reduce((current, m) => applyMutation(current, m, donors), bytes);
}

function applyMutation(bytes: Uint8Array, m: Mutation, donors: readonly Uint8Array[]): Uint8Array {
  const n = bytes.length;
  switch (m.kind) {
    case 'flip':
    case 'set': {
      if (n === 0) return bytes;
      const out = bytes.slice();
      out[m.at % n] = m.kind === 'flip' ? out[m.at % n] ^ m.mask : m.byte;
      return out;
    }
    case 'insert': {
      const at = m.at % (n + 1);
      return Uint8Array.from([...bytes.subarray(0, at), ...m.bytes, ...bytes.subarray(at)]);
    }
    case 'delete': {
      if (n === 0) return bytes;
      const at = m.at % n;
      return Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + m.length)]);
    }
    case 'truncate':
      return bytes.slice(0, m.at % (n + 1));
    default:
      return m.nested ? mutateNested(bytes, m, donors) : mutateSections(bytes, m, donors);
  }
}

type SectionMutation = Extract<Mutation, { nested: boolean }>;

/** Applies a section op to the first nested binary it can (by section index), else at top level. */
function mutateNested(bytes: Uint8Array, m: SectionMutation, donors: readonly Uint8Array[]): Uint8Array {
  const sections = splitSections(bytes);
  if (!sections) return bytes;
  const nested = sections.map((s, i) => [s, i] as const).filter(([s]) => NESTED_BINARY_SECTIONS.has(s.id));
  if (nested.length === 0) return mutateSections(bytes, m, donors);
  const [outer, index] = nested[m.section % nested.length];
  const inner = mutateSections(outer.payload, { ...m, nested: false }, donors.flatMap(nestedBinaries));
  const copy = sections.slice();
  copy[index] = { id: outer.id, payload: inner };
  return joinSections(bytes, copy);
}

function mutateSections(bytes: Uint8Array, m: SectionMutation, donors: readonly Uint8Array[]): Uint8Array {
  const sections = splitSections(bytes);
  if (!sections || sections.length === 0) return bytes;
  const i = m.section % sections.length;
  const copy = sections.slice();
  switch (m.kind) {
    case 'drop-section':
      copy.splice(i, 1);
      return joinSections(bytes, copy);
    case 'duplicate-section':
      copy.splice(i, 0, sections[i]);
      return joinSections(bytes, copy);
    case 'swap-sections': {
      const j = m.other % sections.length;
      [copy[i], copy[j]] = [copy[j], copy[i]];
      return joinSections(bytes, copy);
    }
    case 'splice-section': {
      const donorSections = donors.length ? splitSections(donors[m.donor % donors.length]) : undefined;
      if (!donorSections?.length) return bytes;
      copy[i] = donorSections[m.donorSection % donorSections.length];
      return joinSections(bytes, copy);
    }
    case 'lie-about-size':
      // The payload stays; only its declared size changes, so the decoder reads past or short.
      return joinSections(bytes, copy, (s) => (s === copy[i] ? m.size : s.payload.length));
  }
}

function nestedBinaries(bytes: Uint8Array): Uint8Array[] {
  return (splitSections(bytes) ?? []).filter((s) => NESTED_BINARY_SECTIONS.has(s.id)).map((s) => s.payload);
}

const offset = fc.nat({ max: 1 << 20 });
const sectionOp = { section: fc.nat({ max: 64 }), nested: fc.boolean() };

/** One mutation; `donorCount` binaries can give sections. */
export function mutationArbitrary(): fc.Arbitrary<Mutation> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: offset, mask: fc.integer({ min: 1, max: 255 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('set' as const), at: offset, byte: fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x01, 0x0b, 0x60) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: offset, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: offset, length: fc.integer({ min: 1, max: 16 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: offset }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop-section' as const), ...sectionOp }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate-section' as const), ...sectionOp }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('swap-sections' as const), ...sectionOp, other: fc.nat({ max: 64 }) }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('splice-section' as const), ...sectionOp, donor: fc.nat({ max: 16 }), donorSection: fc.nat({ max: 64 }) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('lie-about-size' as const),
        ...sectionOp,
        size: fc.oneof(fc.nat({ max: 64 }), fc.constantFrom(0, 0xffff, 0x7fffffff, 0xffffffff)),
      }),
    },
  );
}

/** A preamble then well-framed sections of random ids and contents: gets past the framing. */
export function sectionSoupArbitrary(preamble: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc
    .array(fc.record({ id: fc.nat({ max: 16 }), payload: fc.uint8Array({ maxLength: 48 }) }), { maxLength: 8 })
    .map((sections) => joinSections(preamble, sections));
}
