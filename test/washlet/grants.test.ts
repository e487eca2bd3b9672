// The reference's newer wire fields, played by a scripted operator over the real NATS server:
// a workload with every one of them (environment, component name, maxConcurrency,
// allowedIpNameLookups, allowedHostLoopbackPorts) on a host that allows host loopback and on one
// that does not, their effect seen from outside (the net-probe guest reports its lookups through
// host.wasmcloud.internal to a server of this test), bad values refused by name, the heartbeat's
// environment, and stop answering STOPPING, the status NOT_FOUND afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { HostBuilder, type Host } from '../../src/host/host.ts';
import { Washlet } from '../../src/washlet/index.ts';
import { fixturePath } from '../fixtures/index.ts';
import { engine, memoryLogger } from '../host/helpers.ts';
import { NATS_URL, service } from '../services.ts';
import { ask, eventually, status } from './helpers.ts';

const skip = await service('NATS', NATS_URL);
const run = randomUUID().slice(0, 8);

interface ClusterHost {
  host: Host;
  washlet: Washlet;
  control: NatsConnection;
}

let operator: NatsConnection;
let open: ClusterHost;
let closed: ClusterHost;
let server: Server;
let port: number;
/** What net-probe guests wrote to this test's server, one entry per connection. */
const reports: string[] = [];

async function clusterHost(allowHostLoopback: boolean): Promise<ClusterHost> {
  const host = new HostBuilder().withEngine(engine).withLogger(memoryLogger().logger).withGuestOutput('ignore')
    .withEnvironment(`tenant-${run}`).withHostLoopback(allowHostLoopback).withStopTimeout(1000).build();
  await host.start();
  const control = await connect({ servers: NATS_URL });
  const washlet = new Washlet({ host, connection: control, hostId: `grants-${allowHostLoopback ? 'open' : 'closed'}-${run}` });
  await washlet.start();
  return { host, washlet, control };
}

const base64 = (fixture: Parameters<typeof fixturePath>[0]) => readFileSync(fixturePath(fixture)).toString('base64');

/** A workload as the operator sends it: every newer field set, snake_case for some, as proto3 JSON allows. */
function probeWorkload(name: string) {
  return {
    namespace: 'grants-test',
    name,
    service: {
      bytes: base64('net-probe'),
      localResources: {
        environment: { LOOKUPS: '10.1.2.3,localhost,evil.example,x.example.com', PORT: String(port) },
        allowedIpNameLookups: ['10.1.2.3', 'localhost', '*.example.com'],
        allowed_host_loopback_ports: [`${port}/tcp`],
      },
    },
    witWorld: { components: [{ name: 'pure', bytes: base64('pure'), poolSize: 1, maxConcurrency: 4 }] },
  };
}

describe('washlet: the newer wire fields over NATS', { skip }, () => {
  before(async () => {
    server = createServer((s) => {
      let text = '';
      s.setEncoding('utf8').on('data', (d: string) => (text += d)).on('close', () => reports.push(text)).on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    operator = await connect({ servers: NATS_URL });
    open = await clusterHost(true);
    closed = await clusterHost(false);
  });

  after(async () => {
    for (const h of [open, closed]) {
      if (!h) continue;
      await h.washlet.stop();
      await h.host.stop();
      await h.control.drain();
    }
    await operator?.drain();
    server?.close();
  });

  test('the heartbeat carries the host\'s environment', async () => {
    assert.equal((await ask(operator, open.washlet.hostId, 'heartbeat')).json.environment, `tenant-${run}`);
  });

  test('granted names resolve, others are refused, and a granted loopback port is reached through host.wasmcloud.internal', async () => {
    const workloadId = `probe-${run}`;
    const started = await status(operator, open.washlet.hostId, 'workload.start', { workloadId, workload: probeWorkload('probe') });
    assert.equal(started.workloadState, 'WORKLOAD_STATE_RUNNING', started.message);
    // Y: an address; u: permanent-resolver-failure (not granted); x.example.com passed the gate
    // (its answer depends on this machine's DNS, so only the refusal code is ruled out).
    const report = await eventually(() => reports[0], 10_000);
    assert.match(report, /^YYu[^u]$/);
    // The service completed; the component (maxConcurrency 4, served one call at a time) keeps the workload RUNNING.
    assert.equal((await status(operator, open.washlet.hostId, 'workload.status', { workloadId })).workloadState, 'WORKLOAD_STATE_RUNNING');

    assert.deepEqual(await status(operator, open.washlet.hostId, 'workload.stop', { workloadId }), {
      workloadId,
      workloadState: 'WORKLOAD_STATE_STOPPING',
      message: 'stopped',
    });
    assert.equal((await status(operator, open.washlet.hostId, 'workload.status', { workloadId })).workloadState, 'WORKLOAD_STATE_NOT_FOUND');
    assert.equal((await status(operator, open.washlet.hostId, 'workload.stop', { workloadId })).workloadState, 'WORKLOAD_STATE_NOT_FOUND');
  });

  test('without --allow-host-loopback the same grant is inert: the guest cannot connect and its service fails', async () => {
    const workloadId = `inert-${run}`;
    const before = reports.length;
    const started = await status(operator, closed.washlet.hostId, 'workload.start', { workloadId, workload: probeWorkload('inert') });
    assert.equal(started.workloadState, 'WORKLOAD_STATE_RUNNING', started.message);
    let current = started;
    for (let i = 0; i < 200 && current.workloadState !== 'WORKLOAD_STATE_ERROR'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      current = await status(operator, closed.washlet.hostId, 'workload.status', { workloadId });
    }
    assert.equal(current.workloadState, 'WORKLOAD_STATE_ERROR');
    assert.match(current.message, /service failed: exited with code 1/);
    assert.equal(reports.length, before, 'nothing reached the loopback server');
    assert.equal((await status(operator, closed.washlet.hostId, 'workload.stop', { workloadId })).workloadState, 'WORKLOAD_STATE_STOPPING');
  });

  test('bad values are refused, each naming its field, with the NATS service error headers', async () => {
    const workload = probeWorkload('bad');
    Object.assign(workload.service.localResources, { allowed_host_loopback_ports: ['http'], allowedIpNameLookups: ['*evil.com'] });
    Object.assign(workload.witWorld.components[0], { maxConcurrency: -1 });
    const reply = await ask(operator, open.washlet.hostId, 'workload.start', { workloadId: `bad-${run}`, workload });
    const { workloadState, message } = reply.json.workloadStatus;
    assert.equal(workloadState, 'WORKLOAD_STATE_ERROR');
    assert.match(message, /workload\.service\.localResources\.allowed_host_loopback_ports\[0\]: "http" is not a port/);
    assert.match(message, /workload\.service\.localResources\.allowedIpNameLookups\[0\]: "\*evil\.com" has a wildcard other than a leading "\*\."/);
    assert.match(message, /workload\.witWorld\.components\[0\]\.maxConcurrency: expected an integer >= 0, got -1/);
    assert.equal(reply.headers?.get('Nats-Service-Error-Code'), '400');
    assert.equal((await status(operator, open.washlet.hostId, 'workload.status', { workloadId: `bad-${run}` })).workloadState, 'WORKLOAD_STATE_NOT_FOUND');
  });
});
