/**
 * Strings across the canonical ABI in its three encodings (CanonicalABI.md, `load_string` and
 * `store_string`): the JavaScript string is the value between two sides, so every transfer is a
 * decode on one side and an encode on the other. Invalid code units trap, as the spec says.
 *
 * - utf8: bytes; the length counts bytes.
 * - utf16: little-endian code units at an even address; the length counts code units.
 * - latin1+utf16: Latin-1 bytes, or (bit 31 of the length set) UTF-16 code units, at an even address.
 */
import { alloc, checkRange, trap, type Cx } from './cx.ts';

const MAX_STRING_BYTES = (1 << 28) - 1;
const UTF16_TAG = 0x8000_0000;

// ignoreBOM: a string that starts with U+FEFF keeps it (by default a decoder drops it).
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });
const utf16Decoder = new TextDecoder('utf-16le', { ignoreBOM: true, fatal: true });
const encoder = new TextEncoder();

export type LoadString = (cx: Cx, ptr: number, units: number) => string;
export type StoreString = (cx: Cx, value: unknown) => [ptr: number, units: number];

export function stringCodec(encoding: 'utf8' | 'utf16' | 'latin1+utf16'): { load: LoadString; store: StoreString } {
  switch (encoding) {
    case 'utf8':
      return { load: loadUtf8, store: storeUtf8 };
    case 'utf16':
      return { load: loadUtf16, store: storeUtf16 };
    case 'latin1+utf16':
      return { load: loadCompact, store: storeCompact };
  }
}

function decode(decoder: TextDecoder, cx: Cx, ptr: number, bytes: number, what: string): string {
  if (bytes > MAX_STRING_BYTES) trap(`a string of ${bytes} bytes is longer than the canonical ABI allows`);
  checkRange(cx, ptr, bytes);
  try {
    return decoder.decode(new Uint8Array(cx.memory!.buffer, ptr, bytes));
  } catch {
    trap(`the guest passed invalid ${what} at ${ptr}`);
  }
}

function loadUtf8(cx: Cx, ptr: number, len: number): string {
  return decode(utf8Decoder, cx, ptr, len, 'UTF-8');
}

function loadUtf16(cx: Cx, ptr: number, units: number): string {
  if (ptr & 1) trap(`misaligned UTF-16 string pointer ${ptr}`);
  return decode(utf16Decoder, cx, ptr, units * 2, 'UTF-16');
}

function loadCompact(cx: Cx, ptr: number, tagged: number): string {
  if (ptr & 1) trap(`misaligned latin1+utf16 string pointer ${ptr}`);
  if (tagged & UTF16_TAG) return decode(utf16Decoder, cx, ptr, (tagged ^ UTF16_TAG) * 2, 'UTF-16');
  if (tagged > MAX_STRING_BYTES) trap(`a string of ${tagged} bytes is longer than the canonical ABI allows`);
  checkRange(cx, ptr, tagged);
  return latin1(new Uint8Array(cx.memory!.buffer, ptr, tagged));
}

/** Latin-1 bytes as a string (TextDecoder's "latin1" is windows-1252, which maps 0x80-0x9f elsewhere). */
function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x2000) s += String.fromCharCode(...bytes.subarray(i, i + 0x2000));
  return s;
}

function asString(v: unknown): string {
  if (typeof v !== 'string') throw new TypeError(`expected a string, got ${typeof v}`);
  // A lone surrogate is not a Unicode scalar value: it is replaced, as TextEncoder does.
  return v.isWellFormed() ? v : v.toWellFormed();
}

function storeUtf8(cx: Cx, v: unknown): [number, number] {
  if (typeof v !== 'string') throw new TypeError(`expected a string, got ${typeof v}`);
  const bytes = encoder.encode(v);
  const ptr = alloc(cx, 1, bytes.length);
  new Uint8Array(cx.memory!.buffer, ptr, bytes.length).set(bytes);
  return [ptr, bytes.length];
}

function writeUtf16(cx: Cx, ptr: number, s: string): void {
  const dv = new DataView(cx.memory!.buffer, ptr, s.length * 2);
  for (let i = 0; i < s.length; i++) dv.setUint16(i * 2, s.charCodeAt(i), true);
}

function storeUtf16(cx: Cx, v: unknown): [number, number] {
  const s = asString(v);
  const ptr = alloc(cx, 2, s.length * 2);
  writeUtf16(cx, ptr, s);
  return [ptr, s.length];
}

/** Latin-1 when every code unit fits in a byte, else UTF-16 with the tag (the spec's result, in one allocation when possible). */
function storeCompact(cx: Cx, v: unknown): [number, number] {
  const s = asString(v);
  let wide = false;
  for (let i = 0; i < s.length && !wide; i++) wide = s.charCodeAt(i) > 0xff;
  if (wide) {
    const ptr = alloc(cx, 2, s.length * 2);
    writeUtf16(cx, ptr, s);
    return [ptr, (s.length | UTF16_TAG) >>> 0];
  }
  const ptr = alloc(cx, 2, s.length);
  const bytes = new Uint8Array(cx.memory!.buffer, ptr, s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return [ptr, s.length];
}
