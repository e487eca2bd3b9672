/**
 * `wasmhost dev <component.wasm | workload.yaml>`: serves a component as `serve` does, or a
 * workload manifest as `up` does, and watches the files it uses (the component; the manifest and
 * every component file it names). On a change it starts the new version beside the old one, as a
 * new workload id: once it runs, the dev router (last started first) sends new requests to it,
 * and the old one is stopped, which waits for its requests in flight. A version that fails to
 * load, compile or start is reported in one line and the old one goes on serving.
 *
 * Watching is on the folders, not the files: an editor that saves by writing a new file and
 * renaming it over the old one replaces the file's inode, which a watch on the file would lose.
 * Events are debounced, and a reload happens only when a file's bytes differ from the last
 * version tried (editors and copies fire several events per save).
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { DEFAULT_ADDRESS, loadWorkloadManifest, type Host, type HttpServer, type Workload } from '../index.ts';
import { startDevHost, untilSignal } from './dev-host.ts';
import { LOG_FORMAT_FLAG, notice, reportError, useLogFormat } from './output.ts';
import { serveWorkload, type ServeOptions } from './serve.ts';
import { OTEL_FLAG } from './telemetry.ts';

/** Quiet time after the last file event before reloading. */
const DEBOUNCE_MS = 150;

export interface DevOptions extends ServeOptions {
  dataDir?: string;
  otel?: boolean;
  /** `--max-guest-memory <size>`: a manifest's instances without their own limit (see limits.ts). */
  maxGuestMemory?: string;
  /** `--allow-host-loopback` (see dev-host.ts). */
  allowHostLoopback?: boolean;
  /** `--webgpu` (see dev-host.ts). */
  webgpu?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Registers `dev`; `withGuestGrants` adds the options `run` and `serve` grant a guest with. */
export function registerDevCommand(program: Command, withGuestGrants: (command: Command) => Command): void {
  withGuestGrants(program.command('dev'))
    .description('serve a component (like serve) or a workload manifest (like up), and reload it whenever its files change')
    .argument('<file>', 'component (.wasm) or workload manifest (.yaml, .yml, .json)')
    .option('--addr <host:port>', 'address to listen on', DEFAULT_ADDRESS)
    .option('--allow-host <host>', 'a component: allow outgoing HTTP to this host (repeatable); without it any host is allowed', collect, [])
    .option('--pool-size <n>', 'a component: warm instances reused across requests (0: a fresh instance per request)', '0')
    .option('--max-invocations <n>', 'a component: requests a pooled instance serves before it is replaced (0: no limit)', '0')
    .option('--timeout <duration>', 'a component: time limit per request (e.g. 500ms, 30s)')
    .option('--max-memory <size>', 'a component: memory limit of each instance, e.g. 64MiB (default 256MiB)')
    .option('--data-dir <dir>', 'a manifest: keep key-value and blobstore data on disk under this folder (default: in memory)')
    .option('--max-guest-memory <size>', 'a manifest: memory limit of each instance whose component sets none, e.g. 64MiB (default 256MiB)')
    .option('--allow-host-loopback', 'let components reach the loopback ports their allowedHostLoopbackPorts name, through host.wasmcloud.internal')
    .option('--webgpu', 'serve wasi:webgpu to workloads that declare it (needs the webgpu package; SwiftShader when there is no GPU)')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (needs --tls-key)')
    .option('--tls-key <file>', 'the PEM private key for --tls-cert')
    .option('--log-level <level>', 'host log level on stderr: trace, debug, info, warn, error, silent', 'warn')
    .option('--cache-dir <dir>', 'where prepared components are cached')
    .option('--no-cache', 'do not use the disk cache')
    .option(...LOG_FORMAT_FLAG)
    .option(...OTEL_FLAG)
    .action(async (file: string, opts: DevOptions) => {
      process.exitCode = await dev(file, opts);
    });
}

const isManifest = (path: string) => ['.yaml', '.yml', '.json'].includes(extname(path).toLowerCase());

export async function dev(file: string, opts: DevOptions): Promise<number> {
  useLogFormat(opts.logFormat, opts.logLevel);
  const path = resolve(file);
  const manifest = isManifest(path);
  if (manifest) {
    const given = [opts.dir.length && '--dir', opts.dirRo.length && '--dir-ro', opts.env.length && '--env', opts.envInherit && '--env-inherit', opts.allowHost.length && '--allow-host'];
    const flags = given.filter(Boolean);
    if (flags.length) throw new UsageError(`${flags.join(', ')}: for a component; a workload manifest says what its components get`, { hint: `set it in ${basename(path)}` });
  }
  const { host, http, listen } = await startDevHost({ ...opts, router: 'dev', dataDir: opts.dataDir && resolve(opts.dataDir), plugins: manifest, listenWhenReady: true });
  const session = new DevSession(host, http, listen, path, manifest ? () => loadWorkloadManifest(path) : async () => serveWorkload(path, opts));
  const stop = async () => {
    session.close();
    await host.stop();
  };
  // Signals are heard from the first version's start on: a first version that fails is
  // reported while dev goes on watching, and a SIGTERM right after must stop it gracefully.
  const stopped = untilSignal(stop);
  try {
    await session.start();
  } catch (err) {
    await stop();
    throw err;
  }
  if (!manifest && opts.allowHost.length === 0) notice('outgoing HTTP may go to any host (development mode); --allow-host restricts it');
  if (manifest) notice(`key-value and blobstore: ${opts.dataDir ? `on disk under ${resolve(opts.dataDir)}` : 'in memory (kept across reloads, gone when stopped; --data-dir keeps them)'}`);
  return stopped;
}

/** The version being served and the one being tried, and the watchers that trigger reloads. */
class DevSession {
  readonly #host: Host;
  readonly #http: HttpServer;
  /** Starts listening: called when the first version runs, so the port never answers before. */
  readonly #listen: () => Promise<void>;
  /** The component or manifest given on the command line. */
  readonly #path: string;
  readonly #load: () => Promise<Workload>;
  /** Folder -> its watcher (the files of a version are looked for in their folders). */
  readonly #watchers = new Map<string, FSWatcher>();
  #files = new Set<string>();
  /** The bytes' digest of each file as the last version tried saw them. */
  #tried = new Map<string, string>();
  #serving: string | undefined;
  #generation = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(host: Host, http: HttpServer, listen: () => Promise<void>, path: string, load: () => Promise<Workload>) {
    this.#host = host;
    this.#http = http;
    this.#listen = listen;
    this.#path = path;
    this.#load = load;
  }

  /** Starts the first version (a failure is reported, and the files are watched for a fix). */
  async start(): Promise<void> {
    this.#watch([this.#path]);
    await this.#reload(true);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }

  /** Watches the folders of `files` (and forgets files no longer used). */
  #watch(files: string[]): void {
    this.#files = new Set(files);
    for (const dir of new Set(files.map((f) => dirname(f)))) {
      if (this.#watchers.has(dir)) continue;
      let watcher: FSWatcher;
      try {
        watcher = watch(dir, { persistent: true }, (_event, name) => {
          // No name (some platforms): any of our files there may have changed; the digests tell.
          if (name === null || this.#files.has(resolve(dir, name.toString()))) this.#changed();
        });
      } catch (err) {
        // A component file in a folder that does not exist: the start says so; the manifest is still watched.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && dir !== dirname(this.#path)) continue;
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        throw new UsageError(`cannot watch ${dir}: ${missing ? 'no such folder' : (err as Error).message}`, {
          cause: err,
          hint: 'dev watches the folder of the file it serves: give a path in an existing folder',
        });
      }
      watcher.on('error', (err) => notice(`watching ${dir} stopped: ${err.message}`));
      this.#watchers.set(dir, watcher);
    }
    for (const [dir, watcher] of this.#watchers) {
      if (![...this.#files].some((f) => dirname(f) === dir)) {
        watcher.close();
        this.#watchers.delete(dir);
      }
    }
  }

  #changed(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#queue(), DEBOUNCE_MS);
  }

  /** One reload at a time; changes seen during one are looked at once it is done. */
  #queue(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#reload(false)
      .catch((err: Error) => this.#failed(basename(this.#path), err.message))
      .finally(() => {
        this.#running = undefined;
        if (this.#again && !this.#closed) {
          this.#again = false;
          this.#queue();
        }
      });
  }

  async #reload(first: boolean): Promise<void> {
    const started = performance.now();
    let workload: Workload | undefined;
    let loadError: Error | undefined;
    try {
      workload = await this.#load();
    } catch (err) {
      loadError = err as Error;
    }
    const files = workload ? filesOf(this.#path, workload) : [...this.#files];
    if (workload) this.#watch(files);
    const digests = await digestAll(files);
    const changed = files.filter((f) => digests.get(f) !== this.#tried.get(f));
    if (!first && changed.length === 0) return; // an event without a change (a touch, a second event of one save)
    this.#tried = digests;
    const what = (first || changed.length === 0 ? [this.#path] : changed).map((f) => basename(f)).join(', ');
    if (!workload) return this.#failed(what, loadError!.message);

    const workloadId = this.#nextId(workload);
    const { workloadStatus } = await this.#host.workloadStart({ workloadId, workload });
    if (workloadStatus.workloadState !== 'WORKLOAD_STATE_RUNNING') {
      await this.#host.workloadStop({ workloadId }); // forget the failed id
      return this.#failed(what, workloadStatus.message.replace(/^start failed: /, ''));
    }
    if (this.#closed) return;
    const old = this.#serving;
    if (old === undefined) await this.#listen();
    this.#serving = workloadId;
    if (old === undefined) this.#announce(workload, workloadId);
    else process.stdout.write(`reloaded ${what} in ${Math.round(performance.now() - started)} ms\n`);
    // New requests reach the new version already; the old one finishes the requests it has.
    if (old !== undefined) {
      this.#host.workloadStop({ workloadId: old }).catch((err: Error) => notice(`stopping the previous version failed: ${err.message}`));
    }
  }

  #failed(what: string, message: string): void {
    reportError(
      `${what}: ${message}`,
      this.#serving === undefined
        ? `nothing is served yet; fix it and save again (dev is watching ${[...this.#files].map((f) => basename(f)).join(', ')})`
        : 'the previous version is still serving; fix it and save again',
    );
  }

  /** What serve and up print, then what is watched. */
  #announce(workload: Workload, workloadId: string): void {
    const urls = this.#http.urls(workloadId);
    if (!isManifest(this.#path)) process.stdout.write(`Serving HTTP on ${this.#http.url.href}\n`);
    else {
      process.stdout.write(`Workload ${workload.namespace}/${workload.name} is running${urls.length ? '' : ' (it serves no HTTP)'}\n`);
      for (const url of urls) process.stdout.write(`  ${url}\n`);
    }
    process.stdout.write(`Watching ${[...this.#files].map((f) => basename(f)).join(', ')} for changes\n`);
  }

  /** Every version is a workload of its own: `app`, then `app-2`, `app-3`... */
  #nextId(workload: Workload): string {
    const base = isManifest(this.#path) ? `${workload.namespace}-${workload.name}` : workload.name;
    this.#generation++;
    return this.#generation === 1 ? base : `${base}-${this.#generation}`;
  }
}

/** The files a version is made of: the manifest (if that is what was given) and every component file. */
function filesOf(path: string, workload: Workload): string[] {
  const files = new Set([path]);
  for (const c of workload.witWorld.components) if (c.file) files.add(resolve(c.file));
  if (workload.service?.file) files.add(resolve(workload.service.file));
  return [...files];
}

/** sha256 of each file's bytes (`missing` when it cannot be read: the start reports why). */
async function digestAll(files: string[]): Promise<Map<string, string>> {
  const entries = await Promise.all(
    files.map(async (f): Promise<[string, string]> => {
      try {
        return [f, createHash('sha256').update(await readFile(f)).digest('hex')];
      } catch {
        return [f, 'missing'];
      }
    }),
  );
  return new Map(entries);
}
