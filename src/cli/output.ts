/**
 * How the long-running commands (`serve`, `up`, `host`) speak on stderr: one format for
 * everything they say there, chosen once per process.
 *
 * - `human` (the default, terminal or not): a log line is `LEVEL  where: message key=value`, an
 *   error carries its message once (never the JSON of its stack and causes), and notes are
 *   `note: ...` lines. Human whether or not stderr is a terminal, so piping to a file or `grep`
 *   reads the same as the screen.
 * - `json` (`--log-format json`, or `WASMHOST_LOG_FORMAT=json` for a container): every line on
 *   stderr is a pino JSON object, notes and the final error included, for a log collector.
 *
 * What a command answers (the URL it serves, a workload's state) goes to stdout as plain lines
 * either way.
 */
import { destination, pino, type DestinationStream, type Logger } from 'pino';
import { UsageError } from '../errors.ts';

export type LogFormat = 'human' | 'json';

export const LOG_FORMAT_FLAG = ['--log-format <human|json>', 'what stderr carries: human lines (default) or JSON log lines (also WASMHOST_LOG_FORMAT=json)'] as const;

let format: LogFormat = 'human';
let quiet = false;

/** The format of `--log-format` (else `WASMHOST_LOG_FORMAT`, else human), set for the whole process. */
export function useLogFormat(flag: string | undefined, level?: string): LogFormat {
  const value = flag ?? process.env.WASMHOST_LOG_FORMAT ?? 'human';
  if (value !== 'human' && value !== 'json') {
    throw new UsageError(`${flag === undefined ? 'WASMHOST_LOG_FORMAT=' : '--log-format '}${value}: expected human or json`);
  }
  format = value;
  quiet = level === 'silent';
  return value;
}

export function logFormat(): LogFormat {
  return format;
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * An error as a log field: its class, code, message and hint, the message of its cause, and (in
 * JSON) the stack. pino's standard serializer appends every cause's message to the error's own,
 * which printed a trap's text twice (`guest trapped: unreachable: unreachable`).
 */
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & { code?: unknown; hint?: unknown };
  const out: Record<string, unknown> = { type: e.name, message: e.message };
  if (e.code !== undefined) out.code = e.code;
  if (e.hint !== undefined) out.hint = e.hint;
  if (e.cause instanceof Error && !e.message.includes(e.cause.message)) out.cause = e.cause.message;
  if (format === 'json' && e.stack) out.stack = e.stack;
  return out;
}

/** The host's logger on stderr, in the process's format. */
export function createLogger(level: string): Logger {
  // A worker of `--workers` says which one it is.
  const worker = process.env.WASMHOST_WORKER;
  const options = { level, base: worker ? { worker: Number(worker) } : undefined, serializers: { err: serializeError } };
  return pino(options, format === 'json' ? destination({ fd: 2, sync: true }) : humanStream());
}

/** pino writes a JSON line; this prints it as `LEVEL  where: message key=value`. */
function humanStream(): DestinationStream {
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        process.stderr.write(line);
        return;
      }
      process.stderr.write(`${humanLine(entry)}\n`);
    },
  };
}

/** Fields shown as the line's source rather than as key=value: the workload (by name when known), component, plugin. */
const WHERE = ['workload', 'workloadId', 'component', 'plugin'];
const HIDDEN = new Set(['level', 'time', 'msg', 'err', 'part', 'pid', 'hostname', 'worker', 'trace_id', 'span_id', 'trace_flags', ...WHERE]);

export function humanLine(entry: Record<string, unknown>): string {
  const level = (LEVELS[entry.level as number] ?? String(entry.level)).toUpperCase().padEnd(5);
  const named = (k: string) => (typeof entry[k] === 'string' && entry[k] !== '' ? (entry[k] as string) : undefined);
  const where = [
    entry.worker !== undefined ? `worker ${String(entry.worker)}` : undefined,
    named('workload') ?? named('workloadId'),
    named('component'),
    named('plugin'),
  ]
    .filter(Boolean)
    .join(' ');
  const err = entry.err as { message?: string; hint?: string; cause?: string } | undefined;
  let text = String(entry.msg ?? '');
  if (err?.message) text += `${text ? ': ' : ''}${err.message}${err.cause ? ` (${err.cause})` : ''}`;
  const fields = Object.entries(entry)
    // wasi:logging's context is shown only when it says more than the component's name.
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined && !(k === 'context' && v === entry.component))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`);
  const hint = err?.hint ? ` (hint: ${err.hint})` : '';
  return `${level} ${where ? `${where}: ` : ''}${text}${fields.length ? ` ${fields.join(' ')}` : ''}${hint}`;
}

/** Something the user should know, not a log event: `note: ...`, or an info line in JSON. */
export function notice(text: string): void {
  if (quiet) return;
  if (format === 'json') process.stderr.write(`${JSON.stringify({ level: 30, time: Date.now(), msg: text })}\n`);
  else process.stderr.write(`note: ${text}\n`);
}

/** The command's last word when it fails: `error: ...` and `hint: ...`, or one fatal JSON line. */
export function reportError(message: string, hint: string | undefined): void {
  if (format === 'json') {
    process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), msg: message, ...(hint ? { hint } : {}) })}\n`);
  } else {
    process.stderr.write(`error: ${message}\n${hint ? `hint: ${hint}\n` : ''}`);
  }
}
