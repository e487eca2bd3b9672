// The hostile fixtures (test/fixtures/hostile and hostile-http) behave as designed, checked only
// where that is safe without limits: nothing here calls spin, spin-calls, grow-memory, grow-table,
// flood-stdout, run, or the /spin, /grow and /endless routes, which need the limits to end.
//
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, ExitError, TrapError, WasiContext, createWasiImports, type CompiledComponent, type Instance } from '../../src/index.ts';
import { HostBuilder, type Host } from '../../src/host/host.ts';
import { HttpServer } from '../../src/http/server.ts';
import { fixturePath } from '../fixtures/index.ts';
import { engine as sharedEngine, memoryLogger } from '../host/helpers.ts';

const engine = new Engine({ cacheDir: false });
let hostile: CompiledComponent;

/** A fresh instance with captured stdout, and that capture. */
async function instantiate(): Promise<{ instance: Instance; stdout: () => Buffer }> {
  const ctx = new WasiContext({ stdout: 'capture' });
  const instance = await hostile.instantiate(createWasiImports(ctx), { onClose: () => ctx.dispose() });
  return { instance, stdout: () => ctx.capturedStdout() };
}

/** How a call ended, in one word: `returned`, or the error's class name (short test output). */
function outcome(call: Promise<unknown>): Promise<string> {
  return call.then(
    () => 'returned',
    (err: Error) => err.name,
  );
}

/** The host still runs guests: a fresh instance answers. */
async function assertHostCarriesOn(): Promise<void> {
  const { instance } = await instantiate();
  assert.equal(await instance.call('alloc', 1), true);
}

before(async () => {
  hostile = await engine.compile(fixturePath('hostile'));
});

test('hostile exports every attack, and imports only the WASI it uses', () => {
  assert.deepEqual(
    hostile.exports.map((e) => e.name),
    [
      'spin', 'spin-calls', 'recurse', 'grow-memory', 'alloc', 'grow-table', 'huge-string', 'huge-list',
      'flood-stdout', 'hoard', 'bad-pointer', 'exit', 'wasi:cli/run@0.2.12',
    ],
  );
  assert.deepEqual(
    hostile.imports.map((i) => i.name).sort(),
    [
      'wasi:cli/exit@0.2.12', 'wasi:cli/stdout@0.2.12', 'wasi:clocks/monotonic-clock@0.2.12',
      'wasi:io/error@0.2.12', 'wasi:io/poll@0.2.12', 'wasi:io/streams@0.2.12',
    ],
  );
});

test('huge-string: a result claiming 3 GiB is refused at once, and the host carries on', { timeout: 10_000 }, async () => {
  const { instance } = await instantiate();
  await assert.rejects(instance.call('huge-string'), Error);
  await assertHostCarriesOn();
});

test('huge-string: the refusal is a trap that closes the instance', async () => {
  const { instance } = await instantiate();
  assert.equal(await outcome(instance.call('huge-string')), 'TrapError');
  assert.ok(instance.closedReason instanceof TrapError);
});

test('huge-list: a result claiming 0xC0000000 elements is a trap', async () => {
  const { instance } = await instantiate();
  assert.equal(await outcome(instance.call('huge-list')), 'TrapError');
  await assertHostCarriesOn();
});

test('bad-pointer: nothing from outside linear memory reaches the host', async () => {
  const { instance, stdout } = await instantiate();
  await instance.call('bad-pointer').catch(() => {});
  assert.equal(stdout().length, 0);
  await assertHostCarriesOn();
});

test('bad-pointer: an argument pointing outside memory traps inside the host call', async () => {
  const { instance } = await instantiate();
  assert.equal(await outcome(instance.call('bad-pointer')), 'TrapError');
});

test('recurse: stack exhaustion is a trap that names the stack', async () => {
  const { instance } = await instantiate();
  await assert.rejects(instance.call('recurse'), (err: Error) => {
    assert.ok(err instanceof TrapError, String(err));
    assert.match(err.message, /stack/);
    return true;
  });
  await assertHostCarriesOn();
});

test('alloc: one page is granted; growing past 4 GiB is refused without trapping', async () => {
  const { instance } = await instantiate();
  assert.equal(await instance.call('alloc', 1), true);
  assert.equal(await instance.call('alloc', 0x10000), false); // 3 pages + 65536 > the 65536 maximum
  assert.equal(instance.closedReason, undefined);
});

test('hoard: 1000 pollables are created and kept; the call returns and the instance stays usable', async () => {
  const { instance } = await instantiate();
  assert.equal(await instance.call('hoard', 1000), undefined);
  assert.equal(await instance.call('hoard', 1000), undefined);
  assert.equal(instance.closedReason, undefined);
});

test('exit: exit(err) ends the instance with ExitError code 1, never the process', async () => {
  const { instance } = await instantiate();
  await assert.rejects(instance.call('exit'), (err: Error) => {
    assert.ok(err instanceof ExitError, String(err));
    assert.equal(err.exitCode, 1);
    return true;
  });
  assert.ok(instance.closedReason instanceof ExitError);
  await assertHostCarriesOn();
});

// --- hostile-http: only the routes that end on their own ---------------------------------------

let host: Host;
let base: string;

before(async () => {
  const { logger } = memoryLogger();
  const http = new HttpServer({ address: '127.0.0.1:0', logger });
  host = new HostBuilder().withEngine(sharedEngine).withLogger(logger).withHttpHandler(http).withGuestOutput('ignore').build();
  await host.start();
  const { workloadStatus } = await host.workloadStart({
    workloadId: 'hostile-http',
    workload: {
      namespace: 'test',
      name: 'hostile-http',
      witWorld: {
        components: [{ name: 'web', file: fixturePath('hostile-http') }],
        hostInterfaces: [{ namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], version: '0.2.12', config: {} }],
      },
    },
  });
  assert.equal(workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', workloadStatus.message);
  base = http.url.href.replace(/\/$/, '');
});

after(async () => {
  await host?.stop();
});

test('hostile-http exports wasi:http/incoming-handler', async () => {
  const component = await sharedEngine.compile(fixturePath('hostile-http'));
  assert.deepEqual(component.exports.map((e) => e.name), ['wasi:http/incoming-handler@0.2.12']);
});

test('hostile-http: /ok answers 200 ok; an unknown path 404', async () => {
  const ok = await fetch(`${base}/ok`);
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), 'ok');
  assert.equal((await fetch(`${base}/nope`)).status, 404);
});

test('hostile-http: /hoard?n=100 keeps 100 fields and answers with the count', async () => {
  const res = await fetch(`${base}/hoard?n=100`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '100');
});

test('hostile-http: /read-forever answers once a finite body ends', async () => {
  const res = await fetch(`${base}/read-forever`, { method: 'POST', body: 'x'.repeat(100_000) });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '100000');
});

test('hostile-http: /exit is a 500 and the next request is served', async () => {
  assert.equal((await fetch(`${base}/exit`)).status, 500);
  assert.equal((await fetch(`${base}/ok`)).status, 200);
});
