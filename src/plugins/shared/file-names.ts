/**
 * Any string as one safe file name, reversibly: lower-case letters, digits, `_`, `-` and (after
 * the first character) `.` stay as they are; every other UTF-8 byte becomes `%XX` (upper-case
 * hex). So a name holds no `/`, `\` or NUL, is never `.` or `..`, never starts with `.` (such
 * names are left for the store's own files), and two names never differ only by case, which
 * case-insensitive file systems would merge.
 */
const KEPT_FIRST = /^[a-z0-9_-]$/;
const KEPT = /^[a-z0-9_.-]$/;
const ENCODED = /^(?:[a-z0-9_-]|%[0-9A-F]{2})(?:[a-z0-9_.-]|%[0-9A-F]{2})*$/;

/** Most file systems allow 255 bytes per name. */
export const MAX_FILE_NAME_BYTES = 255;

/** The file name for `name`, or undefined when it is empty or would be too long. */
export function encodeFileName(name: string): string | undefined {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += (out.length === 0 ? KEPT_FIRST : KEPT).test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out.length > 0 && out.length <= MAX_FILE_NAME_BYTES ? out : undefined;
}

/** The name a file name stands for, or undefined when the file is not one of ours. */
export function decodeFileName(file: string): string | undefined {
  if (!ENCODED.test(file)) return undefined;
  try {
    return decodeURIComponent(file);
  } catch {
    return undefined;
  }
}

/** Why a store name (a bucket, a container, an object) is unusable: empty, too long, control characters. */
export function nameProblem(name: string, maxLength: number): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > maxLength) return `it is longer than ${maxLength} characters`;
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it contains a control character';
  return undefined;
}
