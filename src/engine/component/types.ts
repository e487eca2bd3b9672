/**
 * Component-model value types as wasmhost's canonical ABI sees them (type indices resolved), with
 * the layout rules of the canonical ABI: size, alignment and flattening into core values.
 */

/**
 * A resource type of a plan: one slot, identified by object identity. An instance gets its own
 * runtime type per guest-defined slot (resource types are generative); host slots stand for
 * the host's objects. Named by interface and resource for errors and host classes.
 */
export interface ResourceType {
  readonly kind: 'resource';
  /** Index into the plan's resources (and an instance's runtime resource types). */
  readonly slot: number;
  /** Imported from the host (its values are host objects), or defined by a component instance. */
  readonly host: boolean;
  /** `wasi:http/types@0.2.12` for an imported or exported interface's resource; '' until known. */
  iface: string;
  /** `outgoing-response`; '' for a guest resource never exported under a name. */
  name: string;
}

export type Primitive = 'bool' | 's8' | 'u8' | 's16' | 'u16' | 's32' | 'u32' | 's64' | 'u64' | 'f32' | 'f64' | 'char' | 'string';

export type ValType =
  | { kind: Primitive }
  | { kind: 'list'; elem: ValType }
  | { kind: 'record'; fields: { name: string; type: ValType }[] }
  | { kind: 'tuple'; types: ValType[] }
  | { kind: 'variant'; cases: { name: string; type: ValType | undefined }[] }
  | { kind: 'enum'; names: string[] }
  | { kind: 'flags'; names: string[] }
  | { kind: 'option'; type: ValType }
  | { kind: 'result'; ok: ValType | undefined; err: ValType | undefined }
  | { kind: 'own' | 'borrow'; resource: ResourceType };

export interface FuncType {
  readonly kind: 'func';
  params: { name: string; type: ValType }[];
  result: ValType | undefined;
}

export type CoreType = 'i32' | 'i64' | 'f32' | 'f64';

/** A variant's cases, for every type laid out as one (option, result, enum, variant). */
export function casesOf(t: ValType): (ValType | undefined)[] {
  switch (t.kind) {
    case 'variant':
      return t.cases.map((c) => c.type);
    case 'option':
      return [undefined, t.type];
    case 'result':
      return [t.ok, t.err];
    case 'enum':
      return t.names.map(() => undefined);
    default:
      throw new Error(`${t.kind} is not a variant`);
  }
}

/** Bytes of a variant's discriminant. */
export function discriminantSize(n: number): 1 | 2 | 4 {
  return n <= 0x100 ? 1 : n <= 0x10000 ? 2 : 4;
}

function flagsSize(n: number): number {
  if (n === 0) return 0;
  return n <= 8 ? 1 : n <= 16 ? 2 : 4 * Math.ceil(n / 32);
}

const PRIMITIVE_SIZE: Record<Primitive, number> = {
  bool: 1, s8: 1, u8: 1, s16: 2, u16: 2, s32: 4, u32: 4, s64: 8, u64: 8, f32: 4, f64: 8, char: 4, string: 8,
};

export function alignment(t: ValType): number {
  switch (t.kind) {
    case 'string':
    case 'list':
    case 'own':
    case 'borrow':
      return 4;
    case 'record':
      return Math.max(1, ...t.fields.map((f) => alignment(f.type)));
    case 'tuple':
      return Math.max(1, ...t.types.map(alignment));
    case 'flags': {
      const s = flagsSize(t.names.length);
      return s === 0 ? 1 : Math.min(s, 4);
    }
    case 'variant':
    case 'option':
    case 'result':
    case 'enum':
      return Math.max(discriminantSize(casesOf(t).length), payloadAlignment(casesOf(t)));
    default:
      return PRIMITIVE_SIZE[t.kind];
  }
}

export function alignTo(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

export function sizeOf(t: ValType): number {
  switch (t.kind) {
    case 'string':
    case 'list':
      return 8;
    case 'own':
    case 'borrow':
      return 4;
    case 'record':
    case 'tuple': {
      let s = 0;
      for (const f of fieldTypes(t)) s = alignTo(s, alignment(f)) + sizeOf(f);
      return alignTo(s, alignment(t));
    }
    case 'flags':
      return flagsSize(t.names.length);
    case 'variant':
    case 'option':
    case 'result':
    case 'enum': {
      const cases = casesOf(t);
      let s: number = discriminantSize(cases.length);
      s = alignTo(s, payloadAlignment(cases));
      return alignTo(s + Math.max(0, ...cases.map((c) => (c ? sizeOf(c) : 0))), alignment(t));
    }
    default:
      return PRIMITIVE_SIZE[t.kind];
  }
}

export function payloadAlignment(cases: (ValType | undefined)[]): number {
  return Math.max(1, ...cases.map((c) => (c ? alignment(c) : 1)));
}

export function fieldTypes(t: ValType): ValType[] {
  if (t.kind === 'record') return t.fields.map((f) => f.type);
  if (t.kind === 'tuple') return t.types;
  throw new Error(`${t.kind} has no fields`);
}

export function flatten(t: ValType): CoreType[] {
  switch (t.kind) {
    case 'bool': case 's8': case 'u8': case 's16': case 'u16': case 's32': case 'u32': case 'char':
    case 'own': case 'borrow': case 'enum':
      return ['i32'];
    case 's64': case 'u64':
      return ['i64'];
    case 'f32':
      return ['f32'];
    case 'f64':
      return ['f64'];
    case 'string': case 'list':
      return ['i32', 'i32'];
    case 'record': case 'tuple':
      return fieldTypes(t).flatMap(flatten);
    case 'flags':
      return Array(Math.ceil(t.names.length / 32)).fill('i32');
    case 'variant': case 'option': case 'result':
      return flattenVariant(casesOf(t));
  }
}

export function flattenVariant(cases: (ValType | undefined)[]): CoreType[] {
  const flat: CoreType[] = [];
  for (const c of cases) {
    if (!c) continue;
    flatten(c).forEach((ft, i) => {
      flat[i] = i < flat.length ? join(flat[i], ft) : ft;
    });
  }
  return ['i32', ...flat];
}

function join(a: CoreType, b: CoreType): CoreType {
  if (a === b) return a;
  if ((a === 'i32' && b === 'f32') || (a === 'f32' && b === 'i32')) return 'i32';
  return 'i64';
}
