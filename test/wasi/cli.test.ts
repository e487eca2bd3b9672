import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { Engine, WasiContext, createWasiImports, TrapError, InstanceClosedError, LimitExceededError, type WasiOptions } from '../../src/index.ts';
import { randomImports, MAX_RANDOM_BYTES } from '../../src/wasi/random/index.ts';
import { clocksImports } from '../../src/wasi/clocks/index.ts';
import { poll } from '../../src/wasi/io/poll.ts';
import { fixturePath } from '../fixtures/index.ts';

const engine = new Engine({ cacheDir: false });
const app = await engine.compile(fixturePath('cli-app'));

/** Runs cli-app with `args` and captured output; answers exit code, stdout and stderr. */
async function runApp(args: string[], options: WasiOptions = {}) {
  const ctx = new WasiContext({ stdout: 'capture', stderr: 'capture', ...options, args: ['cli-app', ...args] });
  const instance = await app.instantiate(createWasiImports(ctx));
  const code = await instance.run();
  return { code, stdout: ctx.capturedStdout().toString(), stderr: ctx.capturedStderr().toString() };
}

test('wasi:cli/environment: arguments reach the guest exactly', async () => {
  const r = await runApp(['args', 'one', 'two words', '', 'ünïcode']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'one\ntwo words\n\nünïcode\n');
});

test('wasi:cli/environment: the guest sees exactly its granted env, never the host env', async () => {
  process.env.WASMHOST_TEST_SECRET = 'host-only';
  try {
    const r = await runApp(['env'], { env: { B: '2', A: '1=one' } });
    assert.equal(r.stdout, 'A=1=one\nB=2\n');
    const secret = await runApp(['getenv', 'WASMHOST_TEST_SECRET']);
    assert.equal(secret.stdout, '<unset>\n');
    const path = await runApp(['getenv', 'PATH']);
    assert.equal(path.stdout, '<unset>\n');
  } finally {
    delete process.env.WASMHOST_TEST_SECRET;
  }
});

test('wasi:cli/exit: the code ends the instance, not the process', async () => {
  assert.equal((await runApp(['exit', '3'])).code, 3);
  assert.equal((await runApp(['exit', '0'])).code, 0);
  assert.equal((await runApp(['exit', '255'])).code, 255);
  // Still here: the next instance runs normally.
  assert.equal((await runApp(['args', 'alive'])).stdout, 'alive\n');
});

test('wasi:cli/stdin: bytes, strings and Node streams', async () => {
  assert.equal((await runApp(['stdin'], { stdin: 'from a string\n' })).stdout, 'from a string\n');
  const big = Buffer.alloc(300_000, 'x');
  assert.equal((await runApp(['stdin'], { stdin: big })).stdout.length, big.length);
  const stream = Readable.from([Buffer.from('chunk one, '), Buffer.from('chunk two')]);
  assert.equal((await runApp(['stdin'], { stdin: stream })).stdout, 'chunk one, chunk two');
  assert.equal((await runApp(['stdin'])).stdout, '', 'default stdin is empty');
});

test('wasi:cli/stdout and stderr: captured separately, or sent to a callback', async () => {
  const r = await runApp(['stderr', 'to stderr']);
  assert.equal(r.stderr, 'to stderr\n');
  assert.equal(r.stdout, '');
  const chunks: string[] = [];
  const ctx = new WasiContext({ args: ['cli-app', 'args', 'cb'], stdout: (c) => chunks.push(Buffer.from(c).toString()) });
  await (await app.instantiate(createWasiImports(ctx))).run();
  assert.equal(chunks.join(''), 'cb\n');
});

test('a capture limit stops an output flood instead of exhausting memory', async () => {
  const ctx = new WasiContext({ args: ['cli-app', 'stdin'], stdin: Buffer.alloc(200_000, 'y'), stdout: 'capture', captureLimit: 10_000 });
  const code = await (await app.instantiate(createWasiImports(ctx))).run();
  assert.notEqual(code, 0);
  assert.ok(ctx.capturedStdout().length <= 10_000);
});

test('wasi:cli/terminal-*: not a terminal unless the host stdio is inherited from a TTY', async () => {
  const imports = createWasiImports(new WasiContext());
  const t = imports['wasi:cli/terminal-stdout'] as { getTerminalStdout(): unknown };
  assert.equal(t.getTerminalStdout(), undefined);
});

test('a componentize-js guest that throws traps; its instance is closed, others carry on', async () => {
  const greeter = await engine.compile(fixturePath('greeter'));
  const instance = await greeter.instantiate({ 'test:greeter/host': { log: () => {} } });
  assert.equal(await instance.call('transform', '{"b":1,"a":2}'), '{"a":2,"b":1}');
  await assert.rejects(instance.call('transform', 'not json'), TrapError);
  await assert.rejects(instance.call('greet', 'x'), InstanceClosedError);
  const fresh = await greeter.instantiate({ 'test:greeter/host': { log: () => {} } });
  assert.equal(await fresh.call('greet', 'world'), 'Hello, world!');
});

test('blocking calls suspend only their own instance: 20 concurrent sleeps take about one sleep', async () => {
  const one = performance.now();
  assert.equal((await runApp(['sleep', '300'])).stdout, 'slept\n');
  const single = performance.now() - one;
  const start = performance.now();
  const results = await Promise.all(Array.from({ length: 20 }, () => runApp(['sleep', '300'])));
  const elapsed = performance.now() - start;
  assert.ok(results.every((r) => r.stdout === 'slept\n'));
  // Sequential would be >= 6 s. Generous bound: this asserts concurrency, not speed.
  assert.ok(elapsed < 300 * 20 * 0.5, `20 sleeps of 300 ms took ${Math.round(elapsed)} ms (one took ${Math.round(single)} ms)`);
});

test('wasi:clocks: monotonic time advances, wall clock matches the host, subscriptions fire', async () => {
  const mono = clocksImports()['wasi:clocks/monotonic-clock'];
  const a = mono.now();
  const p = mono.subscribeDuration(20_000_000n);
  assert.equal(p.ready(), false);
  await p.block();
  assert.ok(mono.now() - a >= 20_000_000n);
  assert.equal(mono.subscribeInstant(0n).ready(), true);

  const r = await runApp(['time']);
  const guestSeconds = Number(r.stdout.trim());
  assert.ok(Math.abs(guestSeconds - Date.now() / 1000) < 5, `guest time ${r.stdout}`);
  const wall = clocksImports()['wasi:clocks/wall-clock'].now();
  assert.equal(typeof wall.seconds, 'bigint');
  assert.ok(wall.nanoseconds >= 0 && wall.nanoseconds < 1e9);
});

test('wasi:io/poll: poll answers the ready subset and waits when none is ready', async () => {
  const mono = clocksImports()['wasi:clocks/monotonic-clock'];
  const soon = mono.subscribeDuration(10_000_000n);
  const late = mono.subscribeDuration(10_000_000_000n);
  const started = performance.now();
  const ready = await poll([late, soon]);
  assert.deepEqual([...ready], [1]);
  assert.ok(performance.now() - started < 5000);
  assert.throws(() => poll([]), RangeError);
});

test('wasi:random: lengths honoured, values differ, absurd lengths refused', () => {
  const r = randomImports['wasi:random/random'];
  assert.equal(r.getRandomBytes(32n).length, 32);
  assert.notDeepEqual(r.getRandomBytes(16n), r.getRandomBytes(16n));
  assert.equal(typeof r.getRandomU64(), 'bigint');
  assert.equal(randomImports['wasi:random/insecure'].getInsecureRandomBytes(5n).length, 5);
  const seed = randomImports['wasi:random/insecure-seed'].insecureSeed();
  assert.equal(seed.length, 2);
  assert.throws(() => r.getRandomBytes(BigInt(MAX_RANDOM_BYTES) + 1n), LimitExceededError);
});
