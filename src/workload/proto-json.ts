/**
 * zod building blocks for proto3 canonical JSON, the wire and manifest format: a message takes
 * lowerCamelCase or the proto's snake_case field names, `null` as "not set", and rejects every
 * unknown field by name (a typo must not be silently ignored); integers come as numbers or
 * decimal strings; enums by name (or number). Every error says what was expected and what came.
 */
import * as z from 'zod';
import { durationMs, durationProblem } from '../duration.ts';
import { closest } from './suggest.ts';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** `['witWorld', 'components', 1, 'name']` -> `witWorld.components[1].name`; odd keys quoted. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((k) => (typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$-]*$/.test(String(k)) ? `.${String(k)}` : `[${JSON.stringify(String(k))}]`))
    .join('')
    .replace(/^\./, '');
}

/** A value as an error message shows it: scalars as written, containers by kind. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return 'a list';
  return value instanceof Uint8Array ? 'bytes' : 'a map';
}

/** An error map for one field: `expected <what>, got <value>`, or `missing` when absent. */
export function expected(what: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? `missing (expected ${what})` : `expected ${what}, got ${describe(issue.input)}`;
}

export const string = (what = 'a string') => z.string({ error: expected(what) });
export const nonEmptyString = (what = 'a non-empty string') => z.string({ error: expected(what) }).min(1);
export const bool = () => z.boolean({ error: expected('true or false') });
export const list = <T extends z.ZodType>(item: T, what = 'a list') => z.array(item, { error: expected(what) });
export const stringMap = () => z.record(z.string(), string(), { error: expected('a map of strings') });

export const INT32_MAX = 2 ** 31 - 1;

/** A positive duration as text: proto3's `1.5s` or `500ms`, `30s`, `2m` (kept as written). */
export const duration = () =>
  string('a duration such as 500ms, 30s or 2m').refine((text) => durationMs(text) !== undefined, {
    error: (issue) =>
      typeof issue.input === 'string' && durationProblem(issue.input) !== 'not a duration'
        ? `expected a duration of at most 24 days (Node's timers go no further), got ${describe(issue.input)}`
        : `expected a positive duration such as 500ms, 30s or 2m, got ${describe(issue.input)}`,
  });

/** proto3 JSON accepts integers as numbers or as decimal strings (64-bit ones are written so). */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  const fromString = (v: unknown) => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v);
  const error = (issue: { code?: string; input?: unknown }) =>
    expected(issue.code === 'too_big' ? `an integer <= ${max}` : `an integer >= ${min}`)(issue);
  return z.preprocess(fromString, z.int({ error }).min(min).max(max));
}

/** A proto enum by full name, by name without its prefix, or by number; the full name comes out. */
export function protoEnum<const T extends readonly [string, ...string[]]>(names: T, prefix: string) {
  const byShortName = (v: unknown) =>
    typeof v === 'number' ? (names[v] ?? v) : typeof v === 'string' && names.includes(prefix + v) ? prefix + v : v;
  const what = `one of ${names.map((n) => n.slice(prefix.length)).join(', ')} (optionally prefixed ${prefix})`;
  return z.preprocess(byShortName, z.enum(names, { error: expected(what) }));
}

export const camelCase = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Where normalization parks unknown fields, so the object check can report them one by one. */
const UNKNOWN = Symbol('unknown fields');

/**
 * snake_case to the declared camelCase name; `null` fields dropped (proto3: not set); unknown
 * fields moved under UNKNOWN, out of the way of zod (which would assign a `__proto__` field
 * to the output's prototype rather than report it).
 */
function normalizeFields(value: Record<string, unknown>, known: Set<string>): Record<string | symbol, unknown> {
  const fields: [string, unknown][] = [];
  const unknown: [string, unknown][] = [];
  for (const [key, v] of Object.entries(value)) {
    const camel = camelCase(key);
    const name = camel !== key && known.has(camel) && !Object.hasOwn(value, camel) ? camel : key;
    if (!known.has(name)) unknown.push([key, v]);
    else if (v !== null) fields.push([name, v]);
  }
  const normalized: Record<string | symbol, unknown> = Object.fromEntries(fields);
  if (unknown.length) normalized[UNKNOWN] = Object.fromEntries(unknown); // fromEntries keeps `__proto__` a plain key
  return normalized;
}

function unknownField(key: string, known: Set<string>, elsewhere: Record<string, string>): string {
  const camel = camelCase(key);
  if (camel !== key && known.has(camel)) return `given twice, as "${key}" and "${camel}"`;
  if (Object.hasOwn(elsewhere, key)) return `unknown field here (it belongs in ${elsewhere[key]})`;
  const guess = closest(key, [...known, ...Object.keys(elsewhere)]);
  if (guess) return `unknown field (did you mean ${known.has(guess) ? `"${guess}"` : elsewhere[guess]}?)`;
  return known.size ? `unknown field (expected one of ${[...known].join(', ')})` : 'unknown field (expected none)';
}

/**
 * A proto message. Unknown fields are reported one issue each, at their own path, alongside
 * every other issue of the object (zod's strict mode would lump them into one issue).
 * `elsewhere` names fields that users put at this level by mistake, and where they belong.
 */
export function message<S extends z.ZodRawShape>(what: string, shape: S, elsewhere: Record<string, string> = {}) {
  const known = new Set(Object.keys(shape));
  const fields = z.object({ ...shape, [UNKNOWN]: z.unknown().optional() }, { error: expected(what) }).superRefine(
    (value, ctx) => {
      const unknown = (value as Record<symbol, unknown>)[UNKNOWN];
      if (!isRecord(unknown)) return;
      for (const key of Object.keys(unknown)) {
        ctx.addIssue({ code: 'custom', path: [key], input: unknown[key], message: unknownField(key, known, elsewhere) });
      }
    },
    { when: (payload) => isRecord(payload.value) },
  );
  const normalized = z.preprocess((v) => (isRecord(v) ? normalizeFields(v, known) : v), fields);
  // Unknown fields never reach a successful output, so the output type is the shape's alone.
  return normalized as unknown as z.ZodType<z.output<z.ZodObject<S>>, unknown>;
}

/** A proto `oneof`: exactly one of `names` set. Runs on partial values, so it checks loosely. */
export function exactlyOne(names: string[], hintForNone = '') {
  const quoted = names.map((n) => `"${n}"`);
  const list = `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
  return (value: unknown, ctx: z.RefinementCtx) => {
    if (!isRecord(value)) return;
    const present = names.filter((n) => value[n] !== undefined);
    if (present.length === 1) return;
    const got = present.length === 0 ? `none${hintForNone}` : present.map((n) => `"${n}"`).join(' and ');
    ctx.addIssue({ code: 'custom', input: value, message: `expected exactly one of ${list}, got ${got}` });
  };
}

/** For superRefine: run even when some fields failed, so every problem is reported in one pass. */
export const always = { when: () => true };
