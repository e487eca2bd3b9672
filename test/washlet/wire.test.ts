// proto3 JSON encoding of the washlet's answers and decoding of the operator's requests, without
// NATS: defaults left out, 64-bit integers as strings, timestamps in UTC, base64 bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeIdRequest, decodeStartRequest, InvalidRequestError } from '../../src/washlet/requests.ts';
import { checkHostId, commandOf, heartbeatSubject, hostSubject, rpcSubject } from '../../src/washlet/subjects.ts';
import { encode, heartbeatJson, rfc3339, workloadResponseJson } from '../../src/washlet/wire.ts';
import type { HostHeartbeat } from '../../src/workload/types.ts';

const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

const heartbeat: HostHeartbeat = {
  id: 'h1',
  hostname: '',
  httpPort: 0,
  friendlyName: 'calm-otter-0001',
  version: '0.1.0',
  labels: {},
  startedAt: '2026-02-01T10:20:30.000Z',
  osArch: 'x86_64',
  osName: 'linux',
  osKernel: '6.1',
  systemCpuUsage: 0,
  systemMemoryTotal: 2 ** 40,
  systemMemoryFree: 0,
  componentCount: 3,
  workloadCount: 0,
  imports: [{ namespace: 'wasi', package: 'keyvalue', interfaces: ['store', 'atomics'], version: '0.2.0-draft', config: {} }],
  exports: [],
  environment: '',
};

test('a heartbeat leaves out every default and writes 64-bit integers as strings', () => {
  assert.deepEqual(heartbeatJson(heartbeat), {
    id: 'h1',
    friendlyName: 'calm-otter-0001',
    version: '0.1.0',
    startedAt: '2026-02-01T10:20:30Z',
    osArch: 'x86_64',
    osName: 'linux',
    osKernel: '6.1',
    systemMemoryTotal: '1099511627776',
    componentCount: '3',
    imports: [{ namespace: 'wasi', package: 'keyvalue', version: '0.2.0-draft', interfaces: ['store', 'atomics'] }],
  });
  const full = heartbeatJson({ ...heartbeat, httpPort: 8000, systemCpuUsage: 12.5, labels: { hostgroup: 'g' }, startedAt: '2026-02-01T10:20:30.123Z' });
  assert.equal(full.httpPort, 8000);
  assert.equal(full.systemCpuUsage, 12.5);
  assert.equal(full.startedAt, '2026-02-01T10:20:30.123Z');
  assert.deepEqual(full.labels, { hostgroup: 'g' });
  assert.equal(heartbeatJson({ ...heartbeat, systemCpuUsage: NaN }).systemCpuUsage, 'NaN');
  assert.throws(() => heartbeatJson({ ...heartbeat, httpPort: 70000.5 }), /httpPort/);
  assert.throws(() => heartbeatJson({ ...heartbeat, workloadCount: -1 }), /workloadCount/);
});

test('timestamps are RFC 3339 in UTC with a Z', () => {
  assert.equal(rfc3339('2026-02-01T12:20:30+02:00'), '2026-02-01T10:20:30Z');
  assert.equal(rfc3339(new Date(Date.UTC(2026, 1, 1, 0, 0, 0, 7))), '2026-02-01T00:00:00.007Z');
  assert.throws(() => rfc3339('yesterday'), /not a timestamp/);
});

test('a workload status leaves out UNSPECIFIED and empty strings; replies are pretty, heartbeats compact', () => {
  const body = workloadResponseJson({ workloadStatus: { workloadId: '', workloadState: 'WORKLOAD_STATE_UNSPECIFIED', message: '' } });
  assert.deepEqual(body, { workloadStatus: {} });
  const status = { workloadStatus: { workloadId: 'w', workloadState: 'WORKLOAD_STATE_RUNNING' as const, message: 'running' } };
  assert.equal(
    new TextDecoder().decode(encode(workloadResponseJson(status), 'pretty')),
    '{\n  "workloadStatus": {\n    "workloadId": "w",\n    "workloadState": "WORKLOAD_STATE_RUNNING",\n    "message": "running"\n  }\n}',
  );
  assert.equal(new TextDecoder().decode(encode({ a: 1 }, 'compact')), '{"a":1}');
});

test('bytes in a start request are base64, standard or URL-safe, padded or not', () => {
  const wasm = [0x00, 0x61, 0x73, 0x6d, 0xfb, 0xff];
  for (const b64 of ['AGFzbfv/', 'AGFzbfv_']) {
    const { workload } = decodeStartRequest(bytes({ workloadId: 'w', workload: { name: 'n', witWorld: { components: [{ name: 'c', bytes: b64 }] } } }));
    assert.deepEqual([...workload.witWorld.components[0].bytes!], wasm);
  }
  for (const b64 of ['AGFzbQ', 'AGFzbQ==']) {
    const { workload } = decodeStartRequest(bytes({ workloadId: 'w', workload: { name: 'n', service: { bytes: b64 } } }));
    assert.deepEqual([...workload.service!.bytes!], wasm.slice(0, 4));
  }
  assert.throws(
    () => decodeStartRequest(bytes({ workloadId: 'w', workload: { name: 'n', wit_world: { components: [{ name: 'c', bytes: 'AGFzb' }] } } })),
    (err: InvalidRequestError) => {
      assert.equal(err.workloadId, 'w');
      assert.deepEqual(err.issues, [{ path: ['workload', 'wit_world', 'components', 0, 'bytes'], message: 'expected base64 (proto3 JSON bytes)' }]);
      return true;
    },
  );
});

test('id requests: camelCase or snake_case, one non-empty id, nothing else', () => {
  assert.deepEqual(decodeIdRequest(bytes({ workloadId: 'a' }), 'workload.status'), { workloadId: 'a' });
  assert.deepEqual(decodeIdRequest(bytes({ workload_id: 'a' }), 'workload.stop'), { workloadId: 'a' });
  assert.throws(() => decodeIdRequest(bytes({}), 'workload.status'), /workloadId: missing \(expected a workload id\)/);
  assert.throws(() => decodeIdRequest(bytes({ workloadId: '' }), 'workload.status'), /workloadId/);
  assert.throws(() => decodeIdRequest(bytes('null'), 'workload.stop'), /expected a workload stop request, got null/);
  assert.throws(() => decodeIdRequest(new Uint8Array([0xff, 0xfe]), 'workload.stop'), /not UTF-8/);
});

test('subjects: one token per host id, the command is the rest', () => {
  assert.equal(hostSubject('h'), 'runtime.host.h.>');
  assert.equal(rpcSubject('h', 'workload.start'), 'runtime.host.h.workload.start');
  assert.equal(heartbeatSubject('h'), 'runtime.operator.heartbeat.h');
  assert.equal(commandOf('runtime.host.h.workload.start', 'h'), 'workload.start');
  assert.equal(commandOf('runtime.host.other.heartbeat', 'h'), undefined);
  for (const bad of ['a.b', 'a b', '*', '>', '']) assert.throws(() => checkHostId(bad), /one NATS subject token/);
  assert.equal(checkHostId('0f8c-host_1'), '0f8c-host_1');
});

test("the reference's newer fields: heartbeat environment and a host interface's name, written last as pbjson does", () => {
  const named = { namespace: 'wasi', package: 'keyvalue', interfaces: ['store'], version: '', config: {}, name: 'cache' };
  const json = heartbeatJson({ ...heartbeat, httpPort: 8000, environment: 'tenant-a', imports: [named] });
  assert.deepEqual(Object.keys(json).slice(-2), ['httpPort', 'environment']);
  assert.equal(json.environment, 'tenant-a');
  assert.deepEqual(json.imports, [{ namespace: 'wasi', package: 'keyvalue', interfaces: ['store'], name: 'cache' }]);
  assert.equal('environment' in heartbeatJson(heartbeat), false, 'an empty environment is a default, left out');
});

test('a start request takes the newer workload fields, camelCase or snake_case, and refuses bad ones by name', () => {
  const workload = (component: object, localResources: object) => ({
    name: 'n',
    witWorld: { components: [{ name: 'c', bytes: 'AGFzbQ', ...component, localResources }], hostInterfaces: [{ namespace: 'wasi', package: 'keyvalue', interfaces: ['store'], name: 'cache' }] },
  });
  const { workload: w } = decodeStartRequest(
    bytes({ workloadId: 'w', workload: workload({ maxConcurrency: '4' }, { environment: { A: '1' }, allowedIpNameLookups: ['*', 'db.internal'], allowed_host_loopback_ports: ['5432', '53/udp'] }) }),
  );
  const [c] = w.witWorld.components;
  assert.equal(c.maxConcurrency, 4);
  assert.deepEqual(c.localResources.environment, { A: '1' });
  assert.deepEqual(c.localResources.allowedIpNameLookups, ['*', 'db.internal']);
  assert.deepEqual(c.localResources.allowedHostLoopbackPorts, ['5432', '53/udp']);
  assert.equal(w.witWorld.hostInterfaces[0].name, 'cache');

  assert.throws(
    () => decodeStartRequest(bytes({ workloadId: 'w', workload: workload({ maxConcurrency: -1 }, { allowedHostLoopbackPorts: ['http'], allowedIpNameLookups: ['https://x.com'] }) })),
    (err: InvalidRequestError) => {
      const at = (i: { path: (string | number)[] }) => i.path.join('.');
      assert.deepEqual(err.issues.map(at), [
        'workload.witWorld.components.0.localResources.allowedIpNameLookups.0',
        'workload.witWorld.components.0.localResources.allowedHostLoopbackPorts.0',
        'workload.witWorld.components.0.maxConcurrency',
      ]);
      assert.match(err.message, /maxConcurrency: expected an integer >= 0, got -1/);
      assert.match(err.message, /allowedHostLoopbackPorts\[0\]: "http" is not a port \(expected 5432, 5432\/tcp or 53\/udp\)/);
      assert.match(err.message, /allowedIpNameLookups\[0\]: "https:\/\/x.com" is not a name/);
      return true;
    },
  );
});
