import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Engine, WasiContext, createWasiImports, UsageError, type CompiledComponent, type Instance, type Preopen, type NetworkPolicy } from '../index.ts';
import { Limiter } from '../engine/limits/limiter.ts';
import { DEFAULT_HOST_LIMITS } from '../host/limits.ts';
import { parseDuration } from '../http/route-config.ts';
import { parseSize } from './limits.ts';
import { coerceArgs, formatValue, parseInvocation } from './wave.ts';

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
}

/** `wasmhost run`: runs a command component or preview1 module; answers the exit code. */
export async function run(file: string, guestArgs: string[], opts: RunOptions): Promise<number> {
  const engine = new Engine({ cacheDir: opts.cache === false ? false : opts.cacheDir });
  const component = await engine.compile(file);
  const ctx = new WasiContext({
    args: [file, ...guestArgs],
    env: parseEnv(opts.env, opts.envInherit),
    stdin: 'inherit',
    stdout: 'inherit',
    stderr: 'inherit',
    preopens: [...opts.dir.map((d) => parseDir(d, false)), ...opts.dirRo.map((d) => parseDir(d, true))],
    network: buildNetwork(opts),
  });
  const limiter = new Limiter({
    memoryBytes: opts.maxMemory ? parseSize(opts.maxMemory, '--max-memory') : DEFAULT_HOST_LIMITS.memoryLimitMb * 2 ** 20,
    maxResourceHandles: DEFAULT_HOST_LIMITS.maxResourceHandles,
  });
  limiter.arm({ timeoutMs: opts.timeout ? parseDuration(opts.timeout, '--timeout') : undefined });
  const instance = await component.instantiate(createWasiImports(ctx), { onClose: () => ctx.dispose(), limiter });
  try {
    return await runOrInvoke(file, component, instance, opts.invoke);
  } finally {
    ctx.dispose();
  }
}

async function runOrInvoke(file: string, component: CompiledComponent, instance: Instance, invoke: string | undefined) {
  if (invoke === undefined) {
    if (!component.exportsInterface('wasi:cli/run')) {
      throw new UsageError(`${file} does not export wasi:cli/run`, {
        hint: `call one of its exports with --invoke (exports: ${component.exports.map((e) => e.name).join(', ') || 'none'})`,
      });
    }
    return instance.run();
  }
  const { name, args } = parseInvocation(invoke);
  const result = await instance.call(name, ...coerceArgs(args, component.exportedFunction(name)?.params.map((p) => p.type.kind)));
  if (result !== undefined) process.stdout.write(`${formatValue(result)}\n`);
  return 0;
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

function buildNetwork(opts: RunOptions): NetworkPolicy {
  const on = opts.net === true || opts.allowAddr.length > 0;
  return {
    tcp: on,
    udp: on,
    ipNameLookup: opts.net === true,
    allowedAddresses: opts.allowAddr.length > 0 ? opts.allowAddr : undefined,
  };
}
