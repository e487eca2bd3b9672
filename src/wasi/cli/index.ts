import { ExitError } from '../../errors.ts';
import type { WasiContext } from '../context.ts';
import { InputStream, OutputStream } from '../io/streams.ts';

/** `wasi:cli/terminal-input.terminal-input`: no methods; its presence says "this is a terminal". */
export class TerminalInput {}
/** `wasi:cli/terminal-output.terminal-output`. */
export class TerminalOutput {}

/** `wasi:cli/*` for one instance: its own args, env, stdio and exit. */
export function cliImports(ctx: WasiContext) {
  return {
    'wasi:cli/environment': {
      getEnvironment: () => ctx.env.map(([k, v]) => [k, v]),
      getArguments: () => [...ctx.args],
      initialCwd: () => ctx.cwd,
    },
    'wasi:cli/exit': {
      // Thrown through the guest's frames: ends this instance, never the process.
      exit(status: { tag: 'ok' | 'err' }): never {
        throw new ExitError(status.tag === 'ok' ? 0 : 1);
      },
      exitWithCode(code: number): never {
        throw new ExitError(code);
      },
    },
    // proc_exit of preview1 modules, rerouted around the adapter so the exit code survives.
    'wasmhost:preview1/exit': {
      exit(code: number): never {
        throw new ExitError(code);
      },
    },
    'wasi:cli/stdin': { getStdin: () => new InputStream(ctx.stdin) },
    'wasi:cli/stdout': { getStdout: () => new OutputStream(ctx.stdout) },
    'wasi:cli/stderr': { getStderr: () => new OutputStream(ctx.stderr) },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => (ctx.terminal.stdin ? new TerminalInput() : undefined) },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => (ctx.terminal.stdout ? new TerminalOutput() : undefined) },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => (ctx.terminal.stderr ? new TerminalOutput() : undefined) },
  };
}
