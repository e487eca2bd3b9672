/**
 * PostgreSQL's array literal (`{1,2,"a \"b\"",NULL}`), one dimension, comma-delimited (every type
 * the plugin carries uses the comma). Elements are always written quoted, so no element text can
 * end the literal early or be read as NULL.
 */

/** An array the WIT cannot carry (more than one dimension) or text that is no array literal. */
export class ArrayFormatError extends Error {}

export function arrayLiteral(elements: readonly (string | null)[]): string {
  return `{${elements.map((e) => (e === null ? 'NULL' : `"${e.replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`;
}

/** The elements of a one-dimensional array as PostgreSQL prints it (with or without `[l:u]=` bounds). */
export function parseArray(text: string): (string | null)[] {
  let i = 0;
  if (text[0] === '[') {
    // Explicit bounds: `[2:3]={...}`; one dimension only.
    const eq = text.indexOf('=');
    if (eq < 0 || /\]\[/.test(text.slice(0, eq))) throw new ArrayFormatError('arrays of more than one dimension are not supported');
    i = eq + 1;
  }
  if (text[i] !== '{') throw new ArrayFormatError(`not an array literal: ${JSON.stringify(text.slice(0, 40))}`);
  i++;
  const out: (string | null)[] = [];
  if (text[i] === '}' && i === text.length - 1) return out;
  for (;;) {
    if (text[i] === '{') throw new ArrayFormatError('arrays of more than one dimension are not supported');
    let value = '';
    let quoted = false;
    if (text[i] === '"') {
      quoted = true;
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++;
        value += text[i++];
      }
      if (i >= text.length) throw new ArrayFormatError('unterminated quoted array element');
      i++;
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '}') {
        if (text[i] === '\\') i++;
        value += text[i++];
      }
      value = value.trim();
    }
    out.push(!quoted && value.toUpperCase() === 'NULL' ? null : value);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === '}' && i === text.length - 1) return out;
    throw new ArrayFormatError(`malformed array literal: ${JSON.stringify(text.slice(0, 40))}`);
  }
}
