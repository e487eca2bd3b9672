// jco's generated glue as a differential oracle, in tests only (DESIGN.md: jco is a tool, not the
// run path). A component is transpiled by jco (JSPI, async instantiation, no instrumentation) and
// its glue instantiated with the same import object wasmhost's runtime gets; both answer through
// wasmhost's `Instance`, so a test compares values, errors and traps side by side.
//
// The glue is patched where jco 1.35's output cannot run as is under JSPI, and where it is laxer
// than the canonical ABI in ways the tests compare (each patch says which). These patches live
// here and nowhere else.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transpile } from '@bytecodealliance/jco';
import { Instance } from '../../src/engine/instance.ts';
import { Limiter } from '../../src/engine/limits/limiter.ts';
import type { CompiledComponent, ImportObject } from '../../src/index.ts';

type GlueInstantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: ImportObject,
  instantiateCore: (module: WebAssembly.Module, imports: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
) => Promise<Record<string, unknown>>;

export interface OracleComponent {
  /** Import object key -> the members the glue takes from it. */
  requiredImports: ReadonlyMap<string, readonly string[]>;
  instantiate(imports: ImportObject): Promise<Instance>;
}

const OPTIONS = {
  name: 'component',
  instantiation: 'async',
  asyncMode: 'jspi',
  asyncImports: ['*'],
  asyncExports: ['*'],
  noTypescript: true,
  quiet: true,
};

/** Transpiles a component (path or bytes) with jco and loads its glue. */
export async function compileWithJco(input: string | Uint8Array): Promise<OracleComponent> {
  const bytes = typeof input === 'string' ? await readFile(input) : input;
  const out = await transpile(bytes, { ...OPTIONS, asyncImports: ['*'], asyncExports: ['*'] } as never);
  const modules = new Map<string, WebAssembly.Module>();
  let glue = '';
  for (const [name, data] of Object.entries(out.files)) {
    if (name.endsWith('.wasm')) modules.set(name, await WebAssembly.compile(data as Uint8Array<ArrayBuffer>));
    else if (name.endsWith('.js')) glue = Buffer.from(data).toString('utf8');
  }
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-oracle-'));
  let instantiate: GlueInstantiate;
  try {
    const file = join(dir, 'component.js');
    await writeFile(file, patchGlue(glue));
    ({ instantiate } = (await import(pathToFileURL(file).href)) as { instantiate: GlueInstantiate });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    requiredImports: requiredImports(glue),
    async instantiate(imports) {
      const instance = new Instance(undefined as unknown as CompiledComponent, new Limiter());
      const exports = await instance.guard(() =>
        instantiate((name) => modules.get(name)!, imports, async (m, i) => new WebAssembly.Instance(m, i)),
      );
      instance.bind(exports);
      return instance;
    },
  };
}

function requiredImports(glue: string): Map<string, string[]> {
  const required = new Map<string, string[]>();
  for (const m of glue.matchAll(/const \{([^}]*)\} = imports\['([^']+)'\];/g)) {
    const names = m[1].split(',').map((s) => s.split(':')[0].trim()).filter(Boolean);
    required.set(m[2], [...(required.get(m[2]) ?? []), ...names]);
  }
  return required;
}

function patchGlue(glue: string): string {
  return (
    asyncResourceConstructors(glue)
      // jco's JSPI glue swallows an Error thrown by a host import that returns no `result`: the
      // task is marked failed and the call never settles. Rethrowing lets it unwind the guest.
      .replaceAll(/(task\.exit\(\);\s*)return task\.completionPromise\(\);/g, '$1throw err;')
      // Lists are lifted with ArrayBuffer.slice, which clamps at the end of memory: a guest
      // claiming more bytes than it has would hand over a shorter list instead of trapping.
      .replace('export function instantiate(getCoreModule, imports, instantiateCore = WebAssembly.instantiate) {', `$&\n${CHECKED_SLICE}`)
      .replaceAll(/\b(\w+)\.buffer\.slice\(/g, '_oracleCheckedSlice($1.buffer, ')
  );
}

// Pointers arrive as signed i32 (0xFFFFFF00 is -256, which slice would count from the end).
const CHECKED_SLICE = `  const _oracleCheckedSlice = (buffer, start, end) => {
    const ptr = start >>> 0;
    const len = end - start;
    if (len < 0 || ptr + len > buffer.byteLength) throw new WebAssembly.RuntimeError(\`out of bounds memory access: the guest passed \${len} bytes at \${ptr}, past the end of its \${buffer.byteLength}-byte memory\`);
    return buffer.slice(ptr, ptr + len);
  };`;

/**
 * With async exports, jco 1.35 emits the constructor of an exported resource class with `await`
 * in its (necessarily synchronous) body, a syntax error. The body is wrapped in an async arrow
 * (which keeps `this` and `new.target`), so `new Counter(n)` returns a promise of the resource.
 */
function asyncResourceConstructors(glue: string): string {
  const head = /\bclass [\w$]+\{\s*constructor\([^)]*\) \{/g;
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
