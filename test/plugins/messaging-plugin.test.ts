import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino, type Logger } from 'pino';
import { InMemoryBroker, messagingPlugin, queueGroupName, type BrokerMessage } from '../../src/plugins/messaging/index.ts';
import { pluginInterface, type Plugin, type PluginComponent, type ResolvedWorkload, type WitInterface } from '../../src/plugin/plugin.ts';
import { ManifestError } from '../../src/errors.ts';
import { hosted, type HostedPlugin } from './plugin-harness.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (body: Uint8Array) => new TextDecoder().decode(body);
const HANDLE = 'wasmcloud:messaging/handler@0.2.0#handle-message';

type Line = Record<string, unknown>;

/** Turns of the event loop until `done()` holds (deliveries and handlers run on later turns). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 1000; turn++) {
    if (done()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  assert.fail(`never happened: ${what}`);
}

function messagingInterface(config: Record<string, string>, text = 'wasmcloud:messaging/consumer,handler@0.2.0'): WitInterface {
  return { ...pluginInterface(text), config };
}

interface Call {
  component: string;
  target: string;
  msg: BrokerMessage;
}

/** A workload whose `invoke` records calls and answers with `respond` (default: ok). */
function fakeWorkload(
  id: string,
  components: { name: string; handler?: boolean; subscriptions?: string }[],
  respond: (call: Call) => Promise<unknown> = async () => undefined,
) {
  const lines: Line[] = [];
  const root = pino({ level: 'trace' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const logger = root.child({ workload: id });
  const calls: Call[] = [];
  const base = { id, namespace: 'default', name: id, annotations: {}, interfaces: [], logger };
  const workload: ResolvedWorkload = {
    ...base,
    components: components.map(
      (c): PluginComponent => ({
        workload: base,
        name: c.name,
        config: {},
        environment: {},
    allowedHosts: [],
        interfaces: c.subscriptions === undefined ? [] : [messagingInterface({ subscriptions: c.subscriptions })],
        imports: ['wasmcloud:messaging/consumer@0.2.0'],
        exports: c.handler ? ['wasmcloud:messaging/handler@0.2.0'] : [],
        logger: logger.child({ component: c.name }) as Logger,
      }),
    ),
    instantiate: () => assert.fail('the plugin should use invoke'),
    invoke: (component, target, msg) => {
      const call = { component, target, msg: msg as BrokerMessage };
      calls.push(call);
      return respond(call);
    },
  };
  return { workload, calls, lines };
}

interface Consumer {
  request(subject: string, body: Uint8Array, timeoutMs: number): Promise<BrokerMessage>;
  publish(msg: BrokerMessage): Promise<void>;
}

async function consumerOf(plugin: HostedPlugin<Plugin>, component: PluginComponent): Promise<Consumer> {
  const impls = (await plugin.onComponentBind!(component))!;
  assert.deepEqual(impls['wasmcloud:messaging/types@0.2.0'], {});
  return impls['wasmcloud:messaging/consumer@0.2.0'] as unknown as Consumer;
}

/** What a rejected guest call threw (a plain string for `result<_, string>`). */
async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return assert.fail('expected the call to fail');
}

test('declares the consumer and types it serves and the handler it calls, under the id wasmcloud-messaging', () => {
  const plugin = hosted(messagingPlugin());
  assert.equal(plugin.id, 'wasmcloud-messaging');
  assert.deepEqual(plugin.imports, [{ namespace: 'wasmcloud', package: 'messaging', interfaces: ['consumer', 'types'], version: '0.2.0' }]);
  assert.deepEqual(plugin.exports, [{ namespace: 'wasmcloud', package: 'messaging', interfaces: ['handler'], version: '0.2.0' }]);
});

test('consumer: publish and request reach the backend; every failure is a plain string for the guest', async () => {
  const broker = new InMemoryBroker();
  const plugin = hosted(messagingPlugin({ backend: broker }));
  const { workload } = fakeWorkload('w1', [{ name: 'api' }]);
  const consumer = await consumerOf(plugin, workload.components[0]!);

  const published: BrokerMessage[] = [];
  broker.subscribe('events.>', (msg) => void published.push(msg));
  broker.subscribe('echo', (msg) => void broker.publish({ subject: msg.replyTo!, body: msg.body }));
  broker.subscribe('silent', () => {});

  await consumer.publish({ subject: 'events.created', body: bytes('e1'), replyTo: 'answers' });
  const reply = await consumer.request('echo', bytes('ping'), 1000);
  assert.equal(text(reply.body), 'ping');
  assert.equal(reply.replyTo, undefined);
  await until(() => published.length === 1, 'publish delivered');
  assert.equal(published[0]!.replyTo, 'answers');

  assert.equal(await thrown(consumer.request('nobody', bytes(''), 1000)), 'no responders for request on subject "nobody"');
  assert.equal(await thrown(consumer.request('silent', bytes(''), 3)), 'request on subject "silent" timed out after 3 ms');
  assert.equal(await thrown(consumer.publish({ subject: 'bad subject', body: bytes('') })), 'subject "bad subject" contains whitespace');
  await broker.close();
  assert.equal(await thrown(consumer.publish({ subject: 'events.x', body: bytes('') })), 'messaging backend is closed');
});

test('subscribes only components that export the handler, to each subject of their subscriptions', async () => {
  const broker = new InMemoryBroker();
  const plugin = hosted(messagingPlugin({ backend: broker }));
  const { workload, calls, lines } = fakeWorkload('w1', [
    { name: 'orders', handler: true, subscriptions: ' orders.* ,  audit , ,orders.*' },
    { name: 'sender', subscriptions: 'audit' }, // a consumer only: never called
    { name: 'idle', handler: true }, // exports the handler but subscribes to nothing
  ]);
  await plugin.onWorkloadResolved!(workload);

  await broker.publish({ subject: 'orders.new', body: bytes('o1'), replyTo: 'r.1' });
  await broker.publish({ subject: 'audit', body: bytes('a1') });
  await broker.publish({ subject: 'orders.new.deep', body: bytes('no') });
  await until(() => calls.length === 2, 'two handler calls');
  assert.deepEqual(
    calls.map((c) => [c.component, c.target, c.msg.subject, text(c.msg.body), c.msg.replyTo]),
    [
      ['orders', HANDLE, 'orders.new', 'o1', 'r.1'],
      ['orders', HANDLE, 'audit', 'a1', undefined],
    ],
  );
  const warning = lines.find((l) => l.component === 'idle' && l.level === 40);
  assert.match(String(warning?.msg), /exports wasmcloud:messaging\/handler@0\.2\.0 but .* no subscriptions/);
});

test('a returned error or a trap is logged with subject and component, and the subscription goes on', async () => {
  const broker = new InMemoryBroker();
  const plugin = hosted(messagingPlugin({ backend: broker }));
  const { workload, calls, lines } = fakeWorkload('w1', [{ name: 'worker', handler: true, subscriptions: 'jobs' }], async ({ msg }) => {
    const body = text(msg.body);
    if (body === 'err') throw Object.assign(new Error('refused'), { payload: 'refused' }); // jco's shape of a guest `err`
    if (body === 'trap') throw new Error('wasm trap: unreachable');
  });
  await plugin.onWorkloadResolved!(workload);
  for (const body of ['err', 'trap', 'fine']) await broker.publish({ subject: 'jobs', body: bytes(body) });
  await until(() => calls.length === 3 && lines.filter((l) => l.level === 50).length === 2, 'three calls, two errors logged');
  const errors = lines.filter((l) => l.level === 50);
  assert.deepEqual(
    errors.map((l) => [l.msg, l.subject, l.component, l.error ?? (l.err as { message: string }).message]),
    [
      ['message handler returned an error', 'jobs', 'worker', 'refused'],
      ['message handler failed', 'jobs', 'worker', 'wasm trap: unreachable'],
    ],
  );
  assert.equal(text(calls[2]!.msg.body), 'fine');
});

test('messages run concurrently up to the limit; the rest wait their turn, and beyond the queue are dropped', async () => {
  const broker = new InMemoryBroker();
  const plugin = hosted(messagingPlugin({ backend: broker, maxConcurrentMessages: 2, maxQueuedMessages: 2 }));
  const release: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const { workload, calls, lines } = fakeWorkload('w1', [{ name: 'worker', handler: true, subscriptions: 'jobs' }], async () => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise<void>((resolve) => release.push(resolve));
    inFlight--;
  });
  await plugin.onWorkloadResolved!(workload);
  for (let i = 0; i < 5; i++) await broker.publish({ subject: 'jobs', body: bytes(String(i)) });
  await until(() => calls.length === 2 && lines.some((l) => l.level === 40), 'two in flight, one dropped');
  const dropped = lines.find((l) => l.level === 40)!;
  assert.match(String(dropped.msg), /dropped.*queue is full/);
  assert.equal(dropped.subject, 'jobs');

  while (calls.length < 4 || inFlight > 0) {
    release.splice(0).forEach((r) => r());
    await until(() => release.length > 0 || inFlight === 0, 'progress');
  }
  assert.equal(maxInFlight, 2);
  assert.deepEqual(calls.map((c) => text(c.msg.body)), ['0', '1', '2', '3']); // queued ones in arrival order
});

test('bad subscription subjects fail the workload, naming the component, before anything is subscribed', async () => {
  const broker = new InMemoryBroker();
  const plugin = hosted(messagingPlugin({ backend: broker }));
  const { workload } = fakeWorkload('w1', [
    { name: 'good', handler: true, subscriptions: 'fine' },
    { name: 'bad', handler: true, subscriptions: 'ok, a.>.b' },
  ]);
  await assert.rejects(
    async () => plugin.onWorkloadResolved!(workload),
    (err: unknown) => err instanceof ManifestError && /component "bad".*">" must be the last token/.test(err.message),
  );
  await assert.rejects(broker.request('fine', bytes(''), 1000), /no responders/);
});

test('unbind stops delivery to that workload only, and is idempotent', async () => {
  const broker = new InMemoryBroker();
  const plugin = hosted(messagingPlugin({ backend: broker }));
  const one = fakeWorkload('w1', [{ name: 'h', handler: true, subscriptions: 'news' }]);
  const two = fakeWorkload('w2', [{ name: 'h', handler: true, subscriptions: 'news' }]);
  await plugin.onWorkloadResolved!(one.workload);
  await plugin.onWorkloadResolved!(two.workload);
  await plugin.onWorkloadUnbind!('w1');
  await plugin.onWorkloadUnbind!('w1');
  await plugin.onWorkloadUnbind!('never-bound');
  await broker.publish({ subject: 'news', body: bytes('n1') });
  await until(() => two.calls.length === 1, 'w2 called');
  assert.equal(one.calls.length, 0);
});

test('resolving a workload again replaces its subscriptions instead of doubling them', async () => {
  const broker = new InMemoryBroker();
  const plugin = hosted(messagingPlugin({ backend: broker }));
  const { workload, calls } = fakeWorkload('w1', [{ name: 'h', handler: true, subscriptions: 'news' }]);
  await plugin.onWorkloadResolved!(workload);
  await plugin.onWorkloadResolved!(workload);
  await broker.publish({ subject: 'news', body: bytes('n1') });
  await broker.publish({ subject: 'news', body: bytes('n2') });
  await until(() => calls.length >= 2, 'calls');
  assert.deepEqual(calls.map((c) => text(c.msg.body)), ['n1', 'n2']);
});

test('stop unsubscribes everything; it closes its own broker but not a backend it was given', async () => {
  const given = new InMemoryBroker();
  const plugin = hosted(messagingPlugin({ backend: given }));
  const { workload } = fakeWorkload('w1', [{ name: 'h', handler: true, subscriptions: 'news' }]);
  await plugin.onWorkloadResolved!(workload);
  await plugin.stop!();
  await assert.rejects(given.request('news', bytes(''), 1000), /no responders/); // unsubscribed, still open

  const own = hosted(messagingPlugin());
  const consumer = await consumerOf(own, workload.components[0]!);
  await own.stop!();
  assert.equal(await thrown(consumer.publish({ subject: 'x', body: bytes('') })), 'messaging backend is closed');

  const owned = new InMemoryBroker();
  await hosted(messagingPlugin({ backend: owned, ownsBackend: true })).stop!();
  await assert.rejects(owned.publish({ subject: 'x', body: bytes('') }), /closed/);
});

test('limits must be whole numbers in range', () => {
  assert.throws(() => hosted(messagingPlugin({ maxConcurrentMessages: 0 })), /maxConcurrentMessages must be a positive integer, got 0/);
  assert.throws(() => hosted(messagingPlugin({ maxQueuedMessages: -1 })), /maxQueuedMessages must be a non-negative integer/);
  assert.throws(() => hosted(messagingPlugin({ maxConcurrentMessages: 1.5 })), RangeError);
});

test('two hosts running the same workload share its messages; another component or workload gets its own copy', async () => {
  const broker = new InMemoryBroker(); // stands for the NATS server both hosts use
  const hostA = hosted(messagingPlugin({ backend: broker }));
  const hostB = hosted(messagingPlugin({ backend: broker }));
  // Same namespace and name on both hosts (workload ids are per host anyway).
  const onA = fakeWorkload('orders', [{ name: 'h', handler: true, subscriptions: 'orders.*' }]);
  const onB = fakeWorkload('orders', [{ name: 'h', handler: true, subscriptions: 'orders.*' }]);
  const otherComponent = fakeWorkload('orders', [{ name: 'audit', handler: true, subscriptions: 'orders.*' }]);
  const otherWorkload = fakeWorkload('billing', [{ name: 'h', handler: true, subscriptions: 'orders.*' }]);
  await hostA.onWorkloadResolved!(onA.workload);
  await hostB.onWorkloadResolved!(onB.workload);
  await hostB.onWorkloadResolved!(otherWorkload.workload);
  await hosted(messagingPlugin({ backend: broker })).onWorkloadResolved!(otherComponent.workload);

  for (let i = 0; i < 10; i++) await broker.publish({ subject: 'orders.new', body: bytes(String(i)) });
  const delivered = () => onA.calls.length + onB.calls.length === 10 && otherComponent.calls.length === 10 && otherWorkload.calls.length === 10;
  await until(delivered, 'deliveries');
  assert.ok(onA.calls.length > 0 && onB.calls.length > 0, `both hosts got some (${onA.calls.length}, ${onB.calls.length})`);
  const shared = [...onA.calls, ...onB.calls].map((c) => Number(text(c.msg.body))).sort((x, y) => x - y);
  assert.deepEqual(shared, Array.from({ length: 10 }, (_, i) => i));

  // Once host A stops the workload, host B handles everything.
  await hostA.onWorkloadUnbind!('orders');
  const before = onB.calls.length;
  for (let i = 0; i < 4; i++) await broker.publish({ subject: 'orders.new', body: bytes('late') });
  await until(() => onB.calls.length === before + 4, 'host B takes all');
  assert.equal(onA.calls.length + onB.calls.length, 14);
});

test('queue group names: one token per part, odd characters encoded, distinct identities never collide', () => {
  assert.equal(queueGroupName('default', 'orders', 'handler'), 'wasmhost.default.orders.handler');
  assert.equal(queueGroupName('my.ns', 'a b', 'c~d'), 'wasmhost.my~2ens.a~20b.c~7ed');
  assert.equal(queueGroupName('', 'é', '*'), 'wasmhost.~.~c3~a9.~2a');
  // A dot inside a part cannot pass for a separator.
  assert.notEqual(queueGroupName('a.b', 'c', 'h'), queueGroupName('a', 'b.c', 'h'));
  for (const name of [queueGroupName('x y', '>', '\t'), queueGroupName('ünï', 'códe', 'ß')]) {
    assert.match(name, /^wasmhost(\.[A-Za-z0-9_~-]+){3}$/);
  }
});
