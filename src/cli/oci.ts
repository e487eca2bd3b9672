/**
 * `wasmhost push <ref> <file.wasm>` and `wasmhost pull <ref> [-o file]`. Results go to stdout
 * (the digest; for pull also the file), progress and errors to stderr; progress only on a
 * terminal, and only for layers big enough to wait for.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { defaultCacheDir } from '../cache-dir.ts';
import { parseDuration } from '../duration.ts';
import { describeBinary } from '../engine.ts';
import { OciClient, type Credentials, type PullPolicy } from '../oci/index.ts';

interface CommonOptions {
  user?: string;
  password?: string;
  passwordStdin?: boolean;
  insecure?: boolean;
  timeout?: string;
  cacheDir?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Adds `push` and `pull` to the program. */
export function registerOciCommands(program: Command): void {
  withRegistryOptions(program.command('push'))
    .description('push a component to an OCI registry (prints the manifest digest)')
    .argument('<ref>', 'image reference, e.g. ghcr.io/org/app:1.0 or 127.0.0.1:5000/app:dev')
    .argument('<file>', 'the component (.wasm)')
    .option('--annotation <key=value>', 'add a manifest annotation (repeatable)', collect, [])
    .action(async (ref: string, file: string, opts: CommonOptions & { annotation: string[] }) => {
      process.exitCode = await push(ref, file, opts);
    });

  withRegistryOptions(program.command('pull'))
    .description('pull a component from an OCI registry (prints the manifest digest, then the file path)')
    .argument('<ref>', 'image reference, optionally pinned: app:1.0@sha256:...')
    .option('-o, --output <file>', 'write the component here (default: print the path in the cache)')
    .option('--pull-policy <policy>', 'always (ask the registry), if-not-present (cache first), never (cache only)', 'always')
    .action(async (ref: string, opts: CommonOptions & { output?: string; pullPolicy: string }) => {
      process.exitCode = await pull(ref, opts);
    });
}

function withRegistryOptions(command: Command): Command {
  return command
    .option('-u, --user <name>', 'registry user name (default: from the Docker config, else anonymous)')
    .option('-p, --password <password>', 'registry password or token (needs --user)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--insecure', 'talk to the registry over plain HTTP')
    .option('--timeout <duration>', 'time limit of the whole operation, e.g. 2m (default 30s)')
    .option('--cache-dir <dir>', 'cache root (images go under <dir>/oci; the same as run and serve use)');
}

export async function push(ref: string, file: string, opts: CommonOptions & { annotation: string[] }): Promise<number> {
  const annotations: Record<string, string> = {};
  for (const a of opts.annotation) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`--annotation ${a}: expected key=value`);
    annotations[a.slice(0, eq)] = a.slice(eq + 1);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message}`);
  }
  const client = clientFor(opts);
  const result = await client.push(ref, bytes, { annotations, source: file, ...(await operation(opts)) });
  process.stdout.write(`${result.digest}\n`);
  return 0;
}

export async function pull(ref: string, opts: CommonOptions & { output?: string; pullPolicy: string }): Promise<number> {
  const policy = parsePolicy(opts.pullPolicy);
  const client = clientFor(opts);
  const progress = progressDisplay(ref);
  let result;
  try {
    result = await client.pull(ref, { policy, ...(await operation(opts)), ...(progress ? { onProgress: progress.update } : {}) });
  } finally {
    progress?.done();
  }
  let path = result.path;
  if (opts.output) {
    path = resolve(opts.output);
    await writeFile(path, result.bytes);
  }
  process.stdout.write(`${result.digest}\n${path}\n`);
  return 0;
}

function clientFor(opts: CommonOptions): OciClient {
  return new OciClient({
    describeBinary,
    cacheDir: join(opts.cacheDir ?? defaultCacheDir(), 'oci'),
    insecure: opts.insecure === true,
    ...(opts.timeout ? { timeoutMs: parseDuration(opts.timeout, '--timeout') } : {}),
  });
}

async function operation(opts: CommonOptions): Promise<{ credentials?: Credentials }> {
  if (opts.password !== undefined && opts.passwordStdin) throw new UsageError('--password and --password-stdin exclude each other');
  const password = opts.passwordStdin ? await readStdin() : opts.password;
  if (opts.user === undefined && password === undefined) return {};
  if (opts.user === undefined) throw new UsageError('a password needs --user');
  if (password === undefined) throw new UsageError(`--user ${opts.user} needs --password or --password-stdin`);
  return { credentials: { username: opts.user, password } };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // `echo $TOKEN | wasmhost push --password-stdin` adds a newline that is not part of it.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export function parsePolicy(text: string): PullPolicy {
  const key = text.trim().toUpperCase().replaceAll('-', '_').replace(/^IMAGE_PULL_POLICY_/, '');
  if (key === 'ALWAYS' || key === 'IF_NOT_PRESENT' || key === 'NEVER') return key;
  throw new UsageError(`--pull-policy ${text}: expected always, if-not-present or never`);
}

/** Layers smaller than this arrive before a progress line would be read. */
const PROGRESS_MIN_BYTES = 1024 * 1024;

function progressDisplay(ref: string): { update: (received: number, total: number) => void; done: () => void } | undefined {
  const err = process.stderr;
  if (!err.isTTY) return undefined;
  let last = 0;
  let shown = false;
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  return {
    update(received, total) {
      if (total < PROGRESS_MIN_BYTES) return;
      const now = Date.now();
      if (received < total && now - last < 100) return;
      last = now;
      shown = true;
      err.write(`\r\x1b[Kpulling ${ref}: ${mib(received)} / ${mib(total)} MiB (${Math.floor((received / total) * 100)}%)`);
    },
    done() {
      if (shown) err.write('\r\x1b[K');
    },
  };
}
