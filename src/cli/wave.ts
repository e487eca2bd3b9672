/**
 * A subset of WAVE (the WebAssembly Value Encoding that `wasmtime run --invoke` uses), written
 * by hand because no JavaScript package implements it. Supported: integers, floats (nan, inf,
 * -inf), bools, chars, strings with escapes, lists `[..]`, tuples `(..)`, records `{a: 1}`,
 * `some(x)` / `none`, `ok(x)` / `err(x)`, variant cases `case(x)` and enum/variant labels.
 * Values come out in jco's JavaScript conventions; 64-bit integer parameters are given as
 * bigint when the function's WIT signature says so.
 */
import { UsageError } from '../errors.ts';
import { camel } from '../engine/interface-name.ts';

export interface Invocation {
  name: string;
  args: unknown[];
}

/** Parses `name(arg, ...)` or a bare `name`. */
export function parseInvocation(text: string): Invocation {
  const m = /^\s*([A-Za-z0-9_:/@.#-]+)\s*(?:\((.*)\))?\s*$/s.exec(text);
  if (!m) throw new UsageError(`cannot parse --invoke ${JSON.stringify(text)}`, { hint: 'write it as name(arg, ...), e.g. add(1, 2)' });
  const args = m[2] === undefined || m[2].trim() === '' ? [] : new Parser(m[2]).list(undefined);
  return { name: m[1], args };
}

export function parseValue(text: string): unknown {
  const p = new Parser(text);
  const v = p.value();
  p.end();
  return v;
}

class Parser {
  #s: string;
  #i = 0;
  constructor(s: string) {
    this.#s = s;
  }

  /** Comma-separated values up to `close` (or the end of input when undefined). */
  list(close: string | undefined): unknown[] {
    const out: unknown[] = [];
    this.#ws();
    if (close && this.#peek() === close) {
      this.#i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.#ws();
      const c = this.#peek();
      if (c === ',') {
        this.#i++;
        this.#ws();
        if (close && this.#peek() === close) {
          this.#i++;
          return out;
        }
        continue;
      }
      if (close === undefined && c === undefined) return out;
      if (c === close) {
        this.#i++;
        return out;
      }
      this.#fail(`expected ',' or '${close ?? 'end'}'`);
    }
  }

  value(): unknown {
    this.#ws();
    const c = this.#peek();
    if (c === '"') return this.#string();
    if (c === "'") return this.#char();
    if (c === '[') {
      this.#i++;
      return this.list(']');
    }
    if (c === '(') {
      this.#i++;
      return this.list(')');
    }
    if (c === '{') return this.#record();
    if (c !== undefined && /[-0-9]/.test(c)) return this.#number();
    const label = /^[a-z][a-z0-9-]*|^%[a-z][a-z0-9-]*/.exec(this.#s.slice(this.#i));
    if (!label) this.#fail('expected a value');
    this.#i += label![0].length;
    const name = label![0].replace(/^%/, '');
    this.#ws();
    const payload = this.#peek() === '(' ? (this.#i++, this.list(')')) : undefined;
    const val = payload === undefined ? undefined : payload.length === 1 ? payload[0] : payload;
    switch (name) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'nan':
        return NaN;
      case 'inf':
        return Infinity;
      case 'none':
        return undefined;
      case 'some':
        return val;
      case 'ok':
      case 'err':
        return { tag: name, val };
      default:
        return payload === undefined ? name : { tag: name, val };
    }
  }

  end(): void {
    this.#ws();
    if (this.#i < this.#s.length) this.#fail('unexpected trailing input');
  }

  #record(): Record<string, unknown> {
    this.#i++;
    const out: Record<string, unknown> = {};
    this.#ws();
    while (this.#peek() !== '}') {
      const key = /^[a-z][a-z0-9-]*/.exec(this.#s.slice(this.#i));
      if (!key) this.#fail('expected a field name');
      this.#i += key![0].length;
      this.#ws();
      if (this.#peek() !== ':') this.#fail("expected ':'");
      this.#i++;
      out[camel(key![0])] = this.value();
      this.#ws();
      if (this.#peek() === ',') this.#i++;
      this.#ws();
      if (this.#peek() === undefined) this.#fail("expected '}'");
    }
    this.#i++;
    return out;
  }

  #number(): number | bigint {
    const m = /^-?(?:inf|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(this.#s.slice(this.#i));
    if (!m) this.#fail('expected a number');
    this.#i += m![0].length;
    if (m![0].endsWith('inf')) return -Infinity;
    const n = Number(m![0]);
    return Number.isSafeInteger(n) || !/^-?\d+$/.test(m![0]) ? n : BigInt(m![0]);
  }

  #string(): string {
    this.#i++;
    let out = '';
    for (;;) {
      const c = this.#s[this.#i++];
      if (c === undefined) this.#fail('unterminated string');
      if (c === '"') return out;
      out += c === '\\' ? this.#escape() : c;
    }
  }

  #char(): string {
    this.#i++;
    const c = this.#s[this.#i++];
    const ch = c === '\\' ? this.#escape() : c;
    if (this.#s[this.#i++] !== "'") this.#fail('unterminated char');
    return ch;
  }

  #escape(): string {
    const e = this.#s[this.#i++];
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };
    if (e in simple) return simple[e];
    if (e === 'u') {
      const m = /^\{([0-9a-fA-F]{1,6})\}/.exec(this.#s.slice(this.#i));
      if (!m) this.#fail('bad \\u{...} escape');
      this.#i += m![0].length;
      return String.fromCodePoint(parseInt(m![1], 16));
    }
    return this.#fail(`unknown escape \\${e}`);
  }

  #peek(): string | undefined {
    return this.#s[this.#i];
  }

  #ws(): void {
    while (/\s/.test(this.#s[this.#i] ?? '')) this.#i++;
  }

  #fail(why: string): never {
    throw new UsageError(`invalid WAVE value at position ${this.#i + 1} of ${JSON.stringify(this.#s)}: ${why}`);
  }
}

/** Formats a jco value as WAVE text. */
export function formatValue(v: unknown): string {
  if (v === undefined || v === null) return 'none';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array || Array.isArray(v)) return `[${Array.from(v as ArrayLike<unknown>, formatValue).join(', ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.tag === 'string' && Object.keys(o).every((k) => k === 'tag' || k === 'val')) {
      return o.val === undefined ? o.tag : `${o.tag}(${formatValue(o.val)})`;
    }
    const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    return `{${Object.entries(o).map(([k, x]) => `${kebab(k)}: ${formatValue(x)}`).join(', ')}}`;
  }
  return String(v);
}

/** Coerces integer arguments to bigint where the WIT parameter type is 64-bit. */
export function coerceArgs(args: unknown[], paramTypes: string[] | undefined): unknown[] {
  if (!paramTypes) return args;
  return args.map((a, i) => (/^[su]64$/.test(paramTypes[i] ?? '') && typeof a === 'number' ? BigInt(a) : a));
}

