// Messaging through the host, from a YAML manifest: a handler subscribed through its host
// interface config replies, handles messages concurrently, reports errors, and stops with its
// workload.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Host } from '../../src/host/host.ts';
import { InMemoryBroker, messagingPlugin, type BrokerMessage } from '../../src/plugins/messaging/index.ts';
import { loadWorkloadManifest } from '../../src/workload/manifest.ts';
import { fixturePath } from '../fixtures/index.ts';
import { eventually, startedHost, type LogEntry } from './helpers.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

let host: Host;
let entries: LogEntry[];
let dir: string;
const broker = new InMemoryBroker();

before(async () => {
  ({ host, entries } = await startedHost(messagingPlugin({ backend: broker })));
  dir = await mkdtemp(join(tmpdir(), 'wasmhost-messaging-test-'));
  // The manifest names its component relative to its own folder.
  await copyFile(fixturePath('msg-handler'), join(dir, 'handler.wasm'));
  await writeFile(
    join(dir, 'workload.yaml'),
    `namespace: test
name: replies
witWorld:
  components:
    - name: handler
      file: ./handler.wasm
  hostInterfaces:
    - namespace: wasmcloud
      package: messaging
      interfaces: [consumer, handler]
      version: 0.2.0
      config:
        subscriptions: "greet.*, work"
`,
  );
  const workload = await loadWorkloadManifest(join(dir, 'workload.yaml'));
  const status = (await host.workloadStart({ workloadId: 'replies', workload })).workloadStatus;
  assert.equal(status.workloadState, 'WORKLOAD_STATE_RUNNING', status.message);
});

after(async () => {
  await host.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a message on a subscribed subject gets its reply', async () => {
  const reply = await broker.request('greet.alice', bytes('hello'), 10_000);
  assert.equal(text(reply.body), 'reply:hello');
});

test('messages are handled concurrently, each in its own instance', async () => {
  const N = 5;
  const waiting: BrokerMessage[] = [];
  // Answers only when all N handlers wait at once: one-at-a-time handling would time out.
  const barrier = broker.subscribe('barrier', (msg) => {
    waiting.push(msg);
    if (waiting.length === N) for (const m of waiting) void broker.publish({ subject: m.replyTo!, body: bytes('open') });
  });
  try {
    const replies = await Promise.all(Array.from({ length: N }, () => broker.request('work', bytes('ask:barrier'), 10_000)));
    assert.deepEqual(replies.map((r) => text(r.body)), Array(N).fill('open'));
  } finally {
    barrier.unsubscribe();
  }
});

test('a handler error is logged with its subject and the next message is handled', async () => {
  await broker.publish({ subject: 'greet.bob', body: bytes('fail') });
  const logged = await eventually(() => entries.find((e) => e.subject === 'greet.bob' && e.level >= 50));
  assert.equal(logged.component, 'handler');
  assert.match(String(logged.error ?? logged.msg), /handler refused: fail/);
  assert.equal(text((await broker.request('greet.bob', bytes('again'), 10_000)).body), 'reply:again');
});

test('stopping the workload unsubscribes its handler', async () => {
  await host.workloadStop({ workloadId: 'replies' });
  await assert.rejects(broker.request('greet.alice', bytes('anyone?'), 1_000), /no responders/);
});
