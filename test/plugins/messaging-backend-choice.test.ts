// A workload picks its messaging backend with the `backend` key of its wasmcloud:messaging config:
// made once from the registry with the host's resources, closed at stop, refused at start (naming
// the workload, the interface and what is missing) when the host cannot offer it. Against the real
// NATS server through the host with the msg-handler component; the bookkeeping without one.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Host } from '../../src/host/host.ts';
import { UsageError } from '../../src/errors.ts';
import { InMemoryBroker, messagingPlugin, type MessagingBackend } from '../../src/plugins/messaging/index.ts';
import type { BackendRegistry } from '../../src/plugins/shared/backends.ts';
import { NATS_URL, service } from '../services.ts';
import { component, startedHost } from '../host/helpers.ts';
import { hosted, pluginWorkload } from './plugin-harness.ts';
import { natsTestRun } from './nats-test-helpers.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (body: Uint8Array) => new TextDecoder().decode(body);

const messaging = (config: Record<string, string>) => ({ namespace: 'wasmcloud', package: 'messaging', interfaces: ['consumer', 'handler'], version: '0.2.0', config });

test('a backend named in the config is made once and closed at stop; a given default is closed only when owned', async () => {
  const counts = { made: 0, closed: 0 };
  class Counted extends InMemoryBroker {
    override async close(): Promise<void> {
      counts.closed++;
      await super.close();
    }
  }
  const registry: BackendRegistry<MessagingBackend> = [{ type: 'memory', parseConfig: () => ({}), create: () => (counts.made++, new Counted()) }];
  const given = new InMemoryBroker();
  const plugin = hosted(messagingPlugin({ backend: given, registry }));
  await plugin.onWorkloadBind(pluginWorkload('w1', [messaging({ backend: 'memory' })]));
  await plugin.onWorkloadBind(pluginWorkload('w2', [messaging({ backend: 'memory' })]));
  await plugin.onWorkloadBind(pluginWorkload('w3', [messaging({})]));
  assert.equal(counts.made, 1);
  await plugin.stop();
  assert.equal(counts.closed, 1);
  await given.publish({ subject: 'still.open', body: bytes('') }); // not the plugin's to close
});

test('an unknown backend type, or one the host lacks resources for, fails the bind naming the workload, the interface and why', () => {
  const plugin = hosted(messagingPlugin());
  assert.throws(
    () => plugin.onWorkloadBind(pluginWorkload('w1', [messaging({ backend: 'kafka' })], { namespace: 'prod', name: 'shop' })),
    (err: unknown) => err instanceof UsageError && err.message === 'workload "prod/shop", wasmcloud:messaging config backend: no backend named "kafka" (known: memory, nats)',
  );
  assert.throws(
    () => plugin.onWorkloadBind(pluginWorkload('w2', [messaging({ backend: 'nats' })])),
    /^UsageError: workload "default\/w2", wasmcloud:messaging config backend: this host cannot offer the wasmcloud-messaging backend "nats": the NATS messaging backend needs a NATS connection$/,
  );
  assert.throws(() => messagingPlugin({ backend: 'kafka' }), /wasmcloud-messaging: no backend named "kafka"/);
});

const skip = await service('NATS', NATS_URL);
const { run, connectTo, cleanup } = natsTestRun('whbm', 'none_');
after(cleanup);

/** The msg-handler component subscribed to `subject`, with the messaging config `config`. */
function handler(name: string, subject: string, config: Record<string, string>) {
  return { namespace: run, name, witWorld: { components: [component('handler', 'msg-handler')], hostInterfaces: [messaging({ subscriptions: subject, ...config })] } };
}

describe('a workload choosing its messaging backend, through the host', { skip }, () => {
  test('backend: nats subscribes and replies through NATS core while the host default is memory; stopping it unsubscribes', async () => {
    const nc = await connectTo();
    const client = await connectTo();
    const memory = new InMemoryBroker();
    let host: Host | undefined;
    try {
      ({ host } = await startedHost(messagingPlugin({ backend: memory, resources: { nats: nc } })));
      const subject = `${run}.${randomUUID().slice(0, 8)}.greet`;
      const started = await host.workloadStart({ workloadId: 'on-nats', workload: handler('greeter', subject, { backend: 'nats' }) });
      assert.equal(started.workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', started.workloadStatus.message);
      await nc.flush();
      // A plain NATS client asks; the guest's reply is published through the chosen backend too.
      const reply = await client.request(subject, bytes('hello'), { timeout: 5000 });
      assert.equal(text(reply.data), 'reply:hello');
      await assert.rejects(memory.request(subject, bytes('hello'), 500), /no responders|No responders/i, 'nothing subscribed on the host default');

      await host.workloadStop({ workloadId: 'on-nats' });
      await nc.flush();
      await assert.rejects(client.request(subject, bytes('again'), { timeout: 2000 }), /no responders/i, 'unsubscribed with its workload');
    } finally {
      await host?.stop();
    }
    assert.equal(nc.isClosed(), false, "the host's NATS connection stays open: it is the embedder's");
  });

  test('an unknown backend, or one this host has no resources for, fails that start with a clear message; the host keeps running', async () => {
    const { host } = await startedHost(messagingPlugin({ backend: 'memory', resources: {} }));
    try {
      const unknown = await host.workloadStart({ workloadId: 'unknown', workload: handler('h', `${run}.x`, { backend: 'kafka' }) });
      assert.equal(unknown.workloadStatus.workloadState, 'WORKLOAD_STATE_ERROR');
      assert.match(unknown.workloadStatus.message, new RegExp(`workload "${run}/h", wasmcloud:messaging config backend: no backend named "kafka" \\(known: memory, nats\\)`));
      const missing = await host.workloadStart({ workloadId: 'missing', workload: handler('h', `${run}.x`, { backend: 'nats' }) });
      assert.equal(missing.workloadStatus.workloadState, 'WORKLOAD_STATE_ERROR');
      assert.match(missing.workloadStatus.message, /this host cannot offer the wasmcloud-messaging backend "nats": the NATS messaging backend needs a NATS connection/);
      const fine = await host.workloadStart({ workloadId: 'fine', workload: handler('h', `${run}.x`, {}) });
      assert.equal(fine.workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', fine.workloadStatus.message);
    } finally {
      await host.stop();
    }
  });
});
