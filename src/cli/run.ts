import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { destination, pino } from 'pino';
import { parseDuration } from '../duration.ts';
import { Limiter, type FuncType } from '../engine.ts';
import {
  ComponentError,
  createOutgoingHttpImports,
  createWasiImports,
  DEFAULT_HOST_LIMITS,
  Engine,
  MissingImportError,
  UsageError,
  WasiContext,
  type CompiledComponent,
  type ImportObject,
  type Instance,
  type NetworkPolicy,
  type OutgoingHttpImports,
  type Preopen,
} from '../index.ts';
import { readComponentFile } from './component-file.ts';
import { parseSize } from './limits.ts';
import { parseWasmtimeFlags, type WasmtimeFlags } from './wasmtime-flags.ts';
import { convertArgs, formatValue, parseInvocation, type Invocation } from './wave.ts';

export interface RunOptions {
  dir: string[];
  dirRo: string[];
  env: string[];
  envInherit?: boolean;
  invoke?: string;
  net?: boolean;
  allowAddr: string[];
  cacheDir?: string;
  cache?: boolean;
  maxMemory?: string;
  timeout?: string;
  /** wasmtime's `-S key[=value]` (see wasmtime-flags.ts). */
  wasi?: string[];
  /** wasmtime's `-W key[=value]`. */
  wasm?: string[];
}

/** `wasmhost run`: runs a command component or preview1 module; answers the exit code. */
export async function run(file: string, guestArgs: string[], opts: RunOptions): Promise<number> {
  // Everything the command line can get wrong fails before the component is compiled.
  const flags = parseWasmtimeFlags(opts.wasi ?? [], opts.wasm ?? []);
  if (opts.maxMemory !== undefined && flags.maxMemoryBytes !== undefined) throw new UsageError('--max-memory and -W max-memory-size set the same limit', { hint: 'give one of them' });
  if (opts.timeout !== undefined && flags.timeoutMs !== undefined) throw new UsageError('--timeout and -W timeout set the same limit', { hint: 'give one of them' });
  const invocation = opts.invoke === undefined ? undefined : parseInvocation(opts.invoke);
  const memoryBytes = flags.maxMemoryBytes ?? (opts.maxMemory ? parseSize(opts.maxMemory, '--max-memory') : DEFAULT_HOST_LIMITS.memoryLimitMb * 2 ** 20);
  const timeoutMs = flags.timeoutMs ?? (opts.timeout ? parseDuration(opts.timeout, '--timeout') : undefined);
  const preopens = [...opts.dir.map((d) => parseDir(d, false)), ...opts.dirRo.map((d) => parseDir(d, true))];

  const engine = new Engine({ cacheDir: opts.cache === false ? false : opts.cacheDir });
  const component = await engine.compile(await readComponentFile(file), file);
  const call = invocation ? typedCall(file, component, invocation) : undefined;
  if (!call) checkNotHttp(file, component);
  const http = httpImports(file, component, flags.http === true);

  const ctx = new WasiContext({
    args: [file, ...guestArgs],
    env: parseEnv(opts.env, opts.envInherit || flags.inheritEnv),
    stdin: 'inherit',
    stdout: 'inherit',
    stderr: 'inherit',
    preopens,
    network: buildNetwork(opts, flags),
  });
  try {
    const limiter = new Limiter({ memoryBytes, maxResourceHandles: DEFAULT_HOST_LIMITS.maxResourceHandles });
    limiter.arm({ timeoutMs });
    const imports: ImportObject = { ...createWasiImports(ctx), ...http?.imports };
    try {
      component.checkImports(imports);
    } catch (err) {
      throw err instanceof MissingImportError ? withRunHint(file, err) : err;
    }
    if (!call) checkCommand(file, component);
    const instance = await component.instantiate(imports, { onClose: () => ctx.dispose(), limiter, importsChecked: true });
    return call ? await invoke(instance, call) : await instance.run();
  } finally {
    ctx.dispose();
    await http?.close();
  }
}

/** An HTTP component is served, not run: say so before anything about its imports. */
function checkNotHttp(file: string, component: CompiledComponent): void {
  if (component.exportsInterface('wasi:http/incoming-handler') && !component.exportsInterface('wasi:cli/run')) {
    throw new UsageError(`${file} is an HTTP component (it exports wasi:http/incoming-handler), not a command (wasi:cli/run)`, {
      hint: `serve it: wasmhost serve ${file}`,
    });
  }
}

/** A component run without `--invoke` must be a command: say what to call instead. */
function checkCommand(file: string, component: CompiledComponent): void {
  if (component.exportsInterface('wasi:cli/run')) return;
  throw new UsageError(`${file} does not export wasi:cli/run`, { hint: `call one of its exports with --invoke (exports: ${exportedFunctions(component)})` });
}

/**
 * The outgoing `wasi:http` imports (`types`, `outgoing-handler`) with `-S http`, on the same
 * client `serve` uses, to any host. Without it a component that imports them is refused here,
 * with the flag named, rather than by the engine's generic missing-import error.
 */
function httpImports(file: string, component: CompiledComponent, allowed: boolean): OutgoingHttpImports | undefined {
  const wanted = component.imports.filter((i) => i.interfaceName?.namespace === 'wasi' && i.interfaceName.package === 'http');
  if (wanted.length === 0) return undefined;
  if (!allowed) {
    const named = wanted.find((i) => i.interfaceName?.interface === 'outgoing-handler') ?? wanted[0];
    throw new UsageError(`${file} uses wasi:http (it imports ${named.name}), which run grants only when asked`, {
      hint: '-S http lets it send HTTP requests (to any host)',
    });
  }
  return createOutgoingHttpImports({ allowedHosts: ['*'], logger: pino({ level: 'warn', base: undefined }, destination(2)) });
}

/** `run` links WASI (and wasi:http with -S http) only: say where other interfaces come from. */
function withRunHint(file: string, err: MissingImportError): MissingImportError {
  return new MissingImportError(err.interfaceName, err.message.replace(/^component /, `${file} `), {
    hint: 'wasmhost run gives a guest WASI 0.2 (and wasi:http with -S http); a component that needs more runs in a workload (wasmhost up <workload.yaml>) with a plugin or another component that serves it',
    cause: err,
  });
}

interface TypedCall {
  invocation: Invocation;
  type: FuncType;
  args: unknown[];
}

/** The export named by `--invoke`, its type, and the arguments checked and converted by it. */
function typedCall(file: string, component: CompiledComponent, invocation: Invocation): TypedCall {
  const type = component.exportedFunction(invocation.name);
  if (!type) {
    throw new UsageError(`${file} has no exported function ${invocation.name}`, { hint: `exports: ${exportedFunctions(component) || 'none'}` });
  }
  return { invocation, type, args: convertArgs(invocation, type) };
}

/** Calls the export and prints its result as WAVE, by its type (a `result`'s err included). */
async function invoke(instance: Instance, { invocation, type, args }: TypedCall): Promise<number> {
  let value: unknown;
  try {
    value = await instance.call(invocation.name, ...args);
  } catch (err) {
    // The guest answered err: a value like any other (the runtime throws it, as jco does).
    if (!(err instanceof ComponentError) || type.result?.kind !== 'result') throw err;
    process.stdout.write(`${formatValue({ tag: 'err', val: err.payload }, type.result)}\n`);
    return 0;
  }
  if (type.result) process.stdout.write(`${formatValue(type.result.kind === 'result' ? { tag: 'ok', val: value } : value, type.result)}\n`);
  return 0;
}

/** `add, negate, wasi:cli/run@0.2.3#run`: what `--invoke` can call. */
function exportedFunctions(component: CompiledComponent): string {
  const names = component.exports.flatMap((e) => (e.kind === 'function' ? [e.name] : [...(e.functions?.keys() ?? [])].map((f) => `${e.name}#${f}`)));
  return names.length > 12 ? `${names.slice(0, 12).join(', ')}, and ${names.length - 12} more` : names.join(', ');
}

/** `HOST[::GUEST]`: the guest path defaults to the host path, as in wasmtime. */
export function parseDir(spec: string, readOnly: boolean): Preopen {
  const [host, guest] = spec.split('::');
  const hostPath = resolve(host);
  let isDir = false;
  try {
    isDir = statSync(hostPath).isDirectory();
  } catch {
    throw new UsageError(`--dir ${spec}: ${hostPath} does not exist`);
  }
  if (!isDir) throw new UsageError(`--dir ${spec}: ${hostPath} is not a directory`);
  return { hostPath, guestPath: guest || host, readOnly };
}

/** `--env K=V` sets, `--env K` copies K from the host; `--env-inherit` copies everything first. */
export function parseEnv(entries: string[], inherit = false): Record<string, string> {
  const env: Record<string, string> = {};
  if (inherit) Object.assign(env, process.env);
  for (const e of entries) {
    const eq = e.indexOf('=');
    if (eq === 0) throw new UsageError(`--env ${e}: missing variable name`);
    if (eq === -1) {
      const v = process.env[e];
      if (v !== undefined) env[e] = v;
    } else {
      env[e.slice(0, eq)] = e.slice(eq + 1);
    }
  }
  return env;
}

function buildNetwork(opts: RunOptions, flags: WasmtimeFlags): NetworkPolicy {
  const on = opts.net === true || flags.inheritNetwork === true || opts.allowAddr.length > 0;
  return {
    tcp: on,
    udp: on,
    ipNameLookup: opts.net === true || flags.allowIpNameLookup === true,
    allowedAddresses: opts.allowAddr.length > 0 ? opts.allowAddr : undefined,
  };
}
