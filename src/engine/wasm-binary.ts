/**
 * Just enough of the core Wasm binary format to rewrite import names. Written by hand:
 * the registry's Wasm toolkits either round-trip the whole module (binaryen: slow on large
 * modules, may re-encode code) or cannot write binaries; this touches one section only.
 */
import { InvalidComponentError } from '../errors.ts';

const IMPORT_SECTION = 2;

class Reader {
  pos: number;
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array, pos = 0) {
    this.bytes = bytes;
    this.pos = pos;
  }
  byte(): number {
    if (this.pos >= this.bytes.length) throw new InvalidComponentError('truncated core module');
    return this.bytes[this.pos++];
  }
  /** Unsigned LEB128 (up to 64 bits; values above 2^53 lose precision, which no length needs). */
  uleb(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new InvalidComponentError('malformed LEB128 integer in core module');
    }
  }
  name(): string {
    const len = this.uleb();
    const s = Buffer.from(this.bytes.subarray(this.pos, this.pos + len)).toString('utf8');
    this.pos += len;
    return s;
  }
  limits(): void {
    const flags = this.byte();
    this.uleb();
    if (flags & 1) this.uleb();
  }
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function encodeName(s: string): number[] {
  const b = Buffer.from(s, 'utf8');
  return [...uleb(b.length), ...b];
}

/** Skips one import descriptor (the part after the two names). */
function skipImportDesc(r: Reader): void {
  const kind = r.byte();
  switch (kind) {
    case 0: // func: type index
      r.uleb();
      return;
    case 1: // table: reftype + limits
      r.byte();
      r.limits();
      return;
    case 2: // memory
      r.limits();
      return;
    case 3: // global: valtype + mutability
      r.byte();
      r.byte();
      return;
    case 4: // tag: attribute + type index
      r.byte();
      r.uleb();
      return;
    default:
      throw new InvalidComponentError(`unknown import kind ${kind} in core module`);
  }
}

export interface ImportRename {
  from: { module: string; name: string };
  to: { module: string; name: string };
}

/** Returns the module with the given imports renamed; unchanged bytes when none match. */
export function renameImports(bytes: Uint8Array, renames: ImportRename[]): Uint8Array {
  const r = new Reader(bytes, 8);
  while (r.pos < bytes.length) {
    const sectionStart = r.pos;
    const id = r.byte();
    const size = r.uleb();
    const payloadStart = r.pos;
    if (id !== IMPORT_SECTION) {
      r.pos = payloadStart + size;
      continue;
    }
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
      entries.push(...bytes.subarray(descStart, r.pos));
    }
    if (!changed) return bytes;
    const section = [IMPORT_SECTION, ...uleb(entries.length), ...entries];
    const out = new Uint8Array(sectionStart + section.length + (bytes.length - (payloadStart + size)));
    out.set(bytes.subarray(0, sectionStart), 0);
    out.set(section, sectionStart);
    out.set(bytes.subarray(payloadStart + size), sectionStart + section.length);
    return out;
  }
  return bytes;
}
