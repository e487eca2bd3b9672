/**
 * Decoding of instruction immediates, so code can be walked one instruction at a time.
 * Covers the core spec with the proposals V8 ships (bulk memory, reference types, SIMD,
 * relaxed SIMD, threads, exception handling in both encodings, tail calls, typed function
 * references, GC). An opcode outside these fails loudly rather than desynchronising.
 */
import { InvalidComponentError } from '../../errors.ts';
import { Reader, skipValType } from './codec.ts';

/** Prefixed opcodes are returned as `prefix << 16 | subopcode`. */
export const OP = {
  loop: 0x03,
  memorySize: 0x3f,
  memoryGrow: 0x40,
  memoryCopy: (0xfc << 16) | 10,
  memoryFill: (0xfc << 16) | 11,
  tableGrow: (0xfc << 16) | 15,
} as const;

/** Reads one instruction, leaving `r` after its immediates; answers its opcode. */
export function readInstruction(r: Reader): number {
  const op = r.byte();
  switch (op) {
    case 0x02: // block
    case 0x03: // loop
    case 0x04: // if
    case 0x06: // try (legacy exceptions)
      skipBlockType(r);
      return op;
    case 0x07: // catch tag
    case 0x08: // throw tag
    case 0x09: // rethrow label
    case 0x0c: // br
    case 0x0d: // br_if
    case 0x10: // call
    case 0x12: // return_call
    case 0x14: // call_ref type
    case 0x15: // return_call_ref type
    case 0x18: // delegate label
    case 0x20: // local.get
    case 0x21: // local.set
    case 0x22: // local.tee
    case 0x23: // global.get
    case 0x24: // global.set
    case 0x25: // table.get
    case 0x26: // table.set
    case 0x3f: // memory.size
    case 0x40: // memory.grow
    case 0xd2: // ref.func
    case 0xd5: // br_on_null
    case 0xd6: // br_on_non_null
      r.uleb();
      return op;
    case 0x0e: {
      // br_table: labels + default
      const n = r.uleb();
      for (let i = 0; i <= n; i++) r.uleb();
      return op;
    }
    case 0x11: // call_indirect type table
    case 0x13: // return_call_indirect
      r.uleb();
      r.uleb();
      return op;
    case 0x1c: {
      // select with types
      const n = r.uleb();
      for (let i = 0; i < n; i++) skipValType(r);
      return op;
    }
    case 0x1f: {
      // try_table: block type + catch clauses
      skipBlockType(r);
      const n = r.uleb();
      for (let i = 0; i < n; i++) {
        const kind = r.byte();
        if (kind === 0x00 || kind === 0x01) r.uleb(); // tag
        r.uleb(); // label
      }
      return op;
    }
    case 0x41: // i32.const
    case 0x42: // i64.const
      r.skipLeb();
      return op;
    case 0x43:
      r.skip(4);
      return op;
    case 0x44:
      r.skip(8);
      return op;
    case 0xd0: // ref.null heap type
      r.skipLeb();
      return op;
    case 0xfb:
      return (op << 16) | gc(r);
    case 0xfc:
      return (op << 16) | misc(r);
    case 0xfd:
      return (op << 16) | simd(r);
    case 0xfe:
      return (op << 16) | atomic(r);
    default:
      if (op >= 0x28 && op <= 0x3e) {
        memarg(r);
        return op;
      }
      if (NO_IMMEDIATE.has(op) || (op >= 0x45 && op <= 0xc4)) return op;
      throw new InvalidComponentError(`unknown instruction 0x${op.toString(16)} at byte ${r.pos - 1} of a core module`);
  }
}

const NO_IMMEDIATE = new Set([0x00, 0x01, 0x05, 0x0a, 0x0b, 0x0f, 0x19, 0x1a, 0x1b, 0xd1, 0xd3, 0xd4]);

/** `0x40` (none), a value type, or a type index (s33). */
function skipBlockType(r: Reader): void {
  const b = r.peek();
  if (b === 0x40) r.pos++;
  else if (b === 0x63 || b === 0x64) skipValType(r);
  else if (b >= 0x40 && b < 0x80) r.pos++; // a one-byte value type (negative s33)
  else r.skipLeb();
}

/** align (bit 6: a memory index follows), then offset. */
function memarg(r: Reader): void {
  const align = r.uleb();
  if (align & 0x40) r.uleb();
  r.skipLeb();
}

function misc(r: Reader): number {
  const sub = r.uleb();
  if (sub <= 7) return sub; // saturating truncations
  switch (sub) {
    case 8: // memory.init data mem
    case 10: // memory.copy mem mem
    case 12: // table.init elem table
    case 14: // table.copy table table
      r.uleb();
      r.uleb();
      return sub;
    case 9: // data.drop
    case 11: // memory.fill
    case 13: // elem.drop
    case 15: // table.grow
    case 16: // table.size
    case 17: // table.fill
      r.uleb();
      return sub;
    default:
      throw new InvalidComponentError(`unknown instruction 0xfc ${sub} in a core module`);
  }
}

function simd(r: Reader): number {
  const sub = r.uleb();
  if (sub <= 11 || sub === 92 || sub === 93) memarg(r);
  else if (sub === 12 || sub === 13) r.skip(16); // v128.const, i8x16.shuffle
  else if (sub >= 21 && sub <= 34) r.skip(1); // lane index
  else if (sub >= 84 && sub <= 91) {
    memarg(r);
    r.skip(1);
  }
  return sub;
}

function atomic(r: Reader): number {
  const sub = r.uleb();
  if (sub === 3) r.skip(1); // atomic.fence
  else memarg(r);
  return sub;
}

function gc(r: Reader): number {
  const sub = r.uleb();
  switch (sub) {
    case 0: // struct.new
    case 1: // struct.new_default
    case 6: // array.new
    case 7: // array.new_default
    case 11: // array.get
    case 12:
    case 13:
    case 14: // array.set
    case 16: // array.fill
      r.uleb();
      return sub;
    case 2: // struct.get type field
    case 3:
    case 4:
    case 5: // struct.set
    case 8: // array.new_fixed type n
    case 9: // array.new_data type data
    case 10: // array.new_elem type elem
    case 17: // array.copy type type
    case 18: // array.init_data
    case 19: // array.init_elem
      r.uleb();
      r.uleb();
      return sub;
    case 20: // ref.test ht
    case 21: // ref.test null ht
    case 22: // ref.cast ht
    case 23: // ref.cast null ht
      r.skipLeb();
      return sub;
    case 24: // br_on_cast flags label ht ht
    case 25: // br_on_cast_fail
      r.skip(1);
      r.uleb();
      r.skipLeb();
      r.skipLeb();
      return sub;
    default:
      if (sub === 15 || (sub >= 26 && sub <= 30)) return sub; // array.len, conversions, i31
      throw new InvalidComponentError(`unknown instruction 0xfb ${sub} in a core module`);
  }
}
