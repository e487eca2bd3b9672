import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino, type Logger } from 'pino';
import { loggingPlugin } from '../../src/plugins/logging/index.ts';
import { truncateUtf8 } from '../../src/plugins/logging/truncate.ts';
import type { PluginComponent } from '../../src/plugin/plugin.ts';
import { hosted } from './plugin-harness.ts';

type Line = Record<string, unknown>;

/** A logger like the host's component logger (workload and component fields), writing to `lines`. */
function recordingLogger(level = 'trace'): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const root = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger: root.child({ workload: 'w1', component: 'api' }), lines };
}

async function bindLog(logger: Logger, options?: Parameters<typeof loggingPlugin>[0]) {
  const component = { name: 'api', logger } as PluginComponent; // the plugin reads only the logger
  const impls = (await hosted(loggingPlugin(options)).onComponentBind!(component))!;
  return (impls['wasi:logging/logging@0.1.0-draft'] as { log: (level: string, context: string, message: string) => void }).log;
}

test('declares wasi:logging/logging@0.1.0-draft under the id wasi-logging', () => {
  const plugin = hosted(loggingPlugin());
  assert.equal(plugin.id, 'wasi-logging');
  assert.deepEqual(plugin.imports, [{ namespace: 'wasi', package: 'logging', interfaces: ['logging'], version: '0.1.0-draft' }]);
});

test('each WIT level maps to its pino level, critical to fatal', async () => {
  const { logger, lines } = recordingLogger();
  const log = await bindLog(logger);
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'critical']) log(level, 'ctx', `at ${level}`);
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg]),
    [
      [10, 'at trace'],
      [20, 'at debug'],
      [30, 'at info'],
      [40, 'at warn'],
      [50, 'at error'],
      [60, 'at critical'],
    ],
  );
});

test('lines carry the workload and component fields and the WIT context; an empty context is left out', async () => {
  const { logger, lines } = recordingLogger();
  const log = await bindLog(logger);
  log('info', 'db.pool', 'connected');
  log('info', '', 'no context');
  assert.equal(lines[0]!.workload, 'w1');
  assert.equal(lines[0]!.component, 'api');
  assert.equal(lines[0]!.context, 'db.pool');
  assert.equal(lines[0]!.msg, 'connected');
  assert.equal('context' in lines[1]!, false);
});

test('a message is taken literally: printf-style placeholders are not expanded', async () => {
  const { logger, lines } = recordingLogger();
  const log = await bindLog(logger);
  log('warn', 'fmt', '100%% %s %d %j %o done');
  assert.equal(lines[0]!.msg, '100%% %s %d %j %o done');
});

test("lines below the logger's level are dropped", async () => {
  const { logger, lines } = recordingLogger('warn');
  const log = await bindLog(logger);
  log('info', '', 'dropped');
  log('error', '', 'kept');
  assert.deepEqual(lines.map((l) => l.msg), ['kept']);
});

test('a very long message and context are cut at the limit with a marker saying how much was dropped', async () => {
  const { logger, lines } = recordingLogger();
  const log = await bindLog(logger, { maxBytes: 16 });
  log('info', 'c'.repeat(20), 'm'.repeat(100));
  assert.equal(lines[0]!.msg, `${'m'.repeat(16)}…[truncated 84 bytes]`);
  assert.equal(lines[0]!.context, `${'c'.repeat(16)}…[truncated 4 bytes]`);

  const { logger: defaultLogger, lines: defaultLines } = recordingLogger();
  const logDefault = await bindLog(defaultLogger);
  logDefault('info', '', 'x'.repeat(64 * 1024));
  logDefault('info', '', 'x'.repeat(64 * 1024 + 1));
  assert.equal(defaultLines[0]!.msg, 'x'.repeat(64 * 1024)); // exactly the limit: kept whole
  assert.equal(defaultLines[1]!.msg, `${'x'.repeat(64 * 1024)}…[truncated 1 bytes]`);
});

test('maxBytes must be a positive integer', () => {
  assert.throws(() => hosted(loggingPlugin({ maxBytes: 0 })), /maxBytes must be a positive integer, got 0/);
});

test('truncation never splits a UTF-8 character', () => {
  // "é" is 2 bytes and "😀" 4: a cut at 5 bytes falls inside the emoji, so it is dropped whole.
  assert.equal(truncateUtf8('é😀abc', 5), 'é…[truncated 7 bytes]');
  assert.equal(truncateUtf8('é😀abc', 6), 'é😀…[truncated 3 bytes]');
  assert.equal(truncateUtf8('short', 5), 'short');
});

test('an unknown level is a host bug and throws an Error (a trap for the guest)', async () => {
  const { logger } = recordingLogger();
  const log = await bindLog(logger);
  assert.throws(() => log('verbose', '', 'x'), /unknown wasi:logging level "verbose"/);
  assert.throws(() => log('constructor', '', 'x'), /unknown wasi:logging level "constructor"/);
});
