import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { LimitExceededError, WasmhostError, TrapError } from '../errors.ts';
import { DEFAULT_ADDRESS } from '../index.ts';
import { run } from './run.ts';
import { serve } from './serve.ts';
import { up } from './up.ts';
import { registerOciCommands } from './oci.ts';
import { LOG_FORMAT_FLAG } from './output.ts';
import { messagesSent, reportFailure } from './workers.ts';
import { registerDevCommand } from './dev.ts';
import { OTEL_FLAG } from './telemetry.ts';

/** src/cli/main.ts and dist/cli/main.js alike sit two levels under the package root. */
const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

const collect = (value: string, previous: string[]) => [...previous, value];

/** What `run` and `serve` may grant a guest: directories and environment variables. */
function withGuestGrants(command: Command): Command {
  return command
    .option('--dir <host[::guest]>', 'preopen a host directory (guest path defaults to the host path)', collect, [])
    .option('--dir-ro <host[::guest]>', 'preopen a host directory read-only', collect, [])
    .option('--env <K=V|K>', 'set a guest environment variable (K alone copies it from the host)', collect, [])
    .option('--env-inherit', 'copy the whole host environment into the guest (off by default)');
}

/** Builds the `wasmhost` command; `exit` receives the process exit code. */
export function buildProgram(): Command {
  const program = new Command('wasmhost')
    .description('Run WebAssembly components on Node.js. `wasmhost <file> [args...]` runs a component as `run` does.')
    .version(VERSION)
    .showSuggestionAfterError()
    .enablePositionalOptions()
    .exitOverride();

  withGuestGrants(program.command('run'))
    .description('run a command component (wasi:cli/run) or a WASI preview1 module, like `wasmtime run`')
    .argument('<file>', 'component or core module (.wasm, or .wat text)')
    .argument('[args...]', 'arguments passed to the guest (put -- first if they start with -)')
    .option('--invoke <call>', 'call an export instead of wasi:cli/run, in WAVE syntax: add(1, 2), wasi:cli/run#run')
    .option('-S, --wasi <key[=value]>', "wasmtime's WASI switches: inherit-env, inherit-network, allow-ip-name-lookup, http (repeatable, or comma-separated)", collect, [])
    .option('-W, --wasm <key[=value]>', "wasmtime's wasm limits: max-memory-size=<bytes>, timeout=<duration> (repeatable, or comma-separated)", collect, [])
    .option('--net', 'allow TCP/UDP to any address and name lookups')
    .option('--allow-addr <cidr>', 'allow TCP/UDP to this address range (repeatable)', collect, [])
    .option('--max-memory <size>', 'memory limit of the guest (linear memories and tables), e.g. 64MiB (default 256MiB)')
    .option('--timeout <duration>', 'stop the guest after this long, e.g. 2s (default: none)')
    .option('--cache-dir <dir>', 'where prepared components are cached')
    .option('--no-cache', 'do not use the disk cache')
    .passThroughOptions()
    .action(async (file: string, args: string[], opts) => {
      // `run [options] file -- args`: the separator is ours, not the guest's.
      process.exitCode = await run(file, args[0] === '--' ? args.slice(1) : args, opts);
    });

  withGuestGrants(program.command('serve'))
    .description('serve a wasi:http component (wasi:http/incoming-handler), like `wasmtime serve`')
    .argument('<file>', 'component (.wasm, or .wat text)')
    .option('--addr <host:port>', 'address to listen on', DEFAULT_ADDRESS)
    .option('--workers <n>', 'processes sharing the port, each a full host (default 1)')
    .option('--allow-host <host>', 'allow outgoing HTTP to this host (`*.example.com`, `api.x:8080`; repeatable); without it any host is allowed', collect, [])
    .option('--pool-size <n>', 'warm instances reused across requests (0: a fresh instance per request)', '0')
    .option('--max-invocations <n>', 'requests a pooled instance serves before it is replaced (0: no limit)', '0')
    .option('--timeout <duration>', 'time limit per request: the guest is stopped and the client gets 504 (e.g. 500ms, 30s)')
    .option('--max-memory <size>', 'memory limit of each instance (linear memories and tables), e.g. 64MiB (default 256MiB)')
    .option('--no-limits', 'compile without the limits instrumentation: no time, memory or handle limit holds (to measure their cost)')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (needs --tls-key)')
    .option('--tls-key <file>', 'the PEM private key for --tls-cert')
    .option('--log-level <level>', 'host log level on stderr: trace, debug, info, warn, error, silent', 'warn')
    .option(...LOG_FORMAT_FLAG)
    .option('--cache-dir <dir>', 'where prepared components are cached')
    .option('--no-cache', 'do not use the disk cache')
    .option(...OTEL_FLAG)
    .action(async (file: string, opts) => {
      process.exitCode = await serve(file, opts);
    });

  program
    .command('up')
    .description('run a workload manifest on an embedded host with the development plugins, serving its HTTP')
    .argument('<manifest>', 'workload manifest (.yaml or .json)')
    .option('--addr <host:port>', 'address to listen on', DEFAULT_ADDRESS)
    .option('--router <dev|host>', 'dev: every request to the workload; host: by Host header and path', 'dev')
    .option('--workers <n>', 'processes sharing the port, each a full host (default 1; needs shared state: --data-dir)')
    .option('--data-dir <dir>', 'keep key-value and blobstore data on disk under this folder (default: in memory)')
    .option('--max-guest-memory <size>', 'memory limit of each instance whose component sets none, e.g. 64MiB (default 256MiB)')
    .option('--allow-host-loopback', 'let components reach the loopback ports their allowedHostLoopbackPorts name, through host.wasmcloud.internal')
    .option('--webgpu', 'serve wasi:webgpu to workloads that declare it (needs the webgpu package; SwiftShader when there is no GPU)')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (needs --tls-key)')
    .option('--tls-key <file>', 'the PEM private key for --tls-cert')
    .option('--log-level <level>', 'host log level on stderr: trace, debug, info, warn, error, silent', 'info')
    .option(...LOG_FORMAT_FLAG)
    .option('--cache-dir <dir>', 'where prepared components are cached')
    .option('--no-cache', 'do not use the disk cache')
    .option(...OTEL_FLAG)
    .action(async (manifest: string, opts) => {
      process.exitCode = await up(manifest, opts);
    });

  // Loaded on use: the NATS and PostgreSQL clients stay out of the other commands.
  const nats = (command: Command, which: 'scheduler' | 'data', what: string) =>
    command
      .option(`--${which}-nats-url <url>`, `NATS for ${what} (comma-separated servers)`, 'nats://localhost:4222')
      .option(`--${which}-nats-tls-ca <file>`, `PEM CA certificate that signed the ${which} NATS server's certificate`)
      .option(`--${which}-nats-tls-cert <file>`, `PEM client certificate for the ${which} NATS connection (needs the key)`)
      .option(`--${which}-nats-tls-key <file>`, `PEM private key of --${which}-nats-tls-cert`)
      .option(`--${which}-nats-tls-first`, `TLS handshake before the NATS protocol on the ${which} connection`)
      .option(`--${which}-nats-creds <file>`, `NATS credentials file (user JWT and seed) for the ${which} connection`);
  const host = program
    .command('host')
    .description('run a cluster host: an operator starts and stops workloads over NATS (like `wash host`)')
    .option('--host-group <name>', 'the hostgroup label operators place workloads by', 'default')
    .option('--host-name <name>', 'the hostname the heartbeat reports (default: the machine\'s)')
    .option('--label <key=value>', 'another host label (repeatable)', collect, []);
  nats(host, 'scheduler', 'the control plane (workload start/stop/status, heartbeats)');
  nats(host, 'data', 'the data plane (key-value, blobstore, messaging)');
  host
    .option('--http-addr <host:port>', 'serve workloads\' HTTP here, routed by Host header (default: no HTTP)')
    .option('--workers <n>', 'processes running the workloads, each a full host sharing --http-addr; the cluster still sees one host (default 1)')
    .option('--max-guest-memory <size>', 'memory limit of each instance whose component sets none, e.g. 64MiB (default 256MiB)')
    .option('--allow-host-loopback', 'let components reach the loopback ports their allowedHostLoopbackPorts name, through host.wasmcloud.internal')
    .option('--webgpu', 'serve wasi:webgpu to workloads that declare it (needs the webgpu package; SwiftShader when there is no GPU)')
    .option('--environment <name>', 'the environment the heartbeat advertises (a namespace, a region); operators place workloads by it')
    .option('--tls-cert-path <file>', 'serve HTTPS with this PEM certificate (needs --tls-key-path)')
    .option('--tls-key-path <file>', 'the PEM private key for --tls-cert-path')
    .option('--postgres-url <url>', 'PostgreSQL for wasmcloud:postgres (and for key-value/blobstore with the backend flags)')
    .option('--keyvalue-backend <nats|postgres>', 'where wasi:keyvalue data lives', 'nats')
    .option('--blobstore-backend <nats|postgres>', 'where wasi:blobstore data lives', 'nats')
    .option('--allow-insecure-registries', 'pull images over plain HTTP')
    .option('--registry-pull-timeout <duration>', 'time limit of one image pull', '30s')
    .option('--oci-cache-dir <dir>', 'where pulled images are cached')
    .option('--heartbeat-interval <duration>', 'how often the heartbeat is published', '15s')
    .option('--log-level <level>', 'host log level on stderr: trace, debug, info, warn, error, silent', 'info')
    .option(...LOG_FORMAT_FLAG)
    .option('--cache-dir <dir>', 'where prepared components are cached')
    .option('--no-cache', 'do not use the disk cache')
    .option(...OTEL_FLAG)
    .action(async (opts) => {
      const { hostCommand } = await import('./host.ts');
      process.exitCode = await hostCommand(opts);
    });

  registerDevCommand(program, withGuestGrants);
  registerOciCommands(program);

  return program;
}

/**
 * `wasmhost app.wasm [args]` is `wasmhost run app.wasm [args]`, as `wasmtime app.wasm` is: when
 * the first word is no command but a file, a `.wasm`/`.wat` name, or an option of `run`.
 */
function withDefaultCommand(argv: string[], program: Command): string[] {
  const first = argv[0];
  if (first === undefined || ['-h', '--help', '-V', '--version'].includes(first)) return argv;
  if (first === 'help' || program.commands.some((c) => c.name() === first || c.aliases().includes(first))) return argv;
  return first.startsWith('-') || /\.(wasm|wat)$/i.test(first) || existsSync(first) ? ['run', ...argv] : argv;
}

/** Runs the CLI: one-line errors with a hint, never a stack trace for expected failures. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(withDefaultCommand(argv, program), { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof WasmhostError) {
      reportFailure(err.message, err.hint);
      await messagesSent();
      // wasmtime exits with 128 + SIGABRT on a trap (a limit stops the guest with one too);
      // scripts that check for it keep working.
      return err instanceof TrapError || err instanceof LimitExceededError ? 134 : 1;
    }
    reportFailure(err instanceof Error ? err.message : String(err), undefined);
    await messagesSent();
    if (process.env.WASMHOST_DEBUG) console.error(err);
    return 1;
  }
}
