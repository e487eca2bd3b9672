// Tenants that cannot starve each other. One host serves a healthy neighbour (the Rust hello)
// next to a hostile guest; while the hostile one spins, streams without end or grows its memory,
// the neighbour is still answered (counted, not timed: with one event loop held by the attacker
// it would get no answer at all). A second host, with a host-wide cap of one request, shows the
// admission rules: 503 with Retry-After past a bounded wait, requests whose client left while
// they waited are not run, and a running guest learns that its client has gone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { HostBuilder, type Host } from '../../src/host/host.ts';
import { HttpServer } from '../../src/http/server.ts';
import { HostRouter } from '../../src/http/router.ts';
import { keyValuePlugin, MemoryKeyValueBackend } from '../../src/plugins/keyvalue/index.ts';
import { fixturePath } from '../fixtures/index.ts';
import { engine, eventually, memoryLogger } from '../host/helpers.ts';
import type { ComponentInput, WitInterfaceInput, WorkloadStartRequest } from '../../src/workload/types.ts';

const httpInterface = (config: Record<string, string>) => ({ namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], version: '0.2.12', config });
const keyValue = { namespace: 'wasi', package: 'keyvalue', interfaces: ['store', 'atomics'], version: '0.2.0-draft' };

function workload(name: string, fixture: string, hostInterfaces: WitInterfaceInput[], extra: Partial<Omit<ComponentInput, 'name' | 'file' | 'bytes' | 'image'>> = {}): WorkloadStartRequest {
  return { workloadId: name, workload: { namespace: 'test', name, witWorld: { components: [{ name, file: fixturePath(fixture), ...extra }], hostInterfaces } } };
}

async function startAll(host: Host, workloads: ReturnType<typeof workload>[]): Promise<void> {
  for (const w of workloads) {
    const { workloadStatus } = await host.workloadStart(w);
    assert.equal(workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', workloadStatus.message);
  }
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with a Host header (fetch does not let one set it). `onRequest` sees the request, to cut it. */
function send(base: string, hostHeader: string, path: string, onRequest?: (req: ClientRequest) => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { headers: { host: hostHeader }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', () => resolve({ status: res.statusCode!, headers: res.headers, body: `${body}[cut]` }));
    });
    req.on('error', reject);
    onRequest?.(req);
    req.end();
  });
}

/**
 * A reader in another process, as fast as it can go (in this process it would share the event
 * loop with the server and slow the stream down): answers the status and the bytes it read.
 */
function fastReader(url: string, hostHeader: string): Promise<{ status: number; bytes: number }> {
  const script = `let n = 0; require('node:http').get(process.argv[1], { headers: { host: process.argv[2] } }, (res) => {
    res.on('data', (c) => (n += c.length));
    const report = () => { console.log(JSON.stringify({ status: res.statusCode, bytes: n })); process.exit(0); };
    res.on('end', report); res.on('error', report); res.on('aborted', report);
  });`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['-e', script, url, hostHeader], (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout)))),
  );
}

describe('a hostile guest and its neighbour share the event loop fairly', () => {
  let host: Host;
  let base: string;

  before(async () => {
    const http = new HttpServer({ address: '127.0.0.1:0', router: new HostRouter() });
    host = new HostBuilder().withEngine(engine).withLogger(memoryLogger().logger).withHttpHandler(http).withGuestOutput('ignore').build();
    await host.start();
    await startAll(host, [
      workload('neighbour', 'rust-http-hello', [httpInterface({ host: 'neighbour' })]),
      workload('hostile', 'hostile-http', [httpInterface({ host: 'hostile', 'request-timeout': '3s' })], { localResources: { memoryLimitMb: 48 } }),
    ]);
    base = http.url.href.replace(/\/$/, '');
  });

  after(() => host.stop());

  /** Asks the neighbour again and again while `attack` runs: answers what the attack got and every neighbour answer. */
  async function neighbourDuring(attack: Promise<Answer>): Promise<{ attack: Answer; answers: Answer[] }> {
    let done = false;
    const finished = attack.finally(() => (done = true));
    const answers: Answer[] = [];
    while (!done) answers.push(await send(base, 'neighbour', '/'));
    return { attack: await finished, answers };
  }

  const allHello = (answers: Answer[]) => answers.every((a) => a.status === 200 && a.body === 'hello from rust\n');

  test('a guest spinning without host calls: the neighbour is answered until the spinner is stopped at its timeout', { timeout: 30_000 }, async () => {
    const { attack, answers } = await neighbourDuring(send(base, 'hostile', '/spin'));
    assert.equal(attack.status, 504, 'the spinner is still stopped at its request timeout');
    assert.ok(answers.length >= 20, `the neighbour got ${answers.length} answers in the spinner's 3 s`);
    assert.ok(allHello(answers));
  });

  test('a guest streaming a body without end to a fast reader: the neighbour is answered while it streams', { timeout: 30_000 }, async () => {
    const reading = fastReader(`${base}/endless`, 'hostile');
    const { answers } = await neighbourDuring(reading.then(() => ({ status: 0, headers: {}, body: '' })));
    const read = await reading;
    assert.equal(read.status, 200);
    assert.ok(read.bytes > 1 << 20, `the stream flowed (${read.bytes} bytes) until cut at the request timeout`);
    assert.ok(answers.length >= 20, `the neighbour got ${answers.length} answers while the body streamed`);
    assert.ok(allHello(answers));
  });

  test('a guest filling memory to its limit: the neighbour is answered while it fills', { timeout: 30_000 }, async () => {
    let answers = 0;
    for (let i = 0; i < 3; i++) {
      const round = await neighbourDuring(send(base, 'hostile', '/grow'));
      assert.equal(round.attack.status, 500, 'the memory bomb is stopped at its limit');
      assert.ok(allHello(round.answers));
      answers += round.answers.length;
    }
    assert.ok(answers >= 20, `the neighbour got ${answers} answers while three memory bombs went off`);
  });
});

describe('admission: a host-wide cap of one request under way', () => {
  let host: Host;
  let base: string;
  const { logger, entries } = memoryLogger();

  before(async () => {
    const http = new HttpServer({ address: '127.0.0.1:0', router: new HostRouter(), logger, maxRequests: 1, queueTimeoutMs: 5000 });
    host = new HostBuilder()
      .withEngine(engine)
      .withLogger(logger)
      .withHttpHandler(http)
      .withGuestOutput('log')
      .withPlugin(keyValuePlugin({ backend: new MemoryKeyValueBackend() }))
      .build();
    await host.start();
    await startAll(host, [
      workload('slow', 'http-test', [httpInterface({ host: 'slow', 'request-timeout': '1500ms' })]),
      workload('counter', 'rust-kv-counter', [httpInterface({ host: 'counter' }), keyValue]),
    ]);
    base = http.url.href.replace(/\/$/, '');
  });

  after(() => host.stop());

  test('past the bounded wait a request gets 503 with Retry-After, and the next one is served', { timeout: 30_000 }, async () => {
    const server = new HttpServer({ address: '127.0.0.1:0', router: new HostRouter(), maxRequests: 1, queueTimeoutMs: 100 });
    const quick = new HostBuilder().withEngine(engine).withLogger(memoryLogger().logger).withHttpHandler(server).withGuestOutput('ignore').build();
    await quick.start();
    try {
      await startAll(quick, [workload('slow', 'http-test', [httpInterface({ host: 'slow', 'request-timeout': '1s' })])]);
      const url = server.url.href.replace(/\/$/, '');
      const stuck = send(url, 'slow', '/stuck');
      await eventually(() => (quick.guestMemory.instances > 0 ? true : undefined));
      const turnedAway = await send(url, 'slow', '/');
      assert.equal(turnedAway.status, 503);
      assert.equal(turnedAway.headers['retry-after'], '1');
      assert.equal((await stuck).status, 504);
      assert.equal((await send(url, 'slow', '/')).status, 200, 'served once the slot is free');
    } finally {
      await quick.stop();
    }
  });

  test('a request whose client left while it waited is not run', { timeout: 30_000 }, async () => {
    const stuck = send(base, 'slow', '/stuck');
    await eventually(() => (host.guestMemory.instances > 0 ? true : undefined));
    // Queued behind the stuck request; its client gives up before a slot frees.
    await assert.rejects(
      send(base, 'counter', '/left', (req) => setTimeout(() => req.destroy(), 200)),
      /socket hang up|ECONNRESET/,
    );
    assert.equal((await stuck).status, 504);
    // The counter was never incremented for the request that left: this is its first count.
    const counted = await send(base, 'counter', '/left');
    assert.equal(counted.body, 'left = 1\n');
  });

  test('a running guest learns its client has gone: its response stream reports the closed connection', { timeout: 30_000 }, async () => {
    // 100,000 chunks 2 ms apart: minutes of streaming, unless the guest learns the client left.
    const cut = await send(base, 'slow', '/stream?chunks=100000&delay=2', (req) => req.on('response', (res) => res.once('data', () => req.destroy())));
    assert.match(cut.body, /^chunk 0\n.*\[cut\]$/s);
    const report = await eventually(() => entries.find((e) => String(e.msg).includes('the response stream failed')));
    assert.match(String(report.msg), /the response stream failed \((closed|last-operation-failed)\): the client went away/);
    // The slot is free again: the guest finished instead of streaming on.
    assert.equal((await send(base, 'counter', '/after')).body, 'after = 1\n');
  });
});
