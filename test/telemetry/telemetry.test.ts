// OpenTelemetry end to end: a local OTLP/HTTP receiver (otlp-receiver.ts) takes what wasmhost
// exports. Through `wasmhost serve` switched on by OTEL_* variables alone: a request carrying a
// W3C traceparent into a component that makes an outgoing request (http-test's /fetch) gives a
// server span, an invocation span and a client span, linked parent to child, and the upstream
// server sees the client span in its traceparent; the metrics arrive; a host log line written
// within a request carries its trace and span ids. Through the library (HostBuilder.withTelemetry):
// plugin calls under the invocation span, a guest's log line correlated, and service restarts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { telemetryRequested } from '../../src/cli/telemetry.ts';
import { HostBuilder } from '../../src/host/host.ts';
import { configPlugin } from '../../src/plugins/config/index.ts';
import { keyValuePlugin, MemoryKeyValueBackend } from '../../src/plugins/keyvalue/index.ts';
import { loggingPlugin } from '../../src/plugins/logging/index.ts';
import { fixturePath } from '../fixtures/index.ts';
import { component, engine, eventually, memoryLogger } from '../host/helpers.ts';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';

const CLI = resolve(import.meta.dirname, '../../bin/wasmhost.js');
const SERVER = 2;
const CLIENT = 3;
const INTERNAL = 1;
const ERROR = 2;

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

/** An upstream HTTP server that records the headers of what it receives. */
async function upstream(): Promise<{ port: number; seen: IncomingHttpHeaders[]; close: () => void }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream says hi');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, seen, close: () => server.close() };
}

const only = (spans: ReceivedSpan[], predicate: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan => {
  const found = spans.filter(predicate);
  assert.equal(found.length, 1, `one ${what} span, got ${JSON.stringify(spans.map((s) => s.name))}`);
  return found[0];
};

test('serve with OTEL_* variables: linked server, invocation and client spans, traceparent upstream, metrics, correlated logs', async () => {
  const receiver = await OtlpReceiver.start();
  const up = await upstream();
  const child = spawn(
    process.execPath,
    [CLI, 'serve', fixturePath('http-test'), '--addr', '127.0.0.1:0', '--pool-size', '2', '--allow-host', `127.0.0.1:${up.port}`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'wasmhost-test',
        OTEL_METRIC_EXPORT_INTERVAL: '200',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        WASMHOST_LOG_FORMAT: 'json', // log lines as JSON, to read their fields
      },
    },
  );
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const first = await new Promise<string>((r) => createInterface({ input: child.stdout }).once('line', r));
    const url = /^Serving HTTP on (\S+)$/.exec(first)![1];

    const upstreamUrl = `http://127.0.0.1:${up.port}/from-guest?x=1`;
    const res = await fetch(`${url}fetch?url=${encodeURIComponent(upstreamUrl)}`, { headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'upstream says hi');
    const trap = await fetch(`${url}trap`);
    assert.equal(trap.status, 500);
    await trap.text();

    // The gauges while it serves: two warm instances (--pool-size 2), and their memory.
    await eventually(() => (receiver.metric('wasmhost.instances').some((m) => m.points.some((p) => p.value === 2)) ? true : undefined));
    const memory = receiver.metric('wasmhost.guest.memory.usage').flatMap((m) => m.points);
    assert.ok(memory.some((p) => (p.value ?? 0) > 0), 'guest memory reported');

    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr.join('\n'));
    // With --log-format json the note is a JSON line too.
    assert.ok(stderr.some((l) => /^\{.*"msg":"OpenTelemetry on: traces to http:\/\/127\.0\.0\.1:\d+\/v1\/traces, metrics to .*\/v1\/metrics"\}$/.test(l)), stderr.join('\n'));
    assert.ok(receiver.bodies.every((b) => b.contentType === 'application/json'), 'OTLP/HTTP with JSON');

    // Spans: the caller's trace continues through the host, the guest and its outgoing request.
    const spans = receiver.spans();
    assert.ok(spans.every((s) => s.service === 'wasmhost-test'), 'service.name from OTEL_SERVICE_NAME');
    const server = only(spans, (s) => s.kind === SERVER && s.attributes['url.path'] === '/fetch', 'server');
    assert.equal(server.name, 'GET');
    assert.equal(server.traceId, TRACE_ID);
    assert.equal(server.parentSpanId, CALLER_SPAN);
    assert.equal(server.attributes['http.response.status_code'], 200);
    assert.equal(server.attributes['wasmhost.component'], 'http-test');
    const call = only(spans, (s) => s.parentSpanId === server.spanId, 'invocation');
    assert.equal(call.name, 'call wasi:http/incoming-handler#handle');
    assert.equal(call.kind, INTERNAL);
    const client = only(spans, (s) => s.kind === CLIENT, 'client');
    assert.equal(client.name, 'GET');
    assert.equal(client.traceId, TRACE_ID);
    assert.equal(client.parentSpanId, call.spanId);
    assert.equal(client.attributes['url.full'], upstreamUrl);
    assert.equal(client.attributes['http.response.status_code'], 200);
    assert.equal(up.seen.length, 1);
    assert.equal(up.seen[0].traceparent, `00-${TRACE_ID}-${client.spanId}-01`, 'the upstream sees the client span as its parent');

    // The trap: a new trace (no traceparent), the server span a 500, the invocation failed.
    const trapped = only(spans, (s) => s.kind === SERVER && s.attributes['url.path'] === '/trap', 'trap server');
    assert.notEqual(trapped.traceId, TRACE_ID);
    assert.equal(trapped.parentSpanId, undefined);
    assert.equal(trapped.attributes['http.response.status_code'], 500);
    assert.equal(trapped.status.code, ERROR);
    const failedCall = only(spans, (s) => s.parentSpanId === trapped.spanId, 'trapped invocation');
    assert.equal(failedCall.status.code, ERROR);
    assert.equal(failedCall.attributes['error.type'], 'WASMHOST_TRAP');

    // Metrics (the last export holds the totals): two requests, one outgoing.
    const last = <T>(list: T[]) => list.at(-1)!;
    const requests = last(receiver.metric('wasmhost.http.server.requests')).points;
    assert.deepEqual(requests.map((p) => [p.attributes['http.response.status_code'], p.value]).sort(), [[200, 1], [500, 1]]);
    const durations = last(receiver.metric('http.server.request.duration'));
    assert.equal(durations.kind, 'histogram');
    assert.equal(durations.unit, 's');
    assert.equal(durations.points.reduce((n, p) => n + (p.count ?? 0), 0), 2);
    assert.equal(last(receiver.metric('http.client.request.duration')).points.reduce((n, p) => n + (p.count ?? 0), 0), 1);
    assert.ok(receiver.metric('wasmhost.invocation.duration').length > 0);

    // The host's log line about the trap carries the trace and span of that request.
    const logged = stderr.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((e) => e.msg === 'request failed in the guest');
    assert.ok(logged, stderr.join('\n'));
    assert.equal(logged.trace_id, trapped.traceId);
    assert.equal(logged.span_id, trapped.spanId);
  } finally {
    child.kill('SIGKILL');
    up.close();
    await receiver.stop();
  }
});

test('HostBuilder.withTelemetry: plugin calls under the invocation, a guest log line correlated, service restarts counted', async () => {
  const receiver = await OtlpReceiver.start();
  const { logger, entries } = memoryLogger();
  const host = new HostBuilder()
    .withEngine(engine)
    .withLogger(logger)
    .withGuestOutput('log')
    .withStopTimeout(2000)
    .withPlugin(configPlugin())
    .withPlugin(loggingPlugin())
    .withPlugin(keyValuePlugin({ backend: new MemoryKeyValueBackend() }))
    .withTelemetry({ endpoint: receiver.url, serviceName: 'embedded' })
    .build();
  try {
    await host.start();
    assert.match(host.telemetry!.destination, /^traces to http:\/\/127\.0\.0\.1:\d+\/v1\/traces, metrics to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics$/);
    const logging = { namespace: 'wasi', package: 'logging', interfaces: ['logging'], version: '0.1.0-draft' };
    const workload = {
      namespace: 'test',
      name: 'counting',
      service: { file: fixturePath('apps-service'), maxRestarts: 1, localResources: { environment: { TICKS: '1', INTERVAL_MS: '1', EXIT_CODE: '3' } } },
      witWorld: {
        components: [component('counter', 'kv-counter'), component('ticker', 'apps-ticker')],
        hostInterfaces: [
          { namespace: 'wasi', package: 'keyvalue', interfaces: ['store', 'atomics'], version: '0.2.0-draft' },
          logging,
          { namespace: 'wasi', package: 'config', interfaces: ['store'], version: '0.2.0-rc.1', config: { bucket: 'visits' } },
        ],
      },
    };
    const status = (await host.workloadStart({ workloadId: 'w1', workload: workload })).workloadStatus;
    assert.equal(status.workloadState, 'WORKLOAD_STATE_RUNNING', status.message);
    const invocation = host.workload('w1')!.invocation('counter');
    assert.equal(await invocation.call('hit', 'home'), 1n);
    await invocation.close();
    // The service fails, is restarted once, fails again: the workload ends in ERROR.
    await eventually(() => (host.workloadStatus({ workloadId: 'w1' }).workloadStatus.workloadState === 'WORKLOAD_STATE_ERROR' ? true : undefined));
  } finally {
    await host.stop(); // flushes
  }
  try {
    const spans = receiver.spans();
    assert.ok(spans.every((s) => s.service === 'embedded'));
    const hit = only(spans, (s) => s.name === 'call hit', 'hit invocation');
    assert.equal(hit.attributes['wasmhost.workload.id'], 'w1');
    const children = spans.filter((s) => s.parentSpanId === hit.spanId);
    const names = children.map((s) => s.name);
    for (const name of ['wasi:config/store#get', 'wasi:keyvalue/store#open', 'wasi:keyvalue/atomics#increment', 'wasi:logging/logging#log']) {
      assert.ok(names.includes(name), `${name} in ${JSON.stringify(names)}`);
    }
    // atomics' increment calls the bucket's own method: one plugin call, not two.
    assert.ok(!spans.some((s) => s.name.includes('[method]bucket.increment')));
    const open = children.find((s) => s.name === 'wasi:keyvalue/store#open')!;
    assert.equal(open.attributes['wasmhost.plugin.id'], 'wasi-keyvalue');
    assert.equal(open.attributes['wasmhost.component'], 'counter');

    // The guest's own log line (wasi:logging) is in the trace of its invocation.
    const line = entries.find((e) => e.msg === 'hit home = 1');
    assert.ok(line);
    assert.equal(line.trace_id, hit.traceId);
    assert.ok(children.some((s) => s.spanId === line.span_id), 'logged within the logging call');
    assert.ok(entries.filter((e) => e.msg === 'host stopped').every((e) => e.trace_id === undefined), 'no ids outside spans');

    // Two runs of the service, both failed; one restart counted.
    const runs = spans.filter((s) => s.name === 'call wasi:cli/run#run' && s.attributes['wasmhost.component'] === 'service');
    assert.equal(runs.length, 2);
    const restarts = receiver.metric('wasmhost.service.restarts').at(-1)!.points;
    assert.deepEqual(restarts.map((p) => [p.attributes['wasmhost.workload.id'], p.value]), [['w1', 1]]);
  } finally {
    await receiver.stop();
  }
});

test('telemetryRequested: the standard variables switch it on, none and OTEL_SDK_DISABLED keep it off', () => {
  assert.equal(telemetryRequested({}), false);
  assert.equal(telemetryRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
  assert.equal(telemetryRequested({ OTEL_SERVICE_NAME: 'shop' }), true);
  assert.equal(telemetryRequested({ OTEL_TRACES_EXPORTER: 'otlp' }), true);
  assert.equal(telemetryRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' }), false);
  assert.equal(telemetryRequested({ OTEL_SERVICE_NAME: 'shop', OTEL_SDK_DISABLED: 'true' }), false);
});

test('--otel alone switches it on, to the default OTLP endpoint', async () => {
  // No endpoint, service name or exporter: only the flag. A short export timeout: nothing listens there.
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_'))), OTEL_EXPORTER_OTLP_TIMEOUT: '300' };
  const child = spawn(process.execPath, [CLI, 'serve', fixturePath('http-hello'), '--addr', '127.0.0.1:0', '--otel'], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const first = await new Promise<string>((r) => createInterface({ input: child.stdout }).once('line', r));
    assert.equal(await (await fetch(first.split(' ').at(-1)!)).text(), 'hello'); // serving, its signal handlers in place
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(stderr.includes('note: OpenTelemetry on: traces to http://localhost:4318/v1/traces, metrics to http://localhost:4318/v1/metrics'), stderr.join('\n'));
  } finally {
    child.kill('SIGKILL');
  }
});
