/**
 * Exports a core module's mutable globals, so that the host can put a finished instance group
 * (every core instance of a component instance) back into the state it had right after
 * instantiation and hand it to the next invocation as a fresh instance (canon/restore.ts). A
 * module qualifies when the host can see and restore all the state it holds:
 *
 * - it defines no memory (its memory is imported: from the host's pool, wasm/import-memory.ts,
 *   or from another module of the group): the host restores the pooled memories' bytes;
 * - its mutable globals are numbers or references (exported here; a v128 has no JS value);
 * - nothing else can change after instantiation: no passive segments (`memory.init`,
 *   `data.drop`...), no instruction that writes a table (`table.set`, `table.grow`, `table.fill`,
 *   `table.copy`, `table.init`, `elem.drop`), no GC objects (mutable state behind immutable
 *   references). Tables are filled by active segments at instantiation and stay as they are.
 *
 * Imports and start functions are allowed: a group's imports all come from the group, and
 * whether instantiation ran deterministic code only (no call out, no growth) is checked when
 * the group is made (canon/runtime.ts).
 */
import { appendEntries, encodeName, uleb, readSections, Reader, SECTION, skipImportDesc, skipValType, writeModule, type Section } from './codec.ts';
import { readInstruction } from './instructions.ts';

/** Exported names of the module's mutable globals: this prefix and the global's index. */
export const GLOBAL_EXPORT_PREFIX = '__wasmhost_global';

const V128 = 0x7b;
const GC_PREFIX = 0xfb;
const TABLE_WRITES = new Set([0x26, ...[12, 13, 14, 15, 17].map((op) => (0xfc << 16) | op)]);

/** The rewritten module and the names of its mutable globals, or undefined when it does not qualify. */
export function exportState(bytes: Uint8Array): { bytes: Uint8Array; globals: string[] } | undefined {
  const sections = readSections(bytes);
  const section = (id: number) => sections.find((s) => s.id === id);
  if (section(SECTION.memory)) return undefined;
  if (!onlyActiveData(section(SECTION.data)) || !noPassiveElements(section(SECTION.element))) return undefined;
  const mutable = mutableGlobals(section(SECTION.global), importedGlobals(section(SECTION.import)));
  if (!mutable) return undefined;
  const code = section(SECTION.code);
  if (code && !codeKeepsStateVisible(code.payload)) return undefined;

  const globals = mutable.map((i) => `${GLOBAL_EXPORT_PREFIX}${i}`);
  if (globals.length) appendEntries(sections, SECTION.export, mutable.map((i, n) => [...encodeName(globals[n]), 3, ...uleb(i)]));
  return { bytes: writeModule(bytes, sections), globals };
}

function importedGlobals(s: Section | undefined): number {
  if (!s) return 0;
  const r = new Reader(s.payload);
  let globals = 0;
  for (let n = r.uleb(); n > 0; n--) {
    r.name();
    r.name();
    if (skipImportDesc(r) === 3) globals++;
  }
  return globals;
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

/** Indices of the defined mutable globals (after `imported` imported ones), or undefined when one cannot be restored. */
function mutableGlobals(s: Section | undefined, imported: number): number[] | undefined {
  if (!s) return [];
  const r = new Reader(s.payload);
  const out: number[] = [];
  const n = r.uleb();
  for (let i = imported; i < imported + n; i++) {
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
