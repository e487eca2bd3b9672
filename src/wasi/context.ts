import { Readable, Writable } from 'node:stream';
import { BytesSource, CallbackSink, MemorySink, NullSink, ReadableSource, WritableSink } from './io/pipes.ts';
import type { InputSource, OutputSink } from './io/streams.ts';

/** A host directory made visible to the guest at `guestPath`. */
export interface Preopen {
  hostPath: string;
  guestPath: string;
  /** Writes, creations, renames, removals and metadata changes are refused. */
  readOnly?: boolean;
}

/** What the guest may do on the network (`wasi:sockets`). Everything is off unless granted. */
export interface NetworkPolicy {
  tcp?: boolean;
  udp?: boolean;
  /**
   * Names the guest may resolve (`wasi:sockets/ip-name-lookup`): `true` for any, or a list of
   * grants (`*`, `*.example.com`, `api.example.com`, `10.0.0.1`); absent, false or empty: none.
   * `host.wasmcloud.internal` always resolves; reaching it is `hostLoopbackPorts`'s to grant.
   */
  ipNameLookup?: boolean | readonly string[];
  /**
   * Ports on the machine's own loopback the guest may reach through `host.wasmcloud.internal`
   * (`5432`, `5432/tcp`; TCP only so far), whatever `tcp` and `allowedAddresses` say. Absent: none.
   */
  hostLoopbackPorts?: readonly string[];
  /**
   * CIDR ranges (`127.0.0.0/8`, `::1/128`) the guest may bind or connect to. Undefined allows
   * every address once `tcp` or `udp` is on; an empty list allows none.
   */
  allowedAddresses?: string[];
}

export type StdinOption = 'inherit' | 'ignore' | string | Uint8Array | Readable;
export type OutputOption = 'inherit' | 'ignore' | 'capture' | Writable | ((chunk: Uint8Array) => void);

export interface WasiOptions {
  /** `args[0]` is the program name, as on a command line. */
  args?: string[];
  /** Exactly the guest's environment: the host's own is never inherited implicitly. */
  env?: Record<string, string>;
  /** `wasi:cli/environment.initial-cwd`. */
  cwd?: string;
  stdin?: StdinOption;
  stdout?: OutputOption;
  stderr?: OutputOption;
  /** Bytes kept by `'capture'` outputs before writes fail. */
  captureLimit?: number;
  preopens?: Preopen[];
  network?: NetworkPolicy;
}

/** Every default in one place: nothing granted, output discarded, no input. */
export const WASI_DEFAULTS = Object.freeze({
  args: [] as string[],
  env: {} as Record<string, string>,
  stdin: 'ignore' as StdinOption,
  stdout: 'ignore' as OutputOption,
  stderr: 'ignore' as OutputOption,
  captureLimit: 64 * 1024 * 1024,
  preopens: [] as Preopen[],
  network: Object.freeze({ tcp: false, udp: false, ipNameLookup: false }) as NetworkPolicy,
});

/**
 * All of one instance's WASI state (wasmtime's `WasiCtx`). Built once from options; each
 * interface implementation reads only its own slice of it.
 */
export class WasiContext {
  readonly args: readonly string[];
  readonly env: ReadonlyArray<readonly [string, string]>;
  readonly cwd: string | undefined;
  readonly preopens: readonly Preopen[];
  readonly network: Readonly<NetworkPolicy>;
  readonly stdout: OutputSink;
  readonly stderr: OutputSink;
  readonly #stdinOption: StdinOption;
  #stdin: InputSource | undefined;
  readonly #cleanups: (() => void)[] = [];
  // Created on first use: most instances never wait on anything, and aborting builds a DOMException.
  #lifetime: AbortController | undefined;
  #disposed = false;
  /** Whether the guest's stdio is the host process's own terminal. */
  readonly terminal: { stdin: boolean; stdout: boolean; stderr: boolean };

  constructor(options: WasiOptions = {}) {
    const o = withDefaults(options);
    this.args = [...o.args];
    this.env = Object.entries(o.env).map(([k, v]) => [k, String(v)] as const);
    this.cwd = o.cwd;
    this.preopens = o.preopens.map((p) => ({ ...p }));
    this.network = { ...o.network };
    this.#stdinOption = o.stdin;
    this.stdout = makeSink(o.stdout, process.stdout, o.captureLimit);
    this.stderr = makeSink(o.stderr, process.stderr, o.captureLimit);
    this.terminal = {
      stdin: o.stdin === 'inherit' && process.stdin.isTTY === true,
      stdout: o.stdout === 'inherit' && process.stdout.isTTY === true,
      stderr: o.stderr === 'inherit' && process.stderr.isTTY === true,
    };
  }

  /** Created on first use, so a guest that never reads stdin never holds the host's stdin open. */
  get stdin(): InputSource {
    this.#stdin ??= makeSource(this.#stdinOption);
    return this.#stdin;
  }

  /** Aborted when the context is disposed: waits the guest is blocked in end with an error. */
  get lifetime(): AbortSignal {
    if (!this.#lifetime) {
      this.#lifetime = new AbortController();
      if (this.#disposed) this.#lifetime.abort();
    }
    return this.#lifetime.signal;
  }

  /** Registers cleanup for host resources the instance holds (sockets, file handles). */
  onDispose(fn: () => void): void {
    this.#cleanups.push(fn);
  }

  /**
   * Releases everything the instance still holds. Call it when the instance is done (the CLI
   * and the host do); passing `onClose: () => ctx.dispose()` to `instantiate` covers exit and traps.
   */
  dispose(): void {
    this.#disposed = true;
    this.#lifetime?.abort();
    for (const fn of this.#cleanups.splice(0)) {
      try {
        fn();
      } catch {
        // Cleanup is best effort: one failing release must not keep the others from running.
      }
    }
  }

  /** What a `'capture'` stdout received. */
  capturedStdout(): Buffer {
    return this.stdout instanceof MemorySink ? this.stdout.contents() : Buffer.alloc(0);
  }

  capturedStderr(): Buffer {
    return this.stderr instanceof MemorySink ? this.stderr.contents() : Buffer.alloc(0);
  }
}

/** The options over the defaults, an undefined option meaning the default (a plain loop: this runs for every instance). */
function withDefaults(options: WasiOptions): typeof WASI_DEFAULTS & WasiOptions {
  const o: Record<string, unknown> = { ...WASI_DEFAULTS };
  for (const key in options) {
    const value = options[key as keyof WasiOptions];
    if (value !== undefined) o[key] = value;
  }
  return o as unknown as typeof WASI_DEFAULTS & WasiOptions;
}

function makeSource(option: StdinOption): InputSource {
  if (option === 'inherit') return new ReadableSource(process.stdin);
  if (option === 'ignore') return new BytesSource(new Uint8Array(0));
  if (typeof option === 'string') return new BytesSource(Buffer.from(option));
  if (option instanceof Uint8Array) return new BytesSource(option);
  if (option instanceof Readable) return new ReadableSource(option);
  throw new TypeError(`unsupported stdin option: ${String(option)}`);
}

function makeSink(option: OutputOption, inherited: Writable, limit: number): OutputSink {
  if (option === 'inherit') return new WritableSink(inherited);
  if (option === 'ignore') return new NullSink();
  if (option === 'capture') return new MemorySink(limit);
  if (typeof option === 'function') return new CallbackSink(option);
  if (option instanceof Writable) return new WritableSink(option);
  throw new TypeError(`unsupported output option: ${String(option)}`);
}
