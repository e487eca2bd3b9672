// The messaging plugin end to end with a real component (test/fixtures/msg-handler): the plugin
// subscribes it, every message runs `handle-message` in a fresh instance whose
// `wasmcloud:messaging/consumer` is the plugin's own. The host is stood in for by a small
// ResolvedWorkload built here.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Engine } from '../../src/engine/engine.ts';
import { WasiContext } from '../../src/wasi/context.ts';
import { createWasiImports } from '../../src/wasi/imports.ts';
import { InMemoryBroker, messagingPlugin, type BrokerMessage } from '../../src/plugins/messaging/index.ts';
import { pluginInterface, type Implementations, type Plugin, type PluginComponent, type ResolvedWorkload } from '../../src/plugin/plugin.ts';
import { fixturePath } from '../fixtures/index.ts';
import { hosted, type HostedPlugin } from './plugin-harness.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (body: Uint8Array) => new TextDecoder().decode(body);

const engine = new Engine({ cacheDir: false });
const compiled = engine.compile(fixturePath('msg-handler'));

/** jco's import object is keyed by unversioned interface names. */
function unversionedKeys(impls: Implementations): Implementations {
  return Object.fromEntries(Object.entries(impls).map(([name, value]) => [name.replace(/@.*$/, ''), value]));
}

/**
 * One workload with one msg-handler component named `handler`, bound to `plugin` as the host
 * would, and resolved: the plugin subscribes it to `subscriptions`.
 */
async function startWorkload(plugin: HostedPlugin<Plugin>, id: string, subscriptions: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) }).child({ workload: id });
  const base = { id, namespace: 'default', name: id, annotations: {}, interfaces: [], logger };
  const component: PluginComponent = {
    workload: base,
    name: 'handler',
    config: {},
    environment: {},
    allowedHosts: [],
    interfaces: [{ ...pluginInterface('wasmcloud:messaging/consumer,handler@0.2.0'), config: { subscriptions } }],
    imports: ['wasmcloud:messaging/types@0.2.0', 'wasmcloud:messaging/consumer@0.2.0'],
    exports: ['wasmcloud:messaging/handler@0.2.0'],
    logger: logger.child({ component: 'handler' }),
  };
  await plugin.onWorkloadBind?.(base);
  const implementations = unversionedKeys((await plugin.onComponentBind!(component)) ?? {});
  const stats = { invocations: 0 };
  const invoke = async (name: string, target: string, ...args: unknown[]) => {
    assert.equal(name, 'handler');
    stats.invocations++;
    const wasi = new WasiContext({});
    try {
      const instance = await (await compiled).instantiate({ ...createWasiImports(wasi), ...implementations });
      return await instance.call(target, ...args);
    } finally {
      wasi.dispose();
    }
  };
  const workload: ResolvedWorkload = {
    ...base,
    components: [component],
    instantiate: () => assert.fail('the plugin should use invoke'),
    invoke,
  };
  await plugin.onWorkloadResolved!(workload);
  return { lines, stats };
}

const broker = new InMemoryBroker();
const plugin = hosted(messagingPlugin({ backend: broker }));
after(() => plugin.stop!());

test('a request to a subscribed subject is answered by the component through its reply-to', async () => {
  await startWorkload(plugin, 'w-reply', 'greet.*, other');
  const reply = await broker.request('greet.en', bytes('hello'), 30_000);
  assert.equal(text(reply.body), 'reply:hello');
});

test('a handler error is logged with subject and component, and the next message is handled', async () => {
  const { lines } = await startWorkload(plugin, 'w-errors', 'errors.in');
  await broker.publish({ subject: 'errors.in', body: bytes('fail') });
  await broker.publish({ subject: 'errors.in', body: bytes('ask:nobody.listens') });
  const reply = await broker.request('errors.in', bytes('still here'), 30_000);
  assert.equal(text(reply.body), 'reply:still here');

  // The failed ones may finish after the reply: wait for both error lines.
  for (let turn = 0; lines.filter((l) => l.level === 50).length < 2; turn++) {
    assert.ok(turn < 10_000, 'both handler errors are logged');
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const errors = lines.filter((l) => l.level === 50).map((l) => [l.subject, l.component, l.workload, l.error]);
  assert.deepEqual(
    errors.sort(),
    [
      ['errors.in', 'handler', 'w-errors', 'handler refused: fail'],
      // consumer.request's error reached the guest as a string, which it returned in its own error.
      ['errors.in', 'handler', 'w-errors', 'request to nobody.listens failed: no responders for request on subject "nobody.listens"'],
    ].sort(),
  );
});

test('messages are handled concurrently: N handlers wait on a barrier that opens only when all N are in flight', async () => {
  const N = 6;
  await startWorkload(plugin, 'w-barrier', 'work');
  // Each handler's `ask:barrier` is a request on `barrier`; answering only once all N are
  // waiting means one-at-a-time handling would time out instead.
  const waiting: BrokerMessage[] = [];
  const barrier = broker.subscribe('barrier', (msg) => {
    waiting.push(msg);
    if (waiting.length === N) {
      waiting.forEach((m, i) => void broker.publish({ subject: m.replyTo!, body: bytes(`opened:${i}`) }));
    }
  });
  try {
    const replies = await Promise.all(Array.from({ length: N }, () => broker.request('work', bytes('ask:barrier'), 10_000)));
    assert.deepEqual(replies.map((r) => text(r.body)).sort(), Array.from({ length: N }, (_, i) => `opened:${i}`).sort());
    assert.equal(waiting.length, N);
    assert.ok(waiting.every((m) => text(m.body) === 'ask:barrier'));
  } finally {
    barrier.unsubscribe();
  }
});

test('after unbind the component gets no more messages', async () => {
  const { stats } = await startWorkload(plugin, 'w-unbind', 'unbind.me');
  assert.equal(text((await broker.request('unbind.me', bytes('x'), 30_000)).body), 'reply:x');
  assert.equal(stats.invocations, 1);
  await plugin.onWorkloadUnbind!('w-unbind');
  await assert.rejects(broker.request('unbind.me', bytes('y'), 30_000), /no responders/);
  await broker.publish({ subject: 'unbind.me', body: bytes('z') });
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(stats.invocations, 1);
});
