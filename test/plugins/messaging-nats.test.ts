// The NATS broker against a real server: the broker contract (as the in-memory broker keeps it),
// queue groups across connections, handlers that overlap, two hosts sharing one workload's
// messages through the plugin and a real component, and a server that goes away and comes back
// (a private nats-server, test/nats-server.ts).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection, type Status } from '@nats-io/transport-node';
import {
  BackendClosedError,
  BackendUnavailableError,
  InvalidSubjectError,
  MessageTooLargeError,
  NatsBroker,
  NoRespondersError,
  RequestTimeoutError,
  messagingPlugin,
  type BrokerMessage,
} from '../../src/plugins/messaging/index.ts';
import type { Host } from '../../src/host/host.ts';
import { NATS_URL, service } from '../services.ts';
import { natsServerAvailable, startNatsServer } from '../nats-server.ts';
import { component, startedHost, type LogEntry } from '../host/helpers.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (body: Uint8Array) => new TextDecoder().decode(body);

const skip = await service('NATS', NATS_URL);
/** Every subject of this run starts here: the shared server is used by other suites at the same time. */
const run = `wasmhost-test.${randomUUID().replaceAll('-', '')}`;

const connections: NatsConnection[] = [];
after(async () => {
  for (const nc of connections) if (!nc.isClosed()) await nc.close();
});

/** A connection as a host makes one: reconnects forever (quickly here), closed after the suite. */
async function connectTo(servers = NATS_URL): Promise<NatsConnection> {
  const nc = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  connections.push(nc);
  return nc;
}

async function brokerOn(nc?: NatsConnection, options: Partial<ConstructorParameters<typeof NatsBroker>[0]> = {}): Promise<NatsBroker> {
  return new NatsBroker({ connection: nc ?? (await connectTo()), ...options });
}

/**
 * Waits until every message published so far reached its subscribers: a PING round trip on the
 * publishing connections (the server routed every PUB before it answers), then on the
 * subscribing ones (their MSGs come before the PONG).
 */
async function settle(publishers: NatsConnection[], subscribers: NatsConnection[] = publishers): Promise<void> {
  for (const nc of publishers) await nc.flush();
  for (const nc of subscribers) await nc.flush();
}

/** Polls until `done()` holds, failing after `ms`. */
async function until(done: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) assert.fail(`never happened within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The next status of `type` the connection reports. */
async function nextStatus(nc: NatsConnection, type: Status['type']): Promise<Status> {
  for await (const status of nc.status()) if (status.type === type) return status;
  return assert.fail(`the connection closed before a ${type} status`);
}

describe('NatsBroker: the broker contract on a real server', { skip, timeout: 60_000 }, () => {
  test('subject matching: "*" is one token, a final ">" one or more, literals match exactly', async () => {
    const nc = await connectTo();
    const broker = await brokerOn(nc);
    const p = `${run}.match`;
    const got: Record<string, string[]> = { star: [], tail: [], exact: [], partial: [] };
    broker.subscribe(`${p}.orders.*.created`, (m) => void got.star!.push(m.subject));
    broker.subscribe(`${p}.orders.>`, (m) => void got.tail!.push(m.subject));
    broker.subscribe(`${p}.orders`, (m) => void got.exact!.push(m.subject));
    broker.subscribe(`${p}.ord*`, (m) => void got.partial!.push(m.subject));
    const sent = ['orders', 'orders.eu.created', 'orders.eu.west.created', 'orders.eu', 'ord*', 'orders.eu.created.x'];
    for (const s of sent) await broker.publish({ subject: `${p}.${s}`, body: bytes('') });
    await settle([nc]);
    const strip = (subjects: string[]) => subjects.map((s) => s.slice(p.length + 1));
    assert.deepEqual(strip(got.star!), ['orders.eu.created']);
    assert.deepEqual(strip(got.tail!), ['orders.eu.created', 'orders.eu.west.created', 'orders.eu', 'orders.eu.created.x']);
    assert.deepEqual(strip(got.exact!), ['orders']);
    assert.deepEqual(strip(got.partial!), ['ord*']);
    await broker.close();
  });

  test('publish carries body and reply-to across connections; each subscriber has its own body', async () => {
    const [pub, sub] = [await connectTo(), await connectTo()];
    const sender = await brokerOn(pub);
    const receiver = await brokerOn(sub);
    const scribbler: BrokerMessage[] = [];
    const reader: BrokerMessage[] = [];
    receiver.subscribe(`${run}.copy.a`, (msg) => {
      msg.body[0] = 0; // must not reach the other subscriber's body
      scribbler.push(msg);
    });
    receiver.subscribe(`${run}.copy.*`, (msg) => void reader.push(msg));
    await sub.flush(); // the server has the subscriptions before the other connection publishes
    await sender.publish({ subject: `${run}.copy.a`, body: bytes('hi'), replyTo: `${run}.answers.1` });
    await sender.publish({ subject: `${run}.copy.a`, body: bytes('no reply') });
    await settle([pub], [sub]);
    const shape = (msgs: BrokerMessage[]) => msgs.map((m) => [m.subject, text(m.body), m.replyTo]);
    assert.deepEqual(shape(reader), [
      [`${run}.copy.a`, 'hi', `${run}.answers.1`],
      [`${run}.copy.a`, 'no reply', undefined],
    ]);
    assert.deepEqual(shape(scribbler), [
      [`${run}.copy.a`, '\0i', `${run}.answers.1`],
      [`${run}.copy.a`, '\0o reply', undefined],
    ]);
    await sender.close();
    await receiver.close();
  });

  test('request/reply through a fresh inbox per request, answered from another connection', async () => {
    const responderConn = await connectTo();
    const responder = await brokerOn(responderConn);
    const requester = await brokerOn();
    const inboxes: string[] = [];
    responder.subscribe(`${run}.math.double`, (msg) => {
      inboxes.push(msg.replyTo!);
      void responder.publish({ subject: msg.replyTo!, body: bytes(String(Number(text(msg.body)) * 2)) });
    });
    await responderConn.flush(); // the server has the subscription before the requests come
    const [a, b] = await Promise.all([
      requester.request(`${run}.math.double`, bytes('21'), 5_000),
      requester.request(`${run}.math.double`, bytes('5'), 5_000),
    ]);
    assert.equal(text(a.body), '42');
    assert.equal(text(b.body), '10');
    assert.equal(inboxes.length, 2);
    assert.ok(inboxes.includes(a.subject));
    assert.match(inboxes[0]!, /^_INBOX\.[0-9a-f]{32}$/);
    assert.notEqual(inboxes[0], inboxes[1]);
    await responder.close();
    await requester.close();
  });

  test('a request nobody is subscribed to fails at once with NoRespondersError, not after its timeout', { timeout: 10_000 }, async () => {
    const broker = await brokerOn();
    await assert.rejects(broker.request(`${run}.nobody.home`, bytes(''), 60_000), (err: unknown) => {
      assert.ok(err instanceof NoRespondersError);
      assert.equal(err.code, 'WASMHOST_MESSAGING_NO_RESPONDERS');
      assert.equal(err.subject, `${run}.nobody.home`);
      return true;
    });
    await broker.close();
  });

  test('a request without a reply times out naming subject and timeout, and stops listening on its inbox', async () => {
    const broker = await brokerOn();
    const delivered = new Promise<string>((resolve) => broker.subscribe(`${run}.slow`, (msg) => resolve(msg.replyTo!)));
    await assert.rejects(broker.request(`${run}.slow`, bytes(''), 30), (err: unknown) => {
      assert.ok(err instanceof RequestTimeoutError);
      assert.equal(err.subject, `${run}.slow`);
      assert.equal(err.timeoutMs, 30);
      assert.match(err.message, /timed out after 30 ms/);
      return true;
    });
    const inbox = await delivered;
    await assert.rejects(broker.request(inbox, bytes(''), 5_000), NoRespondersError);
    await broker.close();
  });

  test('a guest-sized timeout beyond what Node timers hold does not fire at once; zero is allowed', async () => {
    const broker = await brokerOn();
    broker.subscribe(`${run}.late`, (msg) => {
      if (text(msg.body) === 'answer') setTimeout(() => void broker.publish({ subject: msg.replyTo!, body: bytes('ok') }), 20);
    });
    assert.equal(text((await broker.request(`${run}.late`, bytes('answer'), 4_294_967_295)).body), 'ok');
    await assert.rejects(broker.request(`${run}.late`, bytes('ignored'), 0), RequestTimeoutError);
    await broker.close();
  });

  test('after unsubscribe (idempotent) nothing more is delivered', async () => {
    const nc = await connectTo();
    const broker = await brokerOn(nc);
    const got: string[] = [];
    const subscription = broker.subscribe(`${run}.unsub`, (msg) => void got.push(text(msg.body)));
    await broker.publish({ subject: `${run}.unsub`, body: bytes('1') });
    await settle([nc]);
    subscription.unsubscribe();
    subscription.unsubscribe();
    await broker.publish({ subject: `${run}.unsub`, body: bytes('2') });
    await settle([nc]);
    assert.deepEqual(got, ['1']);
    await assert.rejects(broker.request(`${run}.unsub`, bytes(''), 5_000), NoRespondersError);
    await broker.close();
  });

  test('invalid subjects and queue names are refused with InvalidSubjectError before reaching the server', async () => {
    const broker = await brokerOn();
    const cases: [() => unknown, RegExp][] = [
      [() => broker.publish({ subject: '', body: bytes('') }), /subject is empty/],
      [() => broker.publish({ subject: 'a..b', body: bytes('') }), /empty token/],
      [() => broker.publish({ subject: 'a b', body: bytes('') }), /contains whitespace/],
      [() => broker.publish({ subject: 'a.*', body: bytes('') }), /has a wildcard/],
      [() => broker.publish({ subject: 'a', body: bytes(''), replyTo: 'r.>' }), /"r\.>" has a wildcard/],
      [() => broker.request('a.>', bytes(''), 10), /has a wildcard/],
      [() => broker.subscribe('a.>.b', () => {}), /">" must be the last token/],
      [() => broker.subscribe('a', () => {}, { queue: '' }), /queue group name is empty/],
      [() => broker.subscribe('a', () => {}, { queue: 'two words' }), /queue group name "two words" contains whitespace/],
    ];
    for (const [call, message] of cases) {
      await assert.rejects(async () => call(), (err: unknown) => err instanceof InvalidSubjectError && message.test(err.message));
    }
    await broker.close();
  });

  test('a body over the server\'s max_payload fails with MessageTooLargeError naming both sizes', async () => {
    const nc = await connectTo();
    const broker = await brokerOn(nc);
    const limit = nc.info!.max_payload;
    const big = new Uint8Array(limit + 1);
    for (const call of [() => broker.publish({ subject: `${run}.big`, body: big }), () => broker.request(`${run}.big`, big, 1_000)]) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof MessageTooLargeError);
        assert.equal(err.size, limit + 1);
        assert.equal(err.limit, limit);
        assert.match(err.message, new RegExp(`${limit + 1} bytes .* limit of ${limit} bytes`));
        return true;
      });
    }
    assert.ok(!nc.isClosed(), 'the connection survives');
    await broker.close();
  });

  test('a throwing handler is reported and does not keep other subscribers from their message', async () => {
    const nc = await connectTo();
    const reported: [unknown, string][] = [];
    const broker = await brokerOn(nc, { onHandlerError: (error, msg) => void reported.push([error, msg.subject]) });
    broker.subscribe(`${run}.throws`, () => {
      throw new Error('boom');
    });
    const got: string[] = [];
    broker.subscribe(`${run}.throws`, (msg) => void got.push(text(msg.body)));
    await broker.publish({ subject: `${run}.throws`, body: bytes('1') });
    await broker.publish({ subject: `${run}.throws`, body: bytes('2') });
    await settle([nc]);
    assert.deepEqual(got, ['1', '2']);
    assert.deepEqual(reported.map(([e, s]) => [(e as Error).message, s]), [
      ['boom', `${run}.throws`],
      ['boom', `${run}.throws`],
    ]);
    await broker.close();
  });

  test('close ends pending requests and refuses further use; a given connection stays open', async () => {
    const nc = await connectTo();
    const broker = await brokerOn(nc);
    const delivered = new Promise<void>((resolve) => broker.subscribe(`${run}.closing`, () => resolve()));
    const pending = broker.request(`${run}.closing`, bytes(''), 60_000);
    await delivered;
    await broker.close();
    await assert.rejects(pending, BackendClosedError);
    await assert.rejects(broker.publish({ subject: `${run}.closing`, body: bytes('') }), BackendClosedError);
    await assert.rejects(broker.request(`${run}.closing`, bytes(''), 10), BackendClosedError);
    assert.throws(() => broker.subscribe(`${run}.closing`, () => {}), BackendClosedError);
    await broker.close(); // idempotent
    assert.equal(nc.isClosed(), false);
    // Its subscriptions are gone from the server: nobody answers there now.
    const other = await brokerOn(nc);
    await assert.rejects(other.request(`${run}.closing`, bytes(''), 5_000), NoRespondersError);
  });

  test('a connection its owner closed makes every call fail with BackendUnavailableError, at once', { timeout: 10_000 }, async () => {
    const nc = await connectTo();
    const broker = await brokerOn(nc);
    broker.subscribe(`${run}.gone`, () => {});
    const waiting = assert.rejects(broker.request(`${run}.gone`, bytes(''), 60_000), BackendUnavailableError);
    await nc.close();
    await waiting;
    const unavailable = (err: unknown) => err instanceof BackendUnavailableError && /NATS connection is closed/.test(err.message);
    await assert.rejects(broker.publish({ subject: `${run}.gone`, body: bytes('') }), unavailable);
    await assert.rejects(broker.request(`${run}.gone`, bytes(''), 60_000), unavailable);
    assert.throws(() => broker.subscribe(`${run}.gone`, () => {}), BackendUnavailableError);
    await broker.close();
  });

  test('NatsBroker.connect owns its connection; an unreachable server fails with BackendUnavailableError', async () => {
    const broker = await NatsBroker.connect({ servers: NATS_URL });
    broker.subscribe(`${run}.owned`, (msg) => void broker.publish({ subject: msg.replyTo!, body: bytes('mine') }));
    assert.equal(text((await broker.request(`${run}.owned`, bytes(''), 5_000)).body), 'mine');
    await broker.close();
    const probe = await brokerOn();
    await assert.rejects(probe.request(`${run}.owned`, bytes(''), 5_000), NoRespondersError); // its connection went away

    // Port 1 on loopback: nothing listens there.
    await assert.rejects(NatsBroker.connect({ servers: 'nats://127.0.0.1:1' }), (err: unknown) => {
      assert.ok(err instanceof BackendUnavailableError);
      assert.match(err.message, /cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
      return true;
    });
  });
});

describe('NatsBroker: queue groups and concurrency', { skip, timeout: 60_000 }, () => {
  test('100 messages to a queue group of two brokers on two connections: each delivered exactly once, both get some', async () => {
    const [pubConn, connA, connB] = [await connectTo(), await connectTo(), await connectTo()];
    const publisher = await brokerOn(pubConn);
    const [a, b] = [await brokerOn(connA), await brokerOn(connB)];
    const got = { a: [] as string[], b: [] as string[], everyone: [] as string[] };
    a.subscribe(`${run}.jobs`, (m) => void got.a.push(text(m.body)), { queue: 'workers' });
    b.subscribe(`${run}.jobs`, (m) => void got.b.push(text(m.body)), { queue: 'workers' });
    publisher.subscribe(`${run}.jobs`, (m) => void got.everyone.push(text(m.body))); // no queue: gets all
    await settle([connA, connB]);
    const sent = Array.from({ length: 100 }, (_, i) => `job-${i}`);
    for (const body of sent) await publisher.publish({ subject: `${run}.jobs`, body: bytes(body) });
    await settle([pubConn], [connA, connB, pubConn]);
    assert.deepEqual([...got.a, ...got.b].sort(), [...sent].sort());
    assert.ok(got.a.length > 0 && got.b.length > 0, `both members got some (a ${got.a.length}, b ${got.b.length})`);
    assert.deepEqual(got.everyone, sent);
    for (const broker of [publisher, a, b]) await broker.close();
  });

  test('a queue group is its name: members on different matching patterns share each message', async () => {
    const [pubConn, connA, connB] = [await connectTo(), await connectTo(), await connectTo()];
    const publisher = await brokerOn(pubConn);
    const [a, b] = [await brokerOn(connA), await brokerOn(connB)];
    const got: string[] = [];
    a.subscribe(`${run}.pattern.*`, (m) => void got.push(`a:${text(m.body)}`), { queue: 'q' });
    b.subscribe(`${run}.pattern.>`, (m) => void got.push(`b:${text(m.body)}`), { queue: 'q' });
    b.subscribe(`${run}.pattern.>`, (m) => void got.push(`other:${text(m.body)}`), { queue: 'other' });
    await settle([connA, connB]);
    for (let i = 0; i < 20; i++) await publisher.publish({ subject: `${run}.pattern.x`, body: bytes(String(i)) });
    await settle([pubConn], [connA, connB]);
    const q = got.filter((g) => !g.startsWith('other:')).map((g) => g.slice(2));
    assert.deepEqual(q.map(Number).sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i));
    assert.equal(got.filter((g) => g.startsWith('other:')).length, 20);
    for (const broker of [publisher, a, b]) await broker.close();
  });

  test('handlers overlap: N messages are all in flight at once before any finishes', async () => {
    const N = 8;
    const broker = await brokerOn();
    let inFlight = 0;
    let peak = 0;
    const { promise: allIn, resolve: open } = Promise.withResolvers<void>();
    const finished: string[] = [];
    broker.subscribe(`${run}.overlap`, (msg) => {
      void (async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        if (inFlight === N) open();
        await allIn; // one-at-a-time handling would never get here for the second message
        inFlight--;
        finished.push(text(msg.body));
      })();
    });
    for (let i = 0; i < N; i++) await broker.publish({ subject: `${run}.overlap`, body: bytes(String(i)) });
    await until(() => finished.length === N, 'every handler finished');
    assert.equal(peak, N);
    await broker.close();
  });
});

// Two hosts, each with its own connection and NatsBroker, run the same workload (same namespace
// and name, different workload ids): the plugin's queue group makes them share its messages.
describe('two hosts running one workload on NATS, with the msg-handler component', { skip, timeout: 120_000 }, () => {
  const namespace = `ns-${randomUUID().slice(0, 8)}`;
  const subject = `${run}.e2e.work`;
  const hosts: { host: Host; entries: LogEntry[]; nc: NatsConnection }[] = [];

  after(async () => {
    for (const { host } of hosts) await host.stop();
  });

  async function startHost(workloadId: string) {
    const nc = await connectTo();
    const { host, entries } = await startedHost(messagingPlugin({ backend: new NatsBroker({ connection: nc }) }));
    hosts.push({ host, entries, nc });
    const manifest = {
      namespace,
      name: 'shared',
      witWorld: {
        components: [component('handler', 'msg-handler')],
        hostInterfaces: [
          {
            namespace: 'wasmcloud',
            package: 'messaging',
            interfaces: ['consumer', 'handler'],
            version: '0.2.0',
            config: { subscriptions: `${subject}, ${run}.e2e.ask` },
          },
        ],
      },
    };
    const status = (await host.workloadStart({ workloadId, workload: manifest })).workloadStatus;
    assert.equal(status.workloadState, 'WORKLOAD_STATE_RUNNING', status.message);
    return entries;
  }

  test('each of 40 messages is handled exactly once across the two hosts, and both handle some', async () => {
    await startHost('host-a-workload');
    await startHost('host-b-workload');
    const clientConn = await connectTo();
    const client = await brokerOn(clientConn);
    const replies: string[] = [];
    client.subscribe(`${run}.e2e.done`, (msg) => void replies.push(text(msg.body)));
    await settle(hosts.map((h) => h.nc).concat(clientConn));

    // Each host's share is visible on the server: its connection's inbound message count.
    const before = hosts.map((h) => h.nc.stats().inMsgs);
    const sent = Array.from({ length: 40 }, (_, i) => `m${i}`);
    for (const body of sent) await client.publish({ subject, body: bytes(body), replyTo: `${run}.e2e.done` });
    await until(() => replies.length >= sent.length, `${sent.length} replies`, 60_000);
    await settle(hosts.map((h) => h.nc).concat(clientConn));
    assert.deepEqual([...replies].sort(), sent.map((b) => `reply:${b}`).sort(), 'each message answered exactly once');
    const shares = hosts.map((h, i) => h.nc.stats().inMsgs - before[i]!);
    assert.equal(shares[0]! + shares[1]!, sent.length, `the hosts received ${shares.join(' + ')} messages`);
    assert.ok(shares.every((n) => n > 0), `both hosts handled some (${shares.join(', ')})`);
    await client.close();
  });

  test('each request is handled by one host, and handlers run concurrently (a barrier opens only with all N waiting)', async () => {
    const N = 6;
    const clientConn = await connectTo();
    const client = await brokerOn(clientConn);
    const waiting: BrokerMessage[] = [];
    const barrier = client.subscribe(`${run}.e2e.barrier`, (msg) => {
      waiting.push(msg);
      if (waiting.length === N) for (const m of waiting) void client.publish({ subject: m.replyTo!, body: bytes('open') });
    });
    await settle([clientConn]);
    try {
      const replies = await Promise.all(
        Array.from({ length: N }, () => client.request(`${run}.e2e.ask`, bytes(`ask:${run}.e2e.barrier`), 20_000)),
      );
      assert.deepEqual(replies.map((r) => text(r.body)), Array(N).fill('open'));
      assert.equal(waiting.length, N);
    } finally {
      barrier.unsubscribe();
      await client.close();
    }
  });

  test('stopping the workload on one host leaves the other handling everything', async () => {
    await hosts[0]!.host.workloadStop({ workloadId: 'host-a-workload' });
    const clientConn = await connectTo();
    const client = await brokerOn(clientConn);
    await settle(hosts.map((h) => h.nc).concat(clientConn));
    const before = hosts.map((h) => h.nc.stats().inMsgs);
    for (let i = 0; i < 10; i++) assert.equal(text((await client.request(subject, bytes(`s${i}`), 20_000)).body), `reply:s${i}`);
    const shares = hosts.map((h, i) => h.nc.stats().inMsgs - before[i]!);
    assert.equal(shares[0], 0);
    assert.equal(shares[1], 10);
    await client.close();
  });
});

describe('NatsBroker when the server goes away and comes back', { skip: skip || natsServerAvailable(), timeout: 60_000 }, () => {
  test('calls fail fast with BackendUnavailableError while it is down; subscriptions deliver again after a restart', async () => {
    const server = await startNatsServer();
    try {
      const nc = await connectTo(server.url);
      const broker = await brokerOn(nc);
      const p = `${run}.restart`;
      const got: string[] = [];
      broker.subscribe(`${p}.events.>`, (m) => void got.push(text(m.body)));
      broker.subscribe(`${p}.svc`, (m) => void broker.publish({ subject: m.replyTo!, body: bytes(`svc:${text(m.body)}`) }), { queue: 'svc' });
      const silent = new Promise<void>((resolve) => broker.subscribe(`${p}.silent`, () => resolve()));
      await broker.publish({ subject: `${p}.events.a`, body: bytes('before') });
      assert.equal(text((await broker.request(`${p}.svc`, bytes('1'), 5_000)).body), 'svc:1');
      await until(() => got.includes('before'), 'the first event');

      // A request waiting when the server goes fails with it instead of waiting out its minute.
      const waiting = assert.rejects(broker.request(`${p}.silent`, bytes(''), 60_000), BackendUnavailableError);
      await silent;
      const disconnected = nextStatus(nc, 'disconnect');
      await server.stop();
      await disconnected;
      await waiting;
      await until(
        () => broker.publish({ subject: `${p}.events.a`, body: bytes('lost') }).then(() => false, (err) => err instanceof BackendUnavailableError),
        'publish refused while the server is down',
      );
      await assert.rejects(broker.request(`${p}.svc`, bytes('2'), 60_000), (err: unknown) => {
        assert.ok(err instanceof BackendUnavailableError);
        assert.equal(err.code, 'WASMHOST_MESSAGING_UNAVAILABLE');
        assert.match(err.message, /disconnected from NATS server .*reconnecting/);
        return true;
      });
      // Subscribing while it is down is allowed: it starts with the others once the server is back.
      const lateGot: string[] = [];
      broker.subscribe(`${p}.late`, (m) => void lateGot.push(text(m.body)));

      const reconnected = nextStatus(nc, 'reconnect');
      await server.restart();
      await reconnected;

      // Nothing done by the caller: the same subscriptions deliver again, seen from a fresh client.
      const other = await brokerOn(await connectTo(server.url));
      await until(async () => {
        await other.publish({ subject: `${p}.events.b`, body: bytes('after') });
        await other.publish({ subject: `${p}.late`, body: bytes('late') });
        return got.includes('after') && lateGot.includes('late');
      }, 'events published after the restart are delivered');
      assert.ok(!got.includes('lost'), 'nothing published while down was delivered');
      assert.equal(text((await other.request(`${p}.svc`, bytes('3'), 5_000)).body), 'svc:3');
      assert.equal(text((await broker.request(`${p}.svc`, bytes('4'), 5_000)).body), 'svc:4');
      await other.close();
      await broker.close();
    } finally {
      await server.cleanup();
    }
  });
});
