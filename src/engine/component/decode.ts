/**
 * Reads a component binary (Binary.md of the component model) into definitions, nested
 * components included, and lists every core module in the order they appear (depth first): the
 * plan refers to modules by that position, and the engine prepares them in the same order.
 *
 * Written by hand: jco exposes a component only as generated JavaScript or WIT text. Malformed
 * input is an `InvalidComponentError` naming the section and byte; valid constructs wasmhost
 * cannot run (a start function, values) are an `UnsupportedComponentError`. What the plan
 * refuses later (async built-ins, streams) is still read here, so that the error names it.
 */
import { InvalidComponentError, UnsupportedComponentError } from '../../errors.ts';
import { Reader, skipImportDesc, skipValType } from '../wasm/codec.ts';
import type { Alias, Canon, CanonOpts, ComponentAst, CoreInstanceExpr, Decl, DefValType, Definition, ExternDesc, InstanceExpr, PrimitiveName, Sort, SortIndex, TypeDef, ValTypeRef } from './ast.ts';

export interface DecodedComponent {
  root: ComponentAst;
  /** Every core module of the binary (views into its bytes), in order of appearance. */
  modules: Uint8Array[];
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
/** Nested components deeper than this are refused (a stack overflow is not an error message). */
const MAX_DEPTH = 100;

export function decodeComponent(bytes: Uint8Array): DecodedComponent {
  const modules: Uint8Array[] = [];
  const root = readComponent(bytes, 0, bytes.length, modules, 0);
  return { root, modules };
}

function readComponent(bytes: Uint8Array, start: number, end: number, modules: Uint8Array[], depth: number): ComponentAst {
  if (depth > MAX_DEPTH) throw new UnsupportedComponentError(`components nested more than ${MAX_DEPTH} deep`);
  if (end - start < 8 || MAGIC.some((b, i) => bytes[start + i] !== b)) throw invalid(start, 'not a component (no \\0asm preamble)');
  if (bytes[start + 6] !== 0x01 || bytes[start + 7] !== 0x00) throw invalid(start, 'a core module where a component was expected');
  if (bytes[start + 4] !== 0x0d || bytes[start + 5] !== 0x00) {
    throw invalid(start, `component binary version ${bytes[start + 4] | (bytes[start + 5] << 8)} (wasmhost reads version 0x0d)`);
  }
  const definitions: Definition[] = [];
  const r = new Reader(bytes.subarray(0, end), start + 8, 'component');
  while (r.pos < end) {
    const id = r.byte();
    const size = r.uleb();
    const payload = r.pos;
    if (size > end - payload) throw invalid(payload, `section ${id} claims ${size} bytes, but only ${end - payload} follow`);
    const sectionEnd = payload + size;
    const s = new Reader(bytes.subarray(0, sectionEnd), payload, 'component');
    const vec = (read: (s: Reader) => Definition) => {
      for (let n = s.uleb(); n > 0; n--) definitions.push(read(s));
    };
    try {
      switch (id) {
        case 0:
          s.pos = sectionEnd; // custom
          break;
        case 1:
          if (size < 8 || bytes[payload + 6] !== 0x00) throw invalid(payload, 'a core module section that holds no core module');
          modules.push(bytes.subarray(payload, sectionEnd));
          definitions.push({ kind: 'core module', module: modules.length - 1 });
          s.pos = sectionEnd;
          break;
        case 2:
          vec((s) => ({ kind: 'core instance', instance: readCoreInstance(s) }));
          break;
        case 3:
          vec((s) => (skipCoreType(s), { kind: 'core type' }));
          break;
        case 4:
          definitions.push({ kind: 'component', component: readComponent(bytes, payload, sectionEnd, modules, depth + 1) });
          s.pos = sectionEnd;
          break;
        case 5:
          vec((s) => ({ kind: 'instance', instance: readInstance(s) }));
          break;
        case 6:
          vec((s) => ({ kind: 'alias', alias: readAlias(s) }));
          break;
        case 7:
          vec((s) => ({ kind: 'type', type: readTypeDef(s) }));
          break;
        case 8:
          vec((s) => ({ kind: 'canon', canon: readCanon(s) }));
          break;
        case 9:
          throw new UnsupportedComponentError('a component start function (the value-passing `start` section)');
        case 10:
          vec((s) => {
            const name = readName(s);
            return { kind: 'import', name, desc: readExternDesc(s) };
          });
          break;
        case 11:
          vec((s) => {
            const name = readName(s);
            const item = readSortIndex(s);
            return { kind: 'export', name, item, desc: s.byte() === 0x01 ? readExternDesc(s) : undefined };
          });
          break;
        case 12:
          throw new UnsupportedComponentError('component values (the `value` section)');
        default:
          throw invalid(payload - 1, `unknown component section id ${id}`);
      }
    } catch (err) {
      if (err instanceof InvalidComponentError && !/ at byte /.test(err.message)) throw invalid(s.pos, `${err.message} in section ${id}`);
      throw err;
    }
    if (s.pos !== sectionEnd) throw invalid(s.pos, `section ${id} has ${sectionEnd - s.pos} bytes left over`);
    r.pos = sectionEnd;
  }
  return { definitions };
}

function invalid(at: number, message: string): InvalidComponentError {
  return new InvalidComponentError(`${message} at byte ${at}`);
}

function readName(s: Reader): string {
  const form = s.byte();
  if (form > 0x02) throw new InvalidComponentError(`unknown name form 0x${form.toString(16)}`);
  const name = s.name();
  if (form === 0x02) {
    // Attributes (implements, versionsuffix, external-id): none changes what runs.
    for (let n = s.uleb(); n > 0; n--) {
      const tag = s.byte();
      if (tag > 0x02) throw new InvalidComponentError(`unknown name attribute 0x${tag.toString(16)}`);
      s.name();
    }
  }
  return name;
}

const CORE_SORTS: Record<number, Sort> = {
  0x00: 'core func', 0x01: 'core table', 0x02: 'core memory', 0x03: 'core global', 0x04: 'core tag',
  0x10: 'core type', 0x11: 'core module', 0x12: 'core instance',
};
const SORTS: Record<number, Sort> = { 0x01: 'func', 0x02: 'value', 0x03: 'type', 0x04: 'component', 0x05: 'instance' };

function readSort(s: Reader): Sort {
  const b = s.byte();
  const sort = b === 0x00 ? CORE_SORTS[s.byte()] : SORTS[b];
  if (!sort) throw new InvalidComponentError(`unknown sort 0x${b.toString(16)}`);
  return sort;
}

function readCoreSort(s: Reader): Sort {
  const sort = CORE_SORTS[s.byte()];
  if (!sort) throw new InvalidComponentError('unknown core sort');
  return sort;
}

function readSortIndex(s: Reader): SortIndex {
  const sort = readSort(s);
  return { sort, index: s.uleb() };
}

function readCoreInstance(s: Reader): CoreInstanceExpr {
  const tag = s.byte();
  if (tag === 0x00) {
    const module = s.uleb();
    const args: { name: string; instance: number }[] = [];
    for (let n = s.uleb(); n > 0; n--) {
      const name = s.name();
      if (s.byte() !== 0x12) throw new InvalidComponentError(`core instantiation argument ${name} is not an instance`);
      args.push({ name, instance: s.uleb() });
    }
    return { kind: 'instantiate', module, args };
  }
  if (tag !== 0x01) throw new InvalidComponentError(`unknown core instance form 0x${tag.toString(16)}`);
  const exports: { name: string; item: SortIndex }[] = [];
  for (let n = s.uleb(); n > 0; n--) {
    const name = s.name();
    const sort = readCoreSort(s);
    exports.push({ name, item: { sort, index: s.uleb() } });
  }
  return { kind: 'exports', exports };
}

function readInstance(s: Reader): InstanceExpr {
  const tag = s.byte();
  if (tag === 0x00) {
    const component = s.uleb();
    const args: { name: string; item: SortIndex }[] = [];
    for (let n = s.uleb(); n > 0; n--) {
      const name = s.name();
      args.push({ name, item: readSortIndex(s) });
    }
    return { kind: 'instantiate', component, args };
  }
  if (tag !== 0x01) throw new InvalidComponentError(`unknown instance form 0x${tag.toString(16)}`);
  const exports: { name: string; item: SortIndex }[] = [];
  for (let n = s.uleb(); n > 0; n--) {
    const name = readName(s);
    exports.push({ name, item: readSortIndex(s) });
  }
  return { kind: 'exports', exports };
}

function readAlias(s: Reader): Alias {
  const sort = readSort(s);
  const target = s.byte();
  if (target === 0x00) return { kind: 'export', sort, instance: s.uleb(), name: s.name() };
  if (target === 0x01) return { kind: 'core export', sort, instance: s.uleb(), name: s.name() };
  if (target === 0x02) return { kind: 'outer', sort, count: s.uleb(), index: s.uleb() };
  throw new InvalidComponentError(`unknown alias target 0x${target.toString(16)}`);
}

function readExternDesc(s: Reader): ExternDesc {
  const tag = s.byte();
  switch (tag) {
    case 0x00:
      if (s.byte() !== 0x11) throw new InvalidComponentError('a core extern type that is not a module');
      return { sort: 'core module', type: s.uleb() };
    case 0x01:
      return { sort: 'func', type: s.uleb() };
    case 0x02:
      // Its encoding changed between versions of the format; values are refused either way.
      throw new UnsupportedComponentError('component values (a value import, export or type)');
    case 0x03: {
      const bound = s.byte();
      if (bound === 0x00) return { sort: 'type', bound: { kind: 'eq', type: s.uleb() } };
      if (bound === 0x01) return { sort: 'type', bound: { kind: 'sub resource' } };
      throw new InvalidComponentError(`unknown type bound 0x${bound.toString(16)}`);
    }
    case 0x04:
      return { sort: 'component', type: s.uleb() };
    case 0x05:
      return { sort: 'instance', type: s.uleb() };
    default:
      throw new InvalidComponentError(`unknown extern type 0x${tag.toString(16)}`);
  }
}

const PRIMITIVES: Record<number, PrimitiveName> = {
  0x7f: 'bool', 0x7e: 's8', 0x7d: 'u8', 0x7c: 's16', 0x7b: 'u16', 0x7a: 's32', 0x79: 'u32',
  0x78: 's64', 0x77: 'u64', 0x76: 'f32', 0x75: 'f64', 0x74: 'char', 0x73: 'string', 0x64: 'error-context',
};

/** A primitive (one byte 0x40-0x7f, which as a non-negative s33 index cannot occur) or a type index. */
function readValType(s: Reader): ValTypeRef {
  const b = s.peek();
  if (b >= 0x40 && b < 0x80) {
    s.byte();
    const primitive = PRIMITIVES[b];
    if (!primitive) throw new InvalidComponentError(`unknown value type 0x${b.toString(16)}`);
    return { kind: 'primitive', primitive };
  }
  return { kind: 'index', index: s.uleb() };
}

/** A vector: each element consumes bytes, so a count past the section's end fails as truncated input. */
function readVec<T>(s: Reader, read: () => T): T[] {
  const out: T[] = [];
  for (let n = s.uleb(); n > 0; n--) out.push(read());
  return out;
}

function readLabel(s: Reader): string {
  return s.name();
}

function readOptional<T>(s: Reader, read: () => T): T | undefined {
  const b = s.byte();
  if (b === 0x00) return undefined;
  if (b === 0x01) return read();
  throw new InvalidComponentError(`malformed optional 0x${b.toString(16)}`);
}

function readTypeDef(s: Reader): TypeDef {
  const tag = s.peek();
  const vec = <T>(read: () => T): T[] => readVec(s, read);
  switch (tag) {
    case 0x40:
    case 0x43: {
      s.byte();
      const params = vec(() => ({ name: readLabel(s), type: readValType(s) }));
      const form = s.byte();
      let result: ValTypeRef | undefined;
      if (form === 0x00) result = readValType(s);
      else if (form !== 0x01 || s.byte() !== 0x00) throw new InvalidComponentError('malformed function result list');
      return { kind: 'func', params, result, async: tag === 0x43 };
    }
    case 0x41:
      s.byte();
      return { kind: 'component', decls: vec(() => readDecl(s, true)) };
    case 0x42:
      s.byte();
      return { kind: 'instance', decls: vec(() => readDecl(s, false)) };
    case 0x3f: {
      s.byte();
      const rep = s.byte();
      if (rep !== 0x7f) throw new UnsupportedComponentError('a resource whose representation is not i32');
      return { kind: 'resource', rep, dtor: readOptional(s, () => s.uleb()) };
    }
    default:
      return { kind: 'value', type: readDefValType(s) };
  }
}

function readDefValType(s: Reader): DefValType {
  const tag = s.byte();
  const vec = <T>(read: () => T): T[] => readVec(s, read);
  const val = () => readValType(s);
  switch (tag) {
    case 0x72:
      return { kind: 'record', fields: vec(() => ({ name: readLabel(s), type: val() })) };
    case 0x71:
      return {
        kind: 'variant',
        cases: vec(() => {
          const c = { name: readLabel(s), type: readOptional(s, val) };
          if (s.byte() !== 0x00) throw new InvalidComponentError('a variant case refinement (removed from the component model)');
          return c;
        }),
      };
    case 0x70:
      return { kind: 'list', elem: val(), length: undefined };
    case 0x67: {
      const elem = val();
      return { kind: 'list', elem, length: s.uleb() };
    }
    case 0x6f:
      return { kind: 'tuple', types: vec(val) };
    case 0x6e:
      return { kind: 'flags', names: vec(() => readLabel(s)) };
    case 0x6d:
      return { kind: 'enum', names: vec(() => readLabel(s)) };
    case 0x6b:
      return { kind: 'option', type: val() };
    case 0x6a: {
      const ok = readOptional(s, val);
      return { kind: 'result', ok, err: readOptional(s, val) };
    }
    case 0x69:
      return { kind: 'own', resource: s.uleb() };
    case 0x68:
      return { kind: 'borrow', resource: s.uleb() };
    case 0x66:
      return { kind: 'stream', type: readOptional(s, val) };
    case 0x65:
      return { kind: 'future', type: readOptional(s, val) };
    case 0x63: {
      const key = val();
      return { kind: 'map', key, value: val() };
    }
    default: {
      const primitive = PRIMITIVES[tag];
      if (primitive) return { kind: 'primitive', primitive };
      throw new InvalidComponentError(`unknown type form 0x${tag.toString(16)}`);
    }
  }
}

function readDecl(s: Reader, inComponentType: boolean): Decl {
  const tag = s.byte();
  switch (tag) {
    case 0x00:
      skipCoreType(s);
      return { kind: 'core type' };
    case 0x01:
      return { kind: 'type', type: readTypeDef(s) };
    case 0x02:
      return { kind: 'alias', alias: readAlias(s) };
    case 0x03:
      if (!inComponentType) throw new InvalidComponentError('an import declaration in an instance type');
      return { kind: 'import', name: readName(s), desc: readExternDesc(s) };
    case 0x04:
      return { kind: 'export', name: readName(s), desc: readExternDesc(s) };
    default:
      throw new InvalidComponentError(`unknown type declaration 0x${tag.toString(16)}`);
  }
}

/** Skips a core type: a function type, a module type, or (refused) a GC type. */
function skipCoreType(s: Reader): void {
  const tag = s.byte();
  if (tag === 0x60) {
    for (let n = s.uleb(); n > 0; n--) skipValType(s);
    for (let n = s.uleb(); n > 0; n--) skipValType(s);
    return;
  }
  if (tag === 0x50) {
    for (let n = s.uleb(); n > 0; n--) {
      const decl = s.byte();
      if (decl === 0x00) {
        s.name();
        s.name();
        skipImportDesc(s);
      } else if (decl === 0x01) skipCoreType(s);
      else if (decl === 0x02) {
        if (s.byte() !== 0x10 || s.byte() !== 0x01) throw new InvalidComponentError('malformed core alias in a module type');
        s.uleb();
        s.uleb();
      } else if (decl === 0x03) {
        s.name();
        skipImportDesc(s);
      } else throw new InvalidComponentError(`unknown module type declaration 0x${decl.toString(16)}`);
    }
    return;
  }
  throw new UnsupportedComponentError(`a core type of form 0x${tag.toString(16)} (GC types in a component)`);
}

function readCanon(s: Reader): Canon {
  const tag = s.byte();
  switch (tag) {
    case 0x00: {
      if (s.byte() !== 0x00) throw new InvalidComponentError('malformed canon lift');
      const core = s.uleb();
      const opts = readOpts(s);
      return { kind: 'lift', core, type: s.uleb(), opts };
    }
    case 0x01: {
      if (s.byte() !== 0x00) throw new InvalidComponentError('malformed canon lower');
      const func = s.uleb();
      return { kind: 'lower', func, opts: readOpts(s) };
    }
    case 0x02:
      return { kind: 'resource.new', resource: s.uleb() };
    case 0x03:
      return { kind: 'resource.drop', resource: s.uleb() };
    case 0x07: // the pre-0.3 encoding of an async resource.drop
      return (s.uleb(), { kind: 'unsupported', name: 'resource.drop async' });
    case 0x04:
      return { kind: 'resource.rep', resource: s.uleb() };
    default:
      return { kind: 'unsupported', name: skipAsyncBuiltin(s, tag) };
  }
}

/** Skips the immediates of an async-ABI or thread built-in; answers its name for the error. */
function skipAsyncBuiltin(s: Reader, tag: number): string {
  const cancellable = () => s.byte();
  switch (tag) {
    case 0x24: return 'backpressure.inc';
    case 0x25: return 'backpressure.dec';
    case 0x08: return (s.byte(), 'backpressure.set');
    case 0x09: {
      const form = s.byte();
      if (form === 0x00) readValType(s);
      else s.byte();
      readOpts(s);
      return 'task.return';
    }
    case 0x05: return 'task.cancel';
    case 0x0a: return (s.byte(), s.uleb(), 'context.get');
    case 0x0b: return (s.byte(), s.uleb(), 'context.set');
    case 0x06: return (s.byte(), 'subtask.cancel');
    case 0x0d: return 'subtask.drop';
    case 0x0e: return (s.uleb(), 'stream.new');
    case 0x0f: return (s.uleb(), readOpts(s), 'stream.read');
    case 0x10: return (s.uleb(), readOpts(s), 'stream.write');
    case 0x11: return (s.uleb(), s.byte(), 'stream.cancel-read');
    case 0x12: return (s.uleb(), s.byte(), 'stream.cancel-write');
    case 0x13: return (s.uleb(), 'stream.drop-readable');
    case 0x14: return (s.uleb(), 'stream.drop-writable');
    case 0x15: return (s.uleb(), 'future.new');
    case 0x16: return (s.uleb(), readOpts(s), 'future.read');
    case 0x17: return (s.uleb(), readOpts(s), 'future.write');
    case 0x18: return (s.uleb(), s.byte(), 'future.cancel-read');
    case 0x19: return (s.uleb(), s.byte(), 'future.cancel-write');
    case 0x1a: return (s.uleb(), 'future.drop-readable');
    case 0x1b: return (s.uleb(), 'future.drop-writable');
    case 0x1c: return (readOpts(s), 'error-context.new');
    case 0x1d: return (readOpts(s), 'error-context.debug-message');
    case 0x1e: return 'error-context.drop';
    case 0x1f: return 'waitable-set.new';
    case 0x20: return (cancellable(), s.uleb(), 'waitable-set.wait');
    case 0x21: return (cancellable(), s.uleb(), 'waitable-set.poll');
    case 0x22: return 'waitable-set.drop';
    case 0x23: return 'waitable.join';
    case 0x0c: return (cancellable(), 'thread.yield');
    case 0x26: return 'thread.index';
    case 0x27: return (s.uleb(), s.uleb(), 'thread.new-indirect');
    case 0x28: return 'thread.resume-later';
    case 0x29: return (cancellable(), 'thread.suspend');
    case 0x2a: return (cancellable(), 'thread.suspend-then-resume');
    case 0x2b: return (cancellable(), 'thread.yield-then-resume');
    case 0x2c: return (cancellable(), 'thread.suspend-then-promote');
    case 0x2d: return (cancellable(), 'thread.yield-then-promote');
    case 0x40: return (s.byte(), s.uleb(), 'thread.spawn-ref');
    case 0x41: return (s.byte(), s.uleb(), s.uleb(), 'thread.spawn-indirect');
    case 0x42: return (s.byte(), 'thread.available-parallelism');
    default:
      throw new InvalidComponentError(`unknown canonical built-in 0x${tag.toString(16)}`);
  }
}

function readOpts(s: Reader): CanonOpts {
  const opts: CanonOpts = { encoding: 'utf8', memory: undefined, realloc: undefined, postReturn: undefined, async: false, callback: undefined };
  for (let n = s.uleb(); n > 0; n--) {
    const tag = s.byte();
    switch (tag) {
      case 0x00:
        opts.encoding = 'utf8';
        break;
      case 0x01:
        opts.encoding = 'utf16';
        break;
      case 0x02:
        opts.encoding = 'latin1+utf16';
        break;
      case 0x03:
        opts.memory = s.uleb();
        break;
      case 0x04:
        opts.realloc = s.uleb();
        break;
      case 0x05:
        opts.postReturn = s.uleb();
        break;
      case 0x06:
        opts.async = true;
        break;
      case 0x07:
        opts.callback = s.uleb();
        break;
      default:
        throw new InvalidComponentError(`unknown canonical option 0x${tag.toString(16)}`);
    }
  }
  return opts;
}
