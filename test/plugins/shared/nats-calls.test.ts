// The time bound and error words the NATS backends share (src/plugins/shared/nats-calls.ts), without a
// server: the watchdog's timing, and which errors count as which failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NatsCallTimeout, isNoResponders, isStreamNotFound, isWrongLastSequence, jetStreamCode, withWatchdog } from '../../../src/plugins/shared/nats-calls.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('withWatchdog: answers the work, or fails after timeoutMs of silence, aborting the work', async () => {
  assert.equal(await withWatchdog(200, async () => 'done'), 'done');
  await assert.rejects(
    withWatchdog(200, async () => {
      throw new TypeError('from the work');
    }),
    TypeError,
  );

  let signalled: unknown;
  const started = Date.now();
  await assert.rejects(
    withWatchdog(150, (_alive, signal) => {
      signal.addEventListener('abort', () => (signalled = signal.reason));
      // Never settles, then rejects late: the late rejection must not surface as unhandled.
      return new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 400));
    }),
    (err: unknown) => err instanceof NatsCallTimeout && /NATS did not answer within 150 ms/.test(err.message),
  );
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 140 && elapsed < 1000, `${elapsed} ms`);
  assert.ok(signalled instanceof NatsCallTimeout);
  await sleep(400);
});

test('withWatchdog: a call that keeps making progress outlives timeoutMs; one that goes quiet does not', async () => {
  const steady = await withWatchdog(100, async (alive) => {
    for (let i = 0; i < 6; i++) {
      await sleep(50);
      alive();
    }
    return 'finished after about 300 ms';
  });
  assert.equal(steady, 'finished after about 300 ms');
  await assert.rejects(
    withWatchdog(100, async (alive) => {
      await sleep(50);
      alive();
      await sleep(500);
    }),
    NatsCallTimeout,
  );
});

test('error shapes: JetStream API codes only from JetStream API errors; no responders also inside a RequestError', () => {
  const apiError = (code: number) => Object.assign(new Error('api'), { code, apiError: () => ({}) });
  assert.equal(jetStreamCode(apiError(10059)), 10059);
  assert.equal(isStreamNotFound(apiError(10059)), true);
  assert.equal(isWrongLastSequence(apiError(10071)), true);
  assert.equal(isWrongLastSequence(apiError(10164)), true);
  assert.equal(isWrongLastSequence(apiError(10059)), false);
  // DOMException (btoa's InvalidCharacterError) has a numeric code too: not a JetStream error.
  assert.equal(jetStreamCode(new DOMException('Invalid character', 'InvalidCharacterError')), undefined);
  assert.equal(jetStreamCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), undefined);
  assert.equal(jetStreamCode(undefined), undefined);

  const named = (name: string, cause?: unknown) => Object.assign(new Error(name, { cause }), { name });
  assert.equal(isNoResponders(named('JetStreamNotEnabled')), true);
  assert.equal(isNoResponders(named('RequestError', named('NoResponders'))), true);
  assert.equal(isNoResponders(named('RequestError', named('TimeoutError'))), false);
  assert.equal(isNoResponders(named('TimeoutError')), false);
});
