import { encodeName, readSections, Reader, SECTION, skipImportDesc, uleb, writeModule } from './codec.ts';

export interface ImportRename {
  from: { module: string; name: string };
  to: { module: string; name: string };
}

/** Returns the module with the given imports renamed; unchanged bytes when none match. */
export function renameImports(bytes: Uint8Array, renames: ImportRename[]): Uint8Array {
  const sections = readSections(bytes);
  const imports = sections.find((s) => s.id === SECTION.import);
  if (!imports) return bytes;
  const r = new Reader(imports.payload);
  const count = r.uleb();
  const entries: number[] = [...uleb(count)];
  let changed = false;
  for (let i = 0; i < count; i++) {
    const module = r.name();
    const name = r.name();
    const descStart = r.pos;
    skipImportDesc(r);
    const hit = renames.find((x) => x.from.module === module && x.from.name === name);
    if (hit) changed = true;
    entries.push(...encodeName(hit ? hit.to.module : module), ...encodeName(hit ? hit.to.name : name));
    entries.push(...imports.payload.subarray(descStart, r.pos));
  }
  if (!changed) return bytes;
  imports.payload = Uint8Array.from(entries);
  return writeModule(bytes, sections);
}
