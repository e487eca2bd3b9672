/**
 * WAVE (the WebAssembly Value Encoding that `wasmtime run --invoke` uses), written by hand
 * because no JavaScript package implements it. Text is parsed into a syntax tree first; the
 * export's type (`CompiledComponent.exportedFunction`) then says what each value must be, so
 * arity, kinds and integer ranges are checked against it and a mistake names what was expected.
 * Values come out in jco's JavaScript conventions (64-bit integers as bigint, records with
 * camelCase fields, variants as `{tag, val}`, options as value or undefined), and results are
 * formatted back as WAVE by their type.
 *
 * Supported: integers, floats (`nan`, `inf`, `-inf`), bools, chars, strings with escapes, lists
 * `[..]`, tuples `(..)`, records `{a: 1}` (option fields may be left out), flags `{a, b}`,
 * `some(x)` / `none`, `ok(x)` / `err(x)`, enum cases and variant cases `case(x)`; a label that is
 * also a keyword is written `%true`. Resources cannot be written.
 */
import { UsageError } from '../errors.ts';
import { camel, type FuncType, type ValType } from '../engine.ts';

/** A value as written, before its type is known; `at` and `end` delimit it in the text. */
export type WaveNode = WaveShape & { at: number; end: number };

type WaveShape =
  | { kind: 'number'; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'char'; value: string }
  | { kind: 'list'; items: WaveNode[] }
  | { kind: 'tuple'; items: WaveNode[] }
  | { kind: 'record'; fields: { name: string; value: WaveNode }[] }
  | { kind: 'flags'; names: string[] }
  /** `true`, `none`, `red`, `some(1)`, `circle(2.5)`; `escaped` when written `%name`. */
  | { kind: 'label'; name: string; escaped: boolean; payload: WaveNode[] | undefined };

export interface Invocation {
  /** `add`, or an interface function `wasi:cli/run#run` (any version matches). */
  name: string;
  args: WaveNode[];
  /** The text the arguments were parsed from, for error positions. */
  text: string;
}

/** Parses `name(arg, ...)` or a bare `name`. */
export function parseInvocation(text: string): Invocation {
  const m = /^\s*([A-Za-z0-9_:/@.#%-]+)\s*(?:\((.*)\))?\s*$/s.exec(text);
  if (!m) throw new UsageError(`cannot parse --invoke ${JSON.stringify(text)}`, { hint: 'write it as name(arg, ...), e.g. add(1, 2)' });
  const inner = m[2] ?? '';
  const args = inner.trim() === '' ? [] : new Parser(inner).list(undefined);
  return { name: m[1], args, text: inner };
}

/** Parses one value. */
export function parseValue(text: string): WaveNode {
  const p = new Parser(text);
  const v = p.value();
  p.end();
  return v;
}

const KEYWORDS = new Set(['true', 'false', 'some', 'none', 'ok', 'err', 'inf', 'nan']);

class Parser {
  #s: string;
  #i = 0;
  constructor(s: string) {
    this.#s = s;
  }

  /** Comma-separated values up to `close` (or the end of input when undefined); a trailing comma is allowed. */
  list(close: string | undefined): WaveNode[] {
    const out: WaveNode[] = [];
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
        if (!close && this.#peek() === undefined) return out;
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

  value(): WaveNode {
    this.#ws();
    const node = this.#value();
    return { ...node, end: this.#i };
  }

  #value(): WaveShape & { at: number } {
    const at = this.#i;
    const c = this.#peek();
    if (c === '"') return { at, kind: 'string', value: this.#string() };
    if (c === "'") return { at, kind: 'char', value: this.#char() };
    if (c === '[') {
      this.#i++;
      return { at, kind: 'list', items: this.list(']') };
    }
    if (c === '(') {
      this.#i++;
      return { at, kind: 'tuple', items: this.list(')') };
    }
    if (c === '{') return this.#braces();
    if (c !== undefined && /[-+0-9]/.test(c)) return { at, kind: 'number', text: this.#number() };
    const { name, escaped } = this.#label('a value');
    this.#ws();
    const payload = this.#peek() === '(' ? (this.#i++, this.list(')')) : undefined;
    return { at, kind: 'label', name, escaped, payload };
  }

  end(): void {
    this.#ws();
    if (this.#i < this.#s.length) this.#fail('unexpected trailing input');
  }

  /** `{a: 1, b: 2}` is a record, `{a, b}` and `{}` are flags. */
  #braces(): WaveShape & { at: number } {
    const at = this.#i++;
    this.#ws();
    if (this.#peek() === '}') {
      this.#i++;
      return { at, kind: 'flags', names: [] };
    }
    const first = this.#label('a field or flag name').name;
    this.#ws();
    if (this.#peek() !== ':') {
      const names = [first];
      for (;;) {
        this.#ws();
        const c = this.#s[this.#i++];
        if (c === '}') return { at, kind: 'flags', names };
        if (c !== ',') this.#fail("expected ',' or '}'", this.#i - 1);
        this.#ws();
        if (this.#peek() === '}') continue;
        names.push(this.#label('a flag name').name);
      }
    }
    const fields: { name: string; value: WaveNode }[] = [];
    let name = first;
    for (;;) {
      this.#ws();
      if (this.#peek() !== ':') this.#fail("expected ':'");
      this.#i++;
      fields.push({ name, value: this.value() });
      this.#ws();
      const c = this.#s[this.#i++];
      if (c === '}') return { at, kind: 'record', fields };
      if (c !== ',') this.#fail("expected ',' or '}'", this.#i - 1);
      this.#ws();
      if (this.#peek() === '}') {
        this.#i++;
        return { at, kind: 'record', fields };
      }
      name = this.#label('a field name').name;
    }
  }

  #label(what: string): { name: string; escaped: boolean } {
    const m = /^(%?)([a-z][a-z0-9]*(?:-[a-z0-9]+)*)/i.exec(this.#s.slice(this.#i));
    if (!m) return this.#fail(`expected ${what}`);
    this.#i += m[0].length;
    return { name: m[2], escaped: m[1] === '%' };
  }

  #number(): string {
    const m = /^[-+]?(?:inf|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(this.#s.slice(this.#i));
    if (!m) return this.#fail('expected a number');
    this.#i += m[0].length;
    return m[0];
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
    const c = this.#s.codePointAt(this.#i);
    if (c === undefined) this.#fail('unterminated char');
    let ch = String.fromCodePoint(c!);
    this.#i += ch.length;
    if (ch === '\\') ch = this.#escape();
    if (this.#s[this.#i++] !== "'") this.#fail('a char is one character between single quotes', this.#i - 1);
    return ch;
  }

  #escape(): string {
    const e = this.#s[this.#i++];
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };
    if (e in simple) return simple[e];
    if (e === 'u') {
      const m = /^\{([0-9a-fA-F]{1,6})\}/.exec(this.#s.slice(this.#i));
      const code = m ? parseInt(m[1], 16) : NaN;
      if (!m || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) this.#fail('bad \\u{...} escape');
      this.#i += m![0].length;
      return String.fromCodePoint(code);
    }
    return this.#fail(`unknown escape \\${e}`);
  }

  #peek(): string | undefined {
    return this.#s[this.#i];
  }

  #ws(): void {
    while (/\s/.test(this.#s[this.#i] ?? '')) this.#i++;
  }

  #fail(why: string, at = this.#i): never {
    throw new UsageError(`invalid WAVE value at position ${at + 1} of ${JSON.stringify(this.#s)}: ${why}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Types: checking and converting arguments, formatting results.

/** A type as WIT writes it: `u32`, `list<string>`, `option<u8>`, `enum {red, green}`. */
export function typeName(t: ValType): string {
  switch (t.kind) {
    case 'list':
      return `list<${typeName(t.elem)}>`;
    case 'option':
      return `option<${typeName(t.type)}>`;
    case 'tuple':
      return `tuple<${t.types.map(typeName).join(', ')}>`;
    case 'result':
      return t.ok === undefined && t.err === undefined ? 'result' : `result<${t.ok ? typeName(t.ok) : '_'}${t.err ? `, ${typeName(t.err)}` : ''}>`;
    case 'record':
      return `record {${t.fields.map((f) => `${f.name}: ${typeName(f.type)}`).join(', ')}}`;
    case 'variant':
      return `variant {${t.cases.map((c) => (c.type ? `${c.name}(${typeName(c.type)})` : c.name)).join(', ')}}`;
    case 'enum':
      return `enum {${t.names.join(', ')}}`;
    case 'flags':
      return `flags {${t.names.join(', ')}}`;
    case 'own':
    case 'borrow':
      return `${t.kind}<${t.resource.name || 'resource'}>`;
    default:
      return t.kind;
  }
}

/** `(a: u32, b: u32)` */
export function signature(type: FuncType): string {
  return `(${type.params.map((p) => `${p.name}: ${typeName(p.type)}`).join(', ')})`;
}

const RANGES: Record<string, [bigint, bigint]> = {
  u8: [0n, 255n],
  s8: [-128n, 127n],
  u16: [0n, 65535n],
  s16: [-32768n, 32767n],
  u32: [0n, 4294967295n],
  s32: [-2147483648n, 2147483647n],
  u64: [0n, 18446744073709551615n],
  s64: [-9223372036854775808n, 9223372036854775807n],
};

/**
 * The arguments of `name` as the runtime takes them, checked against its type: the right count,
 * each value of its parameter's kind, integers in range. Errors are `UsageError`s that say what
 * was expected, e.g. `add takes 2 arguments (a: u32, b: u32), got 3`.
 */
export function convertArgs(invocation: Invocation, type: FuncType): unknown[] {
  const { name, args } = invocation;
  if (args.length !== type.params.length) {
    const n = type.params.length;
    throw new UsageError(`${name} takes ${n} argument${n === 1 ? '' : 's'} ${signature(type)}, got ${args.length}`, {
      hint: `e.g. --invoke '${name}(${type.params.map((p) => example(p.type)).join(', ')})'`,
    });
  }
  return args.map((node, i) => new Converter(invocation.text).convert(node, type.params[i].type, `argument ${type.params[i].name} of ${name}`));
}

/** A value of the type, in WAVE, for hints. */
function example(t: ValType): string {
  switch (t.kind) {
    case 'bool':
      return 'true';
    case 'f32':
    case 'f64':
      return '1.5';
    case 'char':
      return "'a'";
    case 'string':
      return '"text"';
    case 'list':
      return `[${example(t.elem)}]`;
    case 'tuple':
      return `(${t.types.map(example).join(', ')})`;
    case 'record':
      return `{${t.fields.map((f) => `${f.name}: ${example(f.type)}`).join(', ')}}`;
    case 'flags':
      return `{${t.names.slice(0, 1).join('')}}`;
    case 'enum':
      return label(t.names[0]);
    case 'variant': {
      const c = t.cases[0];
      return c.type ? `${label(c.name)}(${example(c.type)})` : label(c.name);
    }
    case 'option':
      return `some(${example(t.type)})`;
    case 'result':
      return t.ok ? `ok(${example(t.ok)})` : 'ok';
    case 'own':
    case 'borrow':
      return '?';
    default:
      return '1';
  }
}

const label = (name: string) => (KEYWORDS.has(name) ? `%${name}` : name);

class Converter {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }

  convert(node: WaveNode, t: ValType, where: string): unknown {
    switch (t.kind) {
      case 'bool':
        if (node.kind === 'label' && !node.escaped && !node.payload && (node.name === 'true' || node.name === 'false')) return node.name === 'true';
        return this.#expected(node, where, 'a bool (true or false)');
      case 'u8':
      case 's8':
      case 'u16':
      case 's16':
      case 'u32':
      case 's32':
      case 'u64':
      case 's64': {
        if (node.kind !== 'number' || !/^[-+]?\d+$/.test(node.text)) return this.#expected(node, where, `an integer (${t.kind})`);
        const n = BigInt(node.text);
        const [min, max] = RANGES[t.kind];
        if (n < min || n > max) throw new UsageError(`${where}: ${node.text} is out of range for ${t.kind} (${min} to ${max})`);
        return t.kind === 'u64' || t.kind === 's64' ? n : Number(n);
      }
      case 'f32':
      case 'f64':
        if (node.kind === 'number') return node.text.endsWith('inf') ? (node.text.startsWith('-') ? -Infinity : Infinity) : Number(node.text);
        if (node.kind === 'label' && !node.escaped && !node.payload && (node.name === 'nan' || node.name === 'inf')) return node.name === 'nan' ? NaN : Infinity;
        return this.#expected(node, where, `a number (${t.kind})`);
      case 'char':
        if (node.kind === 'char') return node.value;
        return this.#expected(node, where, "a char ('x')");
      case 'string':
        if (node.kind === 'string') return node.value;
        return this.#expected(node, where, 'a string ("...")');
      case 'list':
        if (node.kind !== 'list') return this.#expected(node, where, `a list (${typeName(t)})`);
        return node.items.map((item, i) => this.convert(item, t.elem, `${where}, element ${i}`));
      case 'tuple':
        if (node.kind !== 'tuple' || node.items.length !== t.types.length) return this.#expected(node, where, `a tuple of ${t.types.length} (${typeName(t)})`);
        return node.items.map((item, i) => this.convert(item, t.types[i], `${where}, element ${i}`));
      case 'record': {
        if (node.kind !== 'record' && !(node.kind === 'flags' && node.names.length === 0)) return this.#expected(node, where, `a record (${typeName(t)})`);
        const given = node.kind === 'record' ? node.fields : [];
        const out: Record<string, unknown> = {};
        for (const g of given) {
          if (!t.fields.some((f) => f.name === g.name)) throw new UsageError(`${where}: no field ${g.name} (${typeName(t)})`);
        }
        for (const f of t.fields) {
          const g = given.find((x) => x.name === f.name);
          if (g) out[camel(f.name)] = this.convert(g.value, f.type, `${where}, field ${f.name}`);
          else if (f.type.kind === 'option') out[camel(f.name)] = undefined;
          else throw new UsageError(`${where}: missing field ${f.name} (${typeName(t)})`);
        }
        return out;
      }
      case 'flags': {
        if (node.kind !== 'flags') return this.#expected(node, where, `flags (${typeName(t)}), e.g. {} or {${t.names[0] ?? ''}}`);
        for (const n of node.names) if (!t.names.includes(n)) throw new UsageError(`${where}: no flag ${n} (${typeName(t)})`);
        return Object.fromEntries(t.names.map((n) => [camel(n), node.names.includes(n)]));
      }
      case 'enum':
        if (node.kind === 'label' && !node.payload && t.names.includes(node.name)) return node.name;
        return this.#expected(node, where, `one of ${t.names.map(label).join(', ')}`);
      case 'variant': {
        const c = node.kind === 'label' ? t.cases.find((x) => x.name === node.name) : undefined;
        if (node.kind !== 'label' || !c) return this.#expected(node, where, `one of ${t.cases.map((x) => (x.type ? `${label(x.name)}(${typeName(x.type)})` : label(x.name))).join(', ')}`);
        return { tag: c.name, val: this.#payload(node, c.type, `${where}, case ${c.name}`) };
      }
      case 'option': {
        const plain = t.type.kind !== 'option';
        if (node.kind === 'label' && !node.escaped && node.name === 'none' && !node.payload) return plain ? undefined : { tag: 'none' };
        if (node.kind === 'label' && !node.escaped && node.name === 'some' && node.payload?.length === 1) {
          const val = this.convert(node.payload[0], t.type, where);
          return plain ? val : { tag: 'some', val };
        }
        return this.#expected(node, where, `some(...) or none (${typeName(t)})`);
      }
      case 'result': {
        if (node.kind === 'label' && !node.escaped && (node.name === 'ok' || node.name === 'err')) {
          return { tag: node.name, val: this.#payload(node, node.name === 'ok' ? t.ok : t.err, `${where}, ${node.name}`) };
        }
        return this.#expected(node, where, `ok(...) or err(...) (${typeName(t)})`);
      }
      case 'own':
      case 'borrow':
        throw new UsageError(`${where}: a resource (${typeName(t)}) cannot be written in WAVE`, { hint: 'call a function that takes no resource' });
    }
  }

  /** The payload of a case: exactly one value when the case has a type, none when it has not. */
  #payload(node: WaveNode & { kind: 'label' }, type: ValType | undefined, where: string): unknown {
    if (!type) {
      if (node.payload?.length) throw new UsageError(`${where}: ${node.name} takes no value`);
      return undefined;
    }
    if (node.payload?.length !== 1) throw new UsageError(`${where}: ${node.name} takes one value (${typeName(type)}), e.g. ${node.name}(${example(type)})`);
    return this.convert(node.payload[0], type, where);
  }

  #expected(node: WaveNode, where: string, what: string): never {
    const text = this.#text.slice(node.at, node.end);
    throw new UsageError(`${where}: expected ${what}, got ${describe(node)}${text.length <= 40 ? ` (${text})` : ''}`);
  }
}

function describe(node: WaveNode): string {
  switch (node.kind) {
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'char':
      return 'a char';
    case 'list':
      return 'a list';
    case 'tuple':
      return 'a tuple';
    case 'record':
      return 'a record';
    case 'flags':
      return 'flags';
    case 'label':
      return node.name === 'true' || node.name === 'false' ? 'a bool' : `the label ${node.name}`;
  }
}

/** Formats a value the runtime answered as WAVE, by its type. */
export function formatValue(v: unknown, t: ValType): string {
  switch (t.kind) {
    case 'bool':
      return v ? 'true' : 'false';
    case 'f32':
    case 'f64': {
      const n = v as number;
      return Number.isNaN(n) ? 'nan' : n === Infinity ? 'inf' : n === -Infinity ? '-inf' : Object.is(n, -0) ? '-0' : String(n);
    }
    case 'char':
      return `'${escape(v as string, "'")}'`;
    case 'string':
      return `"${escape(v as string, '"')}"`;
    case 'list':
      return `[${Array.from(v as ArrayLike<unknown>, (x) => formatValue(x, t.elem)).join(', ')}]`;
    case 'tuple':
      return `(${t.types.map((x, i) => formatValue((v as unknown[])[i], x)).join(', ')})`;
    case 'record': {
      const r = v as Record<string, unknown>;
      return `{${t.fields.map((f) => `${f.name}: ${formatValue(r[camel(f.name)], f.type)}`).join(', ')}}`;
    }
    case 'flags': {
      const r = v as Record<string, boolean>;
      return `{${t.names.filter((n) => r[camel(n)]).join(', ')}}`;
    }
    case 'enum':
      return label(v as string);
    case 'variant': {
      const { tag, val } = v as { tag: string; val?: unknown };
      const c = t.cases.find((x) => x.name === tag);
      return c?.type ? `${label(tag)}(${formatValue(val, c.type)})` : label(tag);
    }
    case 'option': {
      if (t.type.kind === 'option') {
        const { tag, val } = v as { tag: string; val?: unknown };
        return tag === 'none' ? 'none' : `some(${formatValue(val, t.type)})`;
      }
      return v === undefined || v === null ? 'none' : `some(${formatValue(v, t.type)})`;
    }
    case 'result': {
      const { tag, val } = v as { tag: 'ok' | 'err'; val?: unknown };
      const payload = tag === 'ok' ? t.ok : t.err;
      return payload ? `${tag}(${formatValue(val, payload)})` : tag;
    }
    case 'own':
    case 'borrow':
      return `<${typeName(t)}>`;
    default:
      return String(v);
  }
}

function escape(s: string, quote: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\u{${c.toString(16)}}`;
    else out += ch;
  }
  return out;
}
