/**
 * `wasi:http/types.fields`: headers and trailers. Names are case-insensitive (kept lowercase,
 * as wasmtime does), values are bytes. Hop-by-hop and routing headers the host owns are
 * forbidden to guests; fields that belong to a request or response are immutable.
 */

/** `header-error`, thrown as its plain value (jco's convention for `result` errors). */
export type HeaderError = { tag: 'invalid-syntax' } | { tag: 'forbidden' } | { tag: 'immutable' };

/** Headers a guest may never set: the connection is the host's (wasmtime's list). */
export const FORBIDDEN_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'http2-settings',
]);

/** RFC 9110 token: a header name, and a method name too. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A field value: visible ASCII, obs-text, space and tab; no CR, LF or NUL (RFC 9110 5.5). */
function validValue(value: Uint8Array): boolean {
  for (const b of value) if (b === 0x0a || b === 0x0d || b === 0x00 || (b < 0x20 && b !== 0x09) || b === 0x7f) return false;
  return true;
}

type Store = Map<string, Uint8Array[]>;

export class Fields {
  #stored: Store | undefined;
  /** Node's raw header list, turned into the store on first use (most guests never read it). */
  #raw: readonly string[] | undefined;
  #immutable = false;

  get #store(): Store {
    return (this.#stored ??= this.#raw ? storeOf(this.#raw) : new Map());
  }

  set #store(store: Store) {
    this.#stored = store;
    this.#raw = undefined;
  }

  /** A handle on existing storage (a request's headers, seen again through `headers()`). */
  static view(store: Store, immutable: boolean): Fields {
    const f = new Fields();
    f.#store = store;
    f.#immutable = immutable;
    return f;
  }

  /** Immutable fields from Node's raw header list (`[name, value, name, value, ...]`). */
  static fromRaw(raw: readonly string[]): Fields {
    const f = new Fields();
    f.#raw = raw;
    f.#immutable = true;
    return f;
  }

  /** Immutable fields from an object of header values (undici's response headers and trailers). */
  static fromRecord(record: Record<string, string | string[] | undefined>): Fields {
    const raw: string[] = [];
    for (const [name, value] of Object.entries(record)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) raw.push(name, v);
    }
    return Fields.fromRaw(raw);
  }

  static fromList(entries: [string, Uint8Array][]): Fields {
    const f = new Fields();
    for (const [name, value] of entries) f.append(name, value);
    return f;
  }

  get(name: string): Uint8Array[] {
    return (this.#store.get(name.toLowerCase()) ?? []).map((v) => v.slice());
  }

  has(name: string): boolean {
    return this.#store.has(name.toLowerCase());
  }

  set(name: string, values: Uint8Array[]): void {
    const key = this.#checkName(name);
    for (const v of values) checkValue(v);
    if (values.length === 0) this.#store.delete(key);
    else this.#store.set(key, values.map((v) => v.slice()));
  }

  delete(name: string): void {
    this.#store.delete(this.#checkName(name));
  }

  append(name: string, value: Uint8Array): void {
    const key = this.#checkName(name);
    checkValue(value);
    const list = this.#store.get(key);
    if (list) list.push(value.slice());
    else this.#store.set(key, [value.slice()]);
  }

  entries(): [string, Uint8Array][] {
    const out: [string, Uint8Array][] = [];
    for (const [name, values] of this.#store) for (const v of values) out.push([name, v.slice()]);
    return out;
  }

  /** A mutable deep copy. */
  clone(): Fields {
    const f = new Fields();
    for (const [name, values] of this.#store) f.#store.set(name, values.map((v) => v.slice()));
    return f;
  }

  /** @internal The same storage, immutable: what a request or response keeps of the guest's headers. */
  freeze(): Fields {
    return Fields.view(this.#store, true);
  }

  /** @internal Node's flat header list (`[name, value, ...]`), values as latin1 strings. */
  toRaw(): string[] {
    const raw: string[] = [];
    for (const [name, values] of this.#store) for (const v of values) raw.push(name, latin1(v));
    return raw;
  }

  /** @internal Header name -> value(s), for undici and `addTrailers`. */
  toRecord(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [name, values] of this.#store) {
      const strings = values.map(latin1);
      out[name] = strings.length === 1 ? strings[0] : strings;
    }
    return out;
  }

  /** @internal The first value of a header as text, or undefined. */
  first(name: string): string | undefined {
    const v = this.#store.get(name)?.[0];
    return v && latin1(v);
  }

  #checkName(name: string): string {
    if (this.#immutable) throw { tag: 'immutable' } satisfies HeaderError;
    if (!TOKEN.test(name)) throw { tag: 'invalid-syntax' } satisfies HeaderError;
    const key = name.toLowerCase();
    if (FORBIDDEN_HEADERS.has(key)) throw { tag: 'forbidden' } satisfies HeaderError;
    return key;
  }
}

/**
 * Bytes as a latin1 string, without copying them first. A short value is read char by char:
 * the guest's header values are small arrays kept on the JS heap, and taking their `.buffer`
 * would move each to a backing store of its own (5x slower for a typical value, measured).
 */
function latin1(v: Uint8Array): string {
  if (v.length <= 64) return String.fromCharCode.apply(null, v as unknown as number[]);
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
}

function storeOf(raw: readonly string[]): Store {
  const store: Store = new Map();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = Buffer.from(raw[i + 1], 'latin1');
    const list = store.get(name);
    if (list) list.push(value);
    else store.set(name, [value]);
  }
  return store;
}

function checkValue(value: Uint8Array): void {
  if (!validValue(value)) throw { tag: 'invalid-syntax' } satisfies HeaderError;
}
