/**
 * Any non-empty key as a NATS key-value key, reversibly. NATS allows `[-/_=.A-Za-z0-9]+` with no
 * `.` first or last (a key is the tail of a subject, `.` separates its tokens, so `..` is refused
 * too). Kept as they are: letters, digits, `-`, `/`, `_`, and a `.` that is neither first, nor
 * last, nor right after another `.` (so `user.42.name` stays itself, and NATS tools' token
 * wildcards work on it). Every other UTF-8 byte, `=` included, becomes `=XX` (upper-case hex).
 *
 * Hand-written because the client's `Base64KeyCodec` does not cover every string: it base64s each
 * `.`-separated token with `btoa`, which throws beyond Latin-1 and emits `+` (not a key
 * character), and it keeps the `.`s, so `.x`, `x.` and `a..b` stay invalid.
 */

/**
 * A key is part of a subject, and NATS closes the connection of a client whose protocol line
 * exceeds 4 KiB: bounded well below that, with room for the bucket name and a reply subject.
 */
export const MAX_ENCODED_KEY_LENGTH = 2048;

const KEPT = /^[A-Za-z0-9_/-]$/;
const ENCODED = /^(?:[A-Za-z0-9_/.-]|=[0-9A-F]{2})+$/;

/** The NATS key for `key`, or undefined when `key` is empty or not well-formed Unicode. */
export function encodeKey(key: string): string | undefined {
  if (key.length === 0 || !key.isWellFormed()) return undefined;
  let out = '';
  for (let i = 0; i < key.length; i++) {
    const char = key[i];
    if (KEPT.test(char) || (char === '.' && i > 0 && i < key.length - 1 && key[i - 1] !== '.')) {
      out += char;
      continue;
    }
    const codePoint = key.codePointAt(i)!;
    const text = String.fromCodePoint(codePoint);
    for (const byte of Buffer.from(text, 'utf8')) out += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    i += text.length - 1;
  }
  return out;
}

/** The key `encodeKey` made `encoded` from, or undefined for a key written some other way. */
export function decodeKey(encoded: string): string | undefined {
  if (!ENCODED.test(encoded)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    if (encoded[i] === '=') {
      bytes.push(Number.parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(encoded.charCodeAt(i));
    }
  }
  let key: string;
  try {
    key = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
  // Only the one canonical spelling is ours: `=41` is not how `A` is stored.
  return encodeKey(key) === encoded ? key : undefined;
}
