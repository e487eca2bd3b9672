/**
 * Rewrites a core module's own linear memory into an import, so that the host can hand each new
 * instance a recycled memory (see canon/memory-pool.ts). V8 reserves every new 32-bit memory
 * with gigabytes of guard region, unmaps it when collected and collects early to free address
 * space: that was most of a small instance's cost (~50 of ~60 us, measured in bench/).
 *
 * Only the simple case is rewritten: exactly one memory, defined by the module (none imported),
 * 32-bit, unshared, with the default page size. Its index stays 0, so no instruction changes.
 */
import { appendEntries, encodeName, readSections, Reader, SECTION, skipImportDesc, writeModule } from './codec.ts';

export const MEMORY_IMPORT = { module: 'wasmhost:memory', name: 'memory' } as const;

/** A memory's limits in pages, as `new WebAssembly.Memory` takes them. */
export interface MemoryType {
  initial: number;
  maximum?: number;
}

/** The rewritten module and the memory it now imports, or undefined when the module does not qualify. */
export function importMemory(bytes: Uint8Array): { bytes: Uint8Array; memory: MemoryType } | undefined {
  const sections = readSections(bytes);
  const imports = sections.find((s) => s.id === SECTION.import);
  if (imports && importsMemory(imports.payload)) return undefined;
  const at = sections.findIndex((s) => s.id === SECTION.memory);
  if (at === -1) return undefined;
  const r = new Reader(sections[at].payload);
  if (r.uleb() !== 1) return undefined;
  const limitsAt = r.pos;
  const flags = r.byte();
  if (flags !== 0x00 && flags !== 0x01) return undefined; // shared, 64-bit or custom page size
  const memory: MemoryType = { initial: r.uleb() };
  if (flags === 0x01) memory.maximum = r.uleb();
  const limits = sections[at].payload.subarray(limitsAt, r.pos);

  sections.splice(at, 1);
  appendEntries(sections, SECTION.import, [[...encodeName(MEMORY_IMPORT.module), ...encodeName(MEMORY_IMPORT.name), 0x02, ...limits]]);
  return { bytes: writeModule(bytes, sections), memory };
}

function importsMemory(payload: Uint8Array): boolean {
  const r = new Reader(payload);
  const n = r.uleb();
  for (let i = 0; i < n; i++) {
    r.name();
    r.name();
    if (skipImportDesc(r) === 2) return true;
  }
  return false;
}
