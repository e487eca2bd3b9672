/**
 * Rewrites a core module so its host can stop it and cap its memory (the mechanism behind
 * `Limiter`):
 *
 * - a fuel counter (a new mutable i32 global) is decremented at every loop header and before
 *   every tail call; when it runs out, the module calls the host's `check` hook, which throws
 *   when the invocation is past its deadline or CPU budget and otherwise refuels. Every path
 *   that can run forever passes one of those points, so even `loop br 0` is interrupted;
 * - every `memory.grow` of a 32-bit memory is done by the host's `growMemory` hook, which
 *   answers the old size, or -1 (the growth fails, as the spec allows) when it would pass the
 *   instance's or the host's limit; every `memory.size` asks the `memorySize` hook. The host
 *   so keeps the size the guest sees, which may be less than the memory's: a memory restored
 *   for a new instance keeps the pages it grew into, zeroed, and shows the size a new instance
 *   has (see canon/restore.ts). A hook is told which memory by `(instance id << 8) | index`,
 *   the id being a new exported global the host sets per core instance;
 * - every `table.grow` first asks the `growTable` hook, which answers the delta to use:
 *   unchanged, or -1 (2^32 - 1 elements) so the growth fails;
 * - every `memory.fill` and `memory.copy` of 32-bit memories calls an added function that does
 *   it in metered chunks (see bulk-memory.ts): one instruction may touch gigabytes;
 * - the hooks are called through a new funcref table (`call_indirect`), so no function import is
 *   added and no existing index moves; the table, the fuel and id globals and every memory and
 *   table are exported under `__wasmhost_*` names for the host to reach (and the start
 *   function, which the host runs once the hooks are in place).
 *
 * Chosen by measurement over a watchdog on worker threads (a thread per instance costs
 * milliseconds and megabytes, and JSPI host calls cannot cross threads) and over checking a
 * clock at every loop (a host call per iteration). See bench/ for its cost.
 */
import { InvalidComponentError } from '../../errors.ts';
import { appendEntries, encodeName, readSections, Reader, SECTION, sleb, skipImportDesc, skipValType, uleb, writeModule, type Section } from '../wasm/codec.ts';
import { OP, readInstruction } from '../wasm/instructions.ts';
import { BULK_TYPE, copyHelper, fillHelper, type MeterIndices } from './bulk-memory.ts';

export const HOOK_EXPORTS = {
  fuel: '__wasmhost_fuel',
  id: '__wasmhost_id',
  start: '__wasmhost_start',
  hooks: '__wasmhost_hooks',
  memoryPrefix: '__wasmhost_memory',
  tablePrefix: '__wasmhost_table',
} as const;

/** Slots of the hooks table. */
export const HOOK_SLOT = { check: 0, growMemory: 1, growTable: 2, memorySize: 3 } as const;
const HOOK_COUNT = Object.keys(HOOK_SLOT).length;

const I32 = 0x7f;
const FUNCREF = 0x70;

interface ModuleLayout {
  types: number;
  funcs: number;
  tables: number;
  globals: number;
  /** Per memory index: whether it is 64-bit (its growth is not hooked: the hook takes i32). */
  memories: boolean[];
}

/** Answers the instrumented module; a module without code is returned unchanged. */
export function instrumentModule(bytes: Uint8Array): Uint8Array {
  const sections = readSections(bytes);
  if (!sections.some((s) => s.id === SECTION.code)) return bytes;
  const layout = readLayout(sections);
  const idx = {
    voidType: layout.types,
    growType: layout.types + 1,
    bulkType: layout.types + 2,
    hooksTable: layout.tables,
    fuel: layout.globals,
    id: layout.globals + 1,
  };

  // Types: () -> () for `check`, (i32, i32 memory or table) -> i32 for the others, and the
  // bulk memory helpers'.
  appendEntries(sections, SECTION.type, [[0x60, 0, 0], [0x60, 2, I32, I32, 1, I32], BULK_TYPE]);
  appendEntries(sections, SECTION.table, [[FUNCREF, 0x01, HOOK_COUNT, HOOK_COUNT]]);
  appendEntries(sections, SECTION.global, [
    [I32, 0x01, 0x41, 0x00, 0x0b],
    [I32, 0x01, 0x41, 0x00, 0x0b],
  ]);
  const exports: number[][] = [
    [...encodeName(HOOK_EXPORTS.fuel), 3, ...uleb(idx.fuel)],
    [...encodeName(HOOK_EXPORTS.id), 3, ...uleb(idx.id)],
    [...encodeName(HOOK_EXPORTS.hooks), 1, ...uleb(idx.hooksTable)],
    ...layout.memories.map((_, i) => [...encodeName(`${HOOK_EXPORTS.memoryPrefix}${i}`), 2, ...uleb(i)]),
    ...Array.from({ length: layout.tables }, (_, i) => [...encodeName(`${HOOK_EXPORTS.tablePrefix}${i}`), 1, ...uleb(i)]),
  ];
  // The start function runs at instantiation, before the host can fill the hooks table:
  // it is exported instead and run by the host right after (see canon/group.ts).
  const start = sections.findIndex((x) => x.id === SECTION.start);
  if (start !== -1) {
    const func = new Reader(sections[start].payload).uleb();
    exports.push([...encodeName(HOOK_EXPORTS.start), 0, ...uleb(func)]);
    sections.splice(start, 1);
  }
  appendEntries(sections, SECTION.export, exports);

  const code = sections.find((s) => s.id === SECTION.code)!;
  const rewritten = rewriteCode(code.payload, layout, idx);
  code.payload = rewritten.payload;
  appendEntries(sections, SECTION.function, rewritten.helpers.map(() => uleb(idx.bulkType)));
  return writeModule(bytes, sections);
}

function readLayout(sections: Section[]): ModuleLayout {
  const layout: ModuleLayout = { types: 0, funcs: 0, tables: 0, globals: 0, memories: [] };
  for (const s of sections) {
    const r = new Reader(s.payload);
    if (s.id === SECTION.type) layout.types = countTypes(r);
    else if (s.id === SECTION.import) {
      const n = r.uleb();
      for (let i = 0; i < n; i++) {
        r.name();
        r.name();
        const descAt = r.pos;
        const kind = skipImportDesc(r);
        if (kind === 0) layout.funcs++;
        else if (kind === 1) layout.tables++;
        else if (kind === 3) layout.globals++;
        else if (kind === 2) layout.memories.push((s.payload[descAt + 1] & 0x04) !== 0);
      }
    } else if (s.id === SECTION.function) layout.funcs += r.uleb();
    else if (s.id === SECTION.table) layout.tables += r.uleb();
    else if (s.id === SECTION.global) layout.globals += r.uleb();
    else if (s.id === SECTION.memory) {
      const n = r.uleb();
      for (let i = 0; i < n; i++) {
        layout.memories.push((r.peek() & 0x04) !== 0);
        r.limits();
      }
    } else if (s.id === SECTION.export) {
      const n = r.uleb();
      for (let i = 0; i < n; i++) {
        const name = r.name();
        if (name.startsWith('__wasmhost_')) throw new InvalidComponentError(`core module already exports ${name}, a name wasmhost reserves`);
        r.byte();
        r.uleb();
      }
    }
  }
  return layout;
}

/** Counts type indices: a recursive group (0x4e) holds several. */
function countTypes(r: Reader): number {
  let total = 0;
  const n = r.uleb();
  for (let i = 0; i < n; i++) {
    if (r.peek() === 0x4e) {
      r.pos++;
      const members = r.uleb();
      for (let j = 0; j < members; j++) skipSubType(r);
      total += members;
    } else {
      skipSubType(r);
      total++;
    }
  }
  return total;
}

function skipSubType(r: Reader): void {
  const b = r.peek();
  if (b === 0x50 || b === 0x4f) {
    r.pos++;
    const supers = r.uleb();
    for (let i = 0; i < supers; i++) r.uleb();
  }
  const form = r.byte();
  if (form === 0x60) {
    for (let k = 0; k < 2; k++) {
      const count = r.uleb();
      for (let i = 0; i < count; i++) skipValType(r);
    }
  } else if (form === 0x5f) {
    const fields = r.uleb();
    for (let i = 0; i < fields; i++) {
      skipValType(r);
      r.byte();
    }
  } else if (form === 0x5e) {
    skipValType(r);
    r.byte();
  } else {
    throw new InvalidComponentError(`unknown type form 0x${form.toString(16)} in a core module`);
  }
}

interface Indices {
  voidType: number;
  growType: number;
  bulkType: number;
  hooksTable: number;
  fuel: number;
  id: number;
}

/** The rewritten code section, with the bodies of the functions it added at its end. */
function rewriteCode(payload: Uint8Array, layout: ModuleLayout, idx: Indices): { payload: Uint8Array; helpers: number[][] } {
  const fuel = uleb(idx.fuel);
  const callHook = (slot: number, type: number) => [0x41, slot, 0x11, ...uleb(type), ...uleb(idx.hooksTable)];
  const meter: MeterIndices = { fuel: idx.fuel, check: callHook(HOOK_SLOT.check, idx.voidType) };
  // Bulk memory helpers, added after every existing function (so no index moves), one per memory (pair).
  const helpers: number[][] = [];
  const helperIndex = new Map<string, number>();
  const callHelper = (key: string, make: () => number[]) => {
    let index = helperIndex.get(key);
    if (index === undefined) {
      index = layout.funcs + helpers.length;
      helperIndex.set(key, index);
      helpers.push(make());
    }
    return Uint8Array.from([0x10, ...uleb(index)]);
  };
  const is32 = (memory: number) => memory < layout.memories.length && !layout.memories[memory];
  // fuel -= 1; if (fuel <= 0) check()
  const check = Uint8Array.from([
    0x23, ...fuel, 0x41, 0x01, 0x6b, 0x24, ...fuel,
    0x23, ...fuel, 0x41, 0x00, 0x4c, 0x04, 0x40, ...callHook(HOOK_SLOT.check, idx.voidType), 0x0b,
  ]);
  const growHook = (slot: number, index: number) => Uint8Array.from([0x41, ...sleb(index), ...callHook(slot, idx.growType)]);
  // Which memory: (id << 8) | index, the id set by the host per core instance.
  const memoryRef = (memory: number) => [0x23, ...uleb(idx.id), 0x41, 0x08, 0x74, ...(memory ? [0x41, ...sleb(memory), 0x72] : [])];
  // memory.grow: the delta is on the stack; the host grows and answers the old size or -1.
  const growMemory = (memory: number) => Uint8Array.from([...memoryRef(memory), ...callHook(HOOK_SLOT.growMemory, idx.growType)]);
  const memorySize = (memory: number) => Uint8Array.from([0x41, 0x00, ...memoryRef(memory), ...callHook(HOOK_SLOT.memorySize, idx.growType)]);

  const r = new Reader(payload);
  const count = r.uleb();
  const out: Uint8Array[] = [];
  for (let f = 0; f < count; f++) {
    const size = r.uleb();
    const end = r.pos + size;
    const body: Uint8Array[] = [];
    let copied = r.pos;
    const locals = r.uleb();
    for (let i = 0; i < locals; i++) {
      r.uleb();
      skipValType(r);
    }
    while (r.pos < end) {
      const at = r.pos;
      const op = readInstruction(r);
      if (op === OP.loop) {
        body.push(payload.subarray(copied, r.pos), check);
        copied = r.pos;
      } else if (op === 0x12 || op === 0x13 || op === 0x15) {
        // return_call*: a tail-recursive loop never grows the stack, so it is metered too.
        body.push(payload.subarray(copied, at), check);
        copied = at;
      } else if (op === OP.memoryGrow || op === OP.memorySize) {
        const memory = new Reader(payload, at + 1).uleb();
        if (memory < 256 && !layout.memories[memory]) {
          body.push(payload.subarray(copied, at), op === OP.memoryGrow ? growMemory(memory) : memorySize(memory));
          copied = r.pos;
        }
      } else if (op === OP.tableGrow) {
        const table = new Reader(payload, at + 2).uleb();
        body.push(payload.subarray(copied, at), growHook(HOOK_SLOT.growTable, table));
        copied = at;
      } else if (op === OP.memoryFill || op === OP.memoryCopy) {
        const imm = new Reader(payload, at + 1);
        imm.uleb();
        const first = imm.uleb();
        const second = op === OP.memoryCopy ? imm.uleb() : first;
        if (is32(first) && is32(second)) {
          const call = op === OP.memoryFill ? callHelper(`fill ${first}`, () => fillHelper(first, meter)) : callHelper(`copy ${first} ${second}`, () => copyHelper(first, second, meter));
          body.push(payload.subarray(copied, at), call);
          copied = r.pos;
        }
      }
    }
    if (r.pos !== end) throw new InvalidComponentError(`function ${f} of a core module ends inside an instruction`);
    body.push(payload.subarray(copied, end));
    const length = body.reduce((n, b) => n + b.length, 0);
    out.push(Uint8Array.from(uleb(length)), ...body);
  }
  out.unshift(Uint8Array.from(uleb(count + helpers.length)));
  out.push(...helpers.map((h) => Uint8Array.from(h)));
  return { payload: Buffer.concat(out), helpers };
}
