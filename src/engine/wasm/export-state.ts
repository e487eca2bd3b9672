/**
 * Exports a core module's mutable globals, so that the host can put an instance back into the
 * state it had right after instantiation and hand it to the next request as a fresh instance
 * (see canon/plan.ts). Only a module whose whole state the host can see and restore qualifies:
 *
 * - its one memory is imported (wasm/import-memory.ts): the host restores its bytes;
 * - its mutable globals are numbers or references (exported here; a v128 has no JS value);
 * - no start function (instrumented or not), no imported globals or tables: instantiation runs
 *   no code, so every new instance starts from the same bytes and values;
 * - nothing else can change: no passive segments (`memory.init`, `data.drop`...), no
 *   instruction that writes a table (`table.set`, `table.grow`, `table.fill`, `table.copy`,
 *   `table.init`, `elem.drop`), no GC objects (mutable state behind immutable references).
 */
import { appendEntries, encodeName, uleb, readSections, Reader, SECTION, skipImportDesc, skipValType, writeModule, type Section } from './codec.ts';
import { readInstruction } from './instructions.ts';
import { MEMORY_IMPORT } from './import-memory.ts';

/** Exported names of the module's mutable globals: this prefix and the global's index. */
export const GLOBAL_EXPORT_PREFIX = '__wasmhost_global';
/** The instrumented start function (limits/instrument.ts): code that runs at instantiation. */
const INSTRUMENTED_START = '__wasmhost_start';

const V128 = 0x7b;
const GC_PREFIX = 0xfb;
const TABLE_WRITES = new Set([0x26, ...[12, 13, 14, 15, 17].map((op) => (0xfc << 16) | op)]);

/** The rewritten module and the names of its mutable globals, or undefined when it does not qualify. */
export function exportState(bytes: Uint8Array): { bytes: Uint8Array; globals: string[] } | undefined {
  const sections = readSections(bytes);
  const section = (id: number) => sections.find((s) => s.id === id);
  if (section(SECTION.start) || section(SECTION.memory)) return undefined;
  if (!importsOnlyFunctionsAndMemory(section(SECTION.import)) || exportsName(section(SECTION.export), INSTRUMENTED_START)) return undefined;
  if (!onlyActiveData(section(SECTION.data)) || !noPassiveElements(section(SECTION.element))) return undefined;
  const mutable = mutableGlobals(section(SECTION.global));
  if (!mutable) return undefined;
  const code = section(SECTION.code);
  if (code && !codeKeepsStateVisible(code.payload)) return undefined;

  const globals = mutable.map((i) => `${GLOBAL_EXPORT_PREFIX}${i}`);
  if (globals.length) appendEntries(sections, SECTION.export, mutable.map((i, n) => [...encodeName(globals[n]), 3, ...uleb(i)]));
  return { bytes: writeModule(bytes, sections), globals };
}

function importsOnlyFunctionsAndMemory(s: Section | undefined): boolean {
  if (!s) return true;
  const r = new Reader(s.payload);
  for (let n = r.uleb(); n > 0; n--) {
    const module = r.name();
    const name = r.name();
    const kind = skipImportDesc(r);
    if (kind === 2 ? module !== MEMORY_IMPORT.module || name !== MEMORY_IMPORT.name : kind !== 0 && kind !== 4) return false;
  }
  return true;
}

function exportsName(s: Section | undefined, wanted: string): boolean {
  if (!s) return false;
  const r = new Reader(s.payload);
  for (let n = r.uleb(); n > 0; n--) {
    if (r.name() === wanted) return true;
    r.byte();
    r.uleb();
  }
  return false;
}

function onlyActiveData(s: Section | undefined): boolean {
  if (!s) return true;
  const r = new Reader(s.payload);
  for (let n = r.uleb(); n > 0; n--) {
    const flags = r.uleb();
    if (flags === 1) return false; // passive
    if (flags === 2) r.uleb(); // memory index
    skipConstExpr(r);
    r.skip(r.uleb());
  }
  return true;
}

function noPassiveElements(s: Section | undefined): boolean {
  if (!s) return true;
  const r = new Reader(s.payload);
  for (let n = r.uleb(); n > 0; n--) {
    const flags = r.uleb();
    // Bit 0 set: passive, or with bit 1 declarative (dropped at instantiation, like active ones).
    if ((flags & 3) === 1) return false;
    skipElementBody(r, flags);
  }
  return true;
}

function skipElementBody(r: Reader, flags: number): void {
  if ((flags & 1) === 0) {
    if (flags & 2) r.uleb(); // table index
    skipConstExpr(r); // offset
  }
  const expressions = (flags & 4) !== 0;
  if (flags & 3) {
    if (expressions) skipValType(r);
    else r.byte(); // elemkind
  }
  for (let n = r.uleb(); n > 0; n--) {
    if (expressions) skipConstExpr(r);
    else r.uleb();
  }
}

/** Indices of the mutable globals (none are imported here), or undefined when one cannot be restored. */
function mutableGlobals(s: Section | undefined): number[] | undefined {
  if (!s) return [];
  const r = new Reader(s.payload);
  const out: number[] = [];
  const n = r.uleb();
  for (let i = 0; i < n; i++) {
    const type = r.peek();
    skipValType(r);
    const mutable = r.byte() === 1;
    if (!skipConstExpr(r)) return undefined;
    if (mutable) {
      if (type === V128) return undefined;
      out.push(i);
    }
  }
  return out;
}

/** Skips a constant expression; false when it builds a GC object. */
function skipConstExpr(r: Reader): boolean {
  let plain = true;
  for (;;) {
    const op = readInstruction(r);
    if (op >>> 16 === GC_PREFIX) plain = false;
    if (op === 0x0b) return plain;
  }
}

function codeKeepsStateVisible(payload: Uint8Array): boolean {
  const r = new Reader(payload);
  for (let f = r.uleb(); f > 0; f--) {
    const end = r.uleb() + r.pos;
    for (let locals = r.uleb(); locals > 0; locals--) {
      r.uleb();
      skipValType(r);
    }
    while (r.pos < end) {
      const op = readInstruction(r);
      if (TABLE_WRITES.has(op) || op >>> 16 === GC_PREFIX) return false;
    }
  }
  return true;
}
