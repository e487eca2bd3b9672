/**
 * A component binary as read by decode.ts: each component (the root and every nested one) is a
 * list of definitions in binary order, each of which appends to one index space. Nothing is
 * resolved here; inline.ts walks the definitions to build the plan an instance runs.
 */

/** Index spaces of a component; the core ones are prefixed. */
export type Sort =
  | 'core func'
  | 'core table'
  | 'core memory'
  | 'core global'
  | 'core tag'
  | 'core type'
  | 'core module'
  | 'core instance'
  | 'func'
  | 'value'
  | 'type'
  | 'component'
  | 'instance';

export interface SortIndex {
  sort: Sort;
  index: number;
}

export interface ComponentAst {
  definitions: Definition[];
}

export type Definition =
  /** `module`: an index into the list of all core modules of the binary, in the order they appear. */
  | { kind: 'core module'; module: number }
  | { kind: 'core instance'; instance: CoreInstanceExpr }
  /** Core types are only skipped: nothing a component runs needs them. */
  | { kind: 'core type' }
  | { kind: 'component'; component: ComponentAst }
  | { kind: 'instance'; instance: InstanceExpr }
  | { kind: 'alias'; alias: Alias }
  | { kind: 'type'; type: TypeDef }
  | { kind: 'canon'; canon: Canon }
  | { kind: 'import'; name: string; desc: ExternDesc }
  | { kind: 'export'; name: string; item: SortIndex; desc: ExternDesc | undefined };

export type CoreInstanceExpr =
  | { kind: 'instantiate'; module: number; args: { name: string; instance: number }[] }
  | { kind: 'exports'; exports: { name: string; item: SortIndex }[] };

export type InstanceExpr =
  | { kind: 'instantiate'; component: number; args: { name: string; item: SortIndex }[] }
  | { kind: 'exports'; exports: { name: string; item: SortIndex }[] };

export type Alias =
  | { kind: 'export'; sort: Sort; instance: number; name: string }
  | { kind: 'core export'; sort: Sort; instance: number; name: string }
  | { kind: 'outer'; sort: Sort; count: number; index: number };

/** A value type: a primitive, or an index into the type index space. */
export type ValTypeRef = { kind: 'primitive'; primitive: PrimitiveName } | { kind: 'index'; index: number };

export type PrimitiveName = 'bool' | 's8' | 'u8' | 's16' | 'u16' | 's32' | 'u32' | 's64' | 'u64' | 'f32' | 'f64' | 'char' | 'string' | 'error-context';

export type DefValType =
  | { kind: 'primitive'; primitive: PrimitiveName }
  | { kind: 'record'; fields: { name: string; type: ValTypeRef }[] }
  | { kind: 'variant'; cases: { name: string; type: ValTypeRef | undefined }[] }
  | { kind: 'list'; elem: ValTypeRef; length: number | undefined }
  | { kind: 'tuple'; types: ValTypeRef[] }
  | { kind: 'flags'; names: string[] }
  | { kind: 'enum'; names: string[] }
  | { kind: 'option'; type: ValTypeRef }
  | { kind: 'result'; ok: ValTypeRef | undefined; err: ValTypeRef | undefined }
  | { kind: 'own' | 'borrow'; resource: number }
  | { kind: 'stream' | 'future'; type: ValTypeRef | undefined }
  | { kind: 'map'; key: ValTypeRef; value: ValTypeRef };

export type TypeDef =
  | { kind: 'value'; type: DefValType }
  | { kind: 'func'; params: { name: string; type: ValTypeRef }[]; result: ValTypeRef | undefined; async: boolean }
  | { kind: 'resource'; rep: number; dtor: number | undefined }
  | { kind: 'instance'; decls: Decl[] }
  | { kind: 'component'; decls: Decl[] };

/** A declaration inside an instance or component type. */
export type Decl =
  | { kind: 'core type' }
  | { kind: 'type'; type: TypeDef }
  | { kind: 'alias'; alias: Alias }
  | { kind: 'export'; name: string; desc: ExternDesc }
  | { kind: 'import'; name: string; desc: ExternDesc };

export type ExternDesc =
  | { sort: 'core module'; type: number }
  | { sort: 'func'; type: number }
  | { sort: 'value' }
  | { sort: 'type'; bound: { kind: 'eq'; type: number } | { kind: 'sub resource' } }
  | { sort: 'component'; type: number }
  | { sort: 'instance'; type: number };

export type StringEncoding = 'utf8' | 'utf16' | 'latin1+utf16';

export interface CanonOpts {
  encoding: StringEncoding;
  memory: number | undefined;
  realloc: number | undefined;
  postReturn: number | undefined;
  async: boolean;
  callback: number | undefined;
}

export type Canon =
  | { kind: 'lift'; core: number; type: number; opts: CanonOpts }
  | { kind: 'lower'; func: number; opts: CanonOpts }
  | { kind: 'resource.new' | 'resource.drop' | 'resource.rep'; resource: number }
  /** A built-in of the async ABI or threads, by its name: refused by the plan. */
  | { kind: 'unsupported'; name: string };

/** The index space a definition appends to, if any. */
export function sortOf(d: Definition): Sort | undefined {
  switch (d.kind) {
    case 'core module':
    case 'core instance':
    case 'core type':
    case 'component':
    case 'instance':
    case 'type':
      return d.kind;
    case 'alias':
      return d.alias.sort;
    case 'canon':
      return d.canon.kind === 'lift' ? 'func' : 'core func';
    case 'import':
      return d.desc.sort;
    case 'export':
      return d.item.sort;
  }
}
