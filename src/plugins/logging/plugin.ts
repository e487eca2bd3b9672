import type { Level as PinoLevel } from 'pino';
import { pluginInterface, type Plugin, type PluginComponent } from '../../plugin/plugin.ts';
import { truncateUtf8 } from './truncate.ts';

export interface LoggingPluginOptions {
  /** Longest message or context kept, in UTF-8 bytes; longer ones are cut with a marker. Default 64 KiB. */
  maxBytes?: number;
}

const LOGGING = 'wasi:logging/logging@0.1.0-draft';

/** WIT `level` (an enum: its case name) to pino's level; pino has no `critical`. */
const LEVELS: ReadonlyMap<string, PinoLevel> = new Map([
  ['trace', 'trace'],
  ['debug', 'debug'],
  ['info', 'info'],
  ['warn', 'warn'],
  ['error', 'error'],
  ['critical', 'fatal'],
]);

/**
 * Serves `wasi:logging/logging` into the host's structured log: each guest line goes to the
 * component's logger (which carries the workload and component fields), the WIT `context` as a
 * `context` field when not empty.
 */
export function loggingPlugin(options: LoggingPluginOptions = {}): Plugin {
  const maxBytes = options.maxBytes ?? 64 * 1024;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError(`loggingPlugin: maxBytes must be a positive integer, got ${maxBytes}`);
  return {
    id: 'wasi-logging',
    imports: [pluginInterface(LOGGING)],
    onComponentBind({ logger }: PluginComponent) {
      const log = (level: string, context: string, message: string): void => {
        const pinoLevel = LEVELS.get(level);
        // jco lowers only the enum's cases, so an unknown level is a host bug.
        if (pinoLevel === undefined) throw new TypeError(`unknown wasi:logging level ${JSON.stringify(level)}`);
        if (!logger.isLevelEnabled(pinoLevel)) return; // skip the work for lines nobody keeps
        const fields = context === '' ? {} : { context: truncateUtf8(context, maxBytes) };
        // With no further arguments pino takes the message literally: `%s` in it stays as is.
        logger[pinoLevel](fields, truncateUtf8(message, maxBytes));
      };
      return { [LOGGING]: { log } };
    },
  };
}
