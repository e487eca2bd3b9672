import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { transpile, componentWit } from '@bytecodealliance/jco';
import { InvalidComponentError } from '../errors.ts';
import { instrumentModule } from './limits/instrument.ts';
import { Reader } from './wasm/codec.ts';
import { LIMITS_IMPORT } from './limits/limiter.ts';

/** The output of one transpilation: glue source, core modules by file name, the printed world. */
export interface Transpiled {
  glue: string;
  coreModules: Map<string, Uint8Array>;
  wit: string;
}

/**
 * Fixed transpiler options (DESIGN.md): async instantiation so imports are given per instance,
 * JSPI so host functions may return promises, every import and export async ('*' is the only
 * selector that works), no TypeScript output (`noTypescript` is ignored by jco's transpile).
 */
export const TRANSPILE_OPTIONS = Object.freeze({
  name: 'component',
  instantiation: 'async' as const,
  asyncMode: 'jspi' as const,
  asyncImports: ['*'],
  asyncExports: ['*'],
  emitTypescriptDeclarations: false,
  noTypescript: true,
  quiet: true,
});

const require = createRequire(import.meta.url);

/** jco's version: part of every cache key, so an upgrade never reuses old glue. */
export const TRANSPILER_VERSION: string = (() => {
  const entry = require.resolve('@bytecodealliance/jco');
  let dir = dirname(entry);
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (pkg.name === '@bytecodealliance/jco') return `jco@${pkg.version}`;
    } catch {
      // keep walking up
    }
  }
  return 'jco@unknown';
})();

/**
 * The component's world as WIT text: proof that the whole binary decodes. Runs jco in the calling
 * thread, as `transpileComponent` does; both are called only on the transpiler thread.
 */
export async function readWit(bytes: Uint8Array, source: string, options: { checkFraming?: boolean } = {}): Promise<string> {
  if (options.checkFraming !== false) checkFraming(bytes, source);
  try {
    return await componentWit(bytes);
  } catch (err) {
    throw new InvalidComponentError(`${source} is not a valid component: ${firstLine(err)}`, { cause: err });
  }
}

/** Runs jco in the calling thread: the engine calls it only on its transpiler thread (transpiler.ts). */
export async function transpileComponent(
  bytes: Uint8Array,
  source: string,
  options: { instrument?: boolean; checkFraming?: boolean } = {},
): Promise<Transpiled> {
  const wit = await readWit(bytes, source, options);
  let out: Awaited<ReturnType<typeof transpile>>;
  try {
    // Fresh arrays: jco's option handling appends to them. (Its typings lag its options: cast.)
    out = await transpile(bytes, { ...TRANSPILE_OPTIONS, asyncImports: ['*'], asyncExports: ['*'] } as never);
  } catch (err) {
    throw new InvalidComponentError(`${source} is not a valid component: ${firstLine(err)}`, { cause: err });
  }
  const coreModules = new Map<string, Uint8Array>();
  let glue = '';
  for (const [name, data] of Object.entries(out.files)) {
    if (name.endsWith('.wasm')) coreModules.set(name, options.instrument === false ? data : instrument(data, name, source));
    else if (name.endsWith('.js')) glue = Buffer.from(data).toString('utf8');
  }
  if (!glue) throw new InvalidComponentError(`${source}: the transpiler produced no JavaScript glue`);
  return { glue: patchGlue(glue), coreModules, wit };
}

/**
 * jco 1.35's JSPI glue swallows an `Error` thrown by a host import that returns no `result`:
 * it marks the task failed and returns a promise that never settles, so the guest's call
 * hangs instead of unwinding (this is how `exit` and host-side traps must end a guest).
 * Rethrowing there lets the error unwind through the guest's frames to the export's caller.
 * Every patch must keep the glue's behaviour otherwise identical; bump PIPELINE_VERSION.
 */
export function patchGlue(glue: string): string {
  return (
    limitHooks(asyncResourceConstructors(glue))
      // Every handle ever created is added to a set that nothing reads or clears: memory that
      // grows for the life of a reused instance.
      .replaceAll('table._createdReps.add(rep);', '')
      .replaceAll(/(task\.exit\(\);\s*)return task\.completionPromise\(\);/g, '$1throw err;')
      // The glue reads process.env.JCO_DEBUG on every internal step (a C++ getenv each time),
      // which is most of its per-call cost; wasmhost never turns jco's debug logging on.
      .replaceAll('if (!globalThis?.process?.env?.JCO_DEBUG) { return; }', 'return;')
      // After every synchronous host call the glue drops the call's subtask, whose waitable still
      // holds the completion event it was just given, so the drop throws an Error that the glue
      // catches and ignores. Building that Error (with its stack) cost ~30 us per host call,
      // most of a small HTTP request (measured: 560 us -> see bench). Skipping the doomed drop
      // leaves the same state behind, without the Error.
      .replaceAll(
        /(\n\s*)this\.drop\(\);(\s*\} catch \(err\) \{\s*_debugLog\('\[AsyncSubtask#onResolve\(\)\] failed to remove subtask)/g,
        '$1if (!this.#waitable?.hasPendingEvent()) this.drop();$2',
      )
  );
}

/**
 * Gives the glue the instance's `Limiter` (passed in the import object, see limits/limiter.ts):
 * every import that may suspend is timed (host waits are not guest CPU time), and creating a
 * handle past the per-type cap fails. Without a limiter the glue behaves as jco wrote it.
 */
function limitHooks(glue: string): string {
  const head = 'export function instantiate(getCoreModule, imports, instantiateCore = WebAssembly.instantiate) {';
  const createOwn = /(function rscTableCreateOwn\(table, rep\) \{[^}]*?if \(free === 0\) \{)/;
  if (!glue.includes(head) || !createOwn.test(glue)) return glue;
  return glue
    .replace(head, `${head}\n  const WASMHOST_LIMITS = imports['${LIMITS_IMPORT}'];\n${CHECKED_SLICE}`)
    // Lists are lifted with ArrayBuffer.slice, which clamps at the end of memory: a guest
    // claiming more bytes than it has would hand over a shorter list instead of trapping.
    .replaceAll(/\b(\w+)\.buffer\.slice\(/g, '_wasmhostCheckedSlice($1.buffer, ')
    .replace(
      createOwn,
      '$1\n      if ((table.length >> 1) > (WASMHOST_LIMITS?.maxResourceHandles ?? Infinity)) WASMHOST_LIMITS.tooManyHandles();',
    )
    .replace(
      'function _suspendingImport(',
      'function _suspendingImport(...args) {\n  const fn = _jcoSuspendingImport(...args);\n  return WASMHOST_LIMITS ? WASMHOST_LIMITS.timed(fn) : fn;\n}\nfunction _jcoSuspendingImport(',
    );
}

// Pointers arrive as signed i32 (0xFFFFFF00 is -256, which slice would count from the end).
const CHECKED_SLICE = `  const _wasmhostCheckedSlice = (buffer, start, end) => {
    const ptr = start >>> 0;
    const len = end - start;
    if (len < 0 || ptr + len > buffer.byteLength) throw new WebAssembly.RuntimeError(\`out of bounds memory access: the guest passed \${len} bytes at \${ptr}, past the end of its \${buffer.byteLength}-byte memory\`);
    return buffer.slice(ptr, ptr + len);
  };`;

/**
 * With async exports, jco 1.35 emits the constructor of an exported resource class with `await`
 * in its (necessarily synchronous) body, a syntax error. The body is wrapped in an async arrow
 * (which keeps `this` and `new.target`), so `new Counter(n)` returns a promise of the resource:
 * host code awaits it, and an importing component's glue already awaits what a constructor gives.
 */
function asyncResourceConstructors(glue: string): string {
  const head = /\bclass \w+\{\s*constructor\([^)]*\) \{/g;
  let out = '';
  let from = 0;
  for (const m of glue.matchAll(head)) {
    const open = m.index + m[0].length - 1;
    const close = matchingBrace(glue, open);
    if (close === -1 || !/\bawait\b/.test(glue.slice(open, close))) continue;
    out += glue.slice(from, open + 1) + ' return (async () => {' + glue.slice(open + 1, close) + '})(); ';
    from = close;
  }
  return out + glue.slice(from);
}

/** Index of the `}` closing the `{` at `open`, skipping quoted strings; -1 if unbalanced. */
function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'" || ch === '"') {
      for (i++; i < text.length && text[i] !== ch; i++) if (text[i] === '\\') i++;
    } else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return i;
  }
  return -1;
}

/**
 * Section sizes must fit in the bytes that follow them, nested modules and components included.
 * jco's Rust code panics on a size claiming gigabytes (found by test/fuzz); the panic would cost
 * the transpiler thread (transpiler.ts replaces it) and say only "unreachable".
 */
function checkFraming(bytes: Uint8Array, source: string, at = 0, end = bytes.length): void {
  const r = new Reader(bytes, at + 8);
  if (end - at < 8) throw new InvalidComponentError(`${source} is not a valid component: truncated header`);
  const isComponent = bytes[at + 6] === 0x01 && bytes[at + 7] === 0x00; // layer 1
  while (r.pos < end) {
    const id = r.byte();
    const size = r.uleb();
    if (size > end - r.pos) {
      throw new InvalidComponentError(`${source} is not a valid component: section ${id} at byte ${r.pos} claims ${size} bytes, but only ${end - r.pos} follow`);
    }
    // In a component, section 1 is a core module and section 4 a nested component.
    if (isComponent && (id === 1 || id === 4)) checkFraming(bytes, source, r.pos, r.pos + size);
    r.pos += size;
  }
}

/** Every core module is instrumented once, here, so the disk cache holds the result. */
function instrument(bytes: Uint8Array, name: string, source: string): Uint8Array {
  try {
    return instrumentModule(bytes);
  } catch (err) {
    throw new InvalidComponentError(`${source}: core module ${name} cannot be instrumented for limits: ${(err as Error).message}`, { cause: err });
  }
}

/** jco's messages carry a "Caused by:" chain on many lines: keep the first and the innermost. */
function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const reasons = text
    .split('\n')
    .map((l) => l.trim().replace(/^\d+:\s*/, ''))
    .filter((l) => l && !/^(Caused by:|Stack backtrace:)/.test(l));
  return [...new Set([reasons[0], reasons.at(-1)])].filter(Boolean).join(': ') || 'unknown error';
}
