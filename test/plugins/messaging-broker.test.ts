import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BackendClosedError,
  InMemoryBroker,
  InvalidSubjectError,
  NoRespondersError,
  RequestTimeoutError,
  type BrokerMessage,
} from '../../src/plugins/messaging/index.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (body: Uint8Array) => new TextDecoder().decode(body);

/** Subscribes and collects the subjects (and bodies) delivered; `settle` waits until queued deliveries ran. */
function collect(broker: InMemoryBroker, pattern: string, queue?: string) {
  const got: string[] = [];
  const bodies: string[] = [];
  const subscription = broker.subscribe(
    pattern,
    (msg) => {
      got.push(msg.subject);
      bodies.push(text(msg.body));
    },
    { queue },
  );
  return { got, bodies, subscription };
}
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('subject matching: "*" is one token, a final ">" one or more, literals match exactly', async () => {
  const broker = new InMemoryBroker();
  const star = collect(broker, 'orders.*.created');
  const tail = collect(broker, 'orders.>');
  const exact = collect(broker, 'orders');
  const partial = collect(broker, 'ord*'); // not a whole token: a literal
  for (const subject of ['orders', 'orders.eu.created', 'orders.eu.west.created', 'orders.eu', 'ord*', 'orders.eu.created.x']) {
    await broker.publish({ subject, body: bytes('') });
  }
  await settle();
  assert.deepEqual(star.got, ['orders.eu.created']);
  assert.deepEqual(tail.got, ['orders.eu.created', 'orders.eu.west.created', 'orders.eu', 'orders.eu.created.x']);
  assert.deepEqual(exact.got, ['orders']);
  assert.deepEqual(partial.got, ['ord*']);
});

test('every matching subscription gets its own copy; publish returns before handlers run', async () => {
  const broker = new InMemoryBroker();
  const seen: BrokerMessage[] = [];
  broker.subscribe('a.b', (msg) => {
    seen.push(msg);
    msg.body[0] = 0; // a handler scribbling on its body must not affect anyone else
  });
  broker.subscribe('a.*', (msg) => void seen.push(msg));
  const body = Buffer.from('hi'); // Buffer#slice shares memory: the copy must not
  await broker.publish({ subject: 'a.b', body, replyTo: 'r.1' });
  assert.equal(seen.length, 0);
  body[1] = 0; // nor may the publisher reusing its buffer
  await settle();
  assert.equal(seen.length, 2);
  assert.equal(text(seen[1]!.body), 'hi');
  assert.equal(seen[1]!.replyTo, 'r.1');
});

test('request/reply goes through a generated inbox subject and resolves with the reply', async () => {
  const broker = new InMemoryBroker();
  const inboxes: string[] = [];
  broker.subscribe('math.double', (msg) => {
    inboxes.push(msg.replyTo!);
    void broker.publish({ subject: msg.replyTo!, body: bytes(String(Number(text(msg.body)) * 2)) });
  });
  const [a, b] = await Promise.all([broker.request('math.double', bytes('21'), 1000), broker.request('math.double', bytes('5'), 1000)]);
  assert.equal(text(a.body), '42');
  assert.equal(text(b.body), '10');
  assert.equal(a.subject, inboxes[0]);
  assert.match(inboxes[0]!, /^_INBOX\.[0-9a-f]{32}$/);
  assert.notEqual(inboxes[0], inboxes[1]);
});

test('a guest-sized timeout beyond what Node timers hold does not fire at once', async () => {
  const broker = new InMemoryBroker();
  broker.subscribe('late', (msg) => void setTimeout(() => void broker.publish({ subject: msg.replyTo!, body: bytes('ok') }), 20));
  const reply = await broker.request('late', bytes(''), 4_294_967_295); // u32 max
  assert.equal(text(reply.body), 'ok');
});

test('a request nobody is subscribed to fails at once with NoRespondersError naming the subject', async () => {
  const broker = new InMemoryBroker();
  broker.subscribe('other', () => {});
  await assert.rejects(broker.request('nobody.home', bytes(''), 60_000), (err: unknown) => {
    assert.ok(err instanceof NoRespondersError);
    assert.equal(err.code, 'WASMHOST_MESSAGING_NO_RESPONDERS');
    assert.match(err.message, /no responders .*"nobody\.home"/);
    return true;
  });
});

test('a request without a reply times out with an error naming the subject and the timeout', async () => {
  const broker = new InMemoryBroker();
  // Listens, never answers. Delivery is asynchronous: on a loaded machine it may come after the
  // 5 ms timeout, so the inbox is awaited rather than read at once.
  const delivered = new Promise<string>((resolve) => broker.subscribe('slow', (msg) => resolve(msg.replyTo!)));
  await assert.rejects(broker.request('slow', bytes(''), 5), (err: unknown) => {
    assert.ok(err instanceof RequestTimeoutError);
    assert.equal(err.subject, 'slow');
    assert.equal(err.timeoutMs, 5);
    assert.match(err.message, /"slow" timed out after 5 ms/);
    return true;
  });
  // The reply subscription went away with the request: its inbox has no one listening now.
  const inbox = await delivered;
  assert.match(inbox, /^_INBOX\./);
  await assert.rejects(broker.request(inbox, bytes(''), 1000), NoRespondersError);
});

test('after unsubscribe (which is idempotent) nothing more is delivered, even if already published', async () => {
  const broker = new InMemoryBroker();
  const { got, subscription } = collect(broker, 'x');
  await broker.publish({ subject: 'x', body: bytes('1') });
  await settle();
  await broker.publish({ subject: 'x', body: bytes('2') });
  subscription.unsubscribe();
  subscription.unsubscribe();
  await broker.publish({ subject: 'x', body: bytes('3') });
  await settle();
  assert.deepEqual(got, ['x']);
  await assert.rejects(broker.request('x', bytes(''), 1000), NoRespondersError);
});

test('invalid subjects are refused with InvalidSubjectError saying why', async () => {
  const broker = new InMemoryBroker();
  const cases: [() => unknown, RegExp][] = [
    [() => broker.publish({ subject: '', body: bytes('') }), /subject is empty/],
    [() => broker.publish({ subject: 'a..b', body: bytes('') }), /"a\.\.b" has an empty token/],
    [() => broker.publish({ subject: 'a b', body: bytes('') }), /contains whitespace/],
    [() => broker.publish({ subject: 'a.*', body: bytes('') }), /has a wildcard/],
    [() => broker.publish({ subject: 'a', body: bytes(''), replyTo: 'r.>' }), /"r\.>" has a wildcard/],
    [() => broker.request('a.>', bytes(''), 10), /has a wildcard/],
    [() => broker.subscribe('a.>.b', () => {}), /">" must be the last token/],
    [() => broker.subscribe('.a', () => {}), /empty token/],
  ];
  for (const [call, message] of cases) {
    await assert.rejects(async () => call(), (err: unknown) => err instanceof InvalidSubjectError && message.test(err.message));
  }
});

test('a throwing handler is reported and does not keep other subscribers from their message', async () => {
  const reported: [unknown, string][] = [];
  const broker = new InMemoryBroker({ onHandlerError: (error, msg) => void reported.push([error, msg.subject]) });
  broker.subscribe('t', () => {
    throw new Error('boom');
  });
  const { got } = collect(broker, 't');
  await broker.publish({ subject: 't', body: bytes('') });
  await settle();
  assert.deepEqual(got, ['t']);
  assert.equal(reported.length, 1);
  assert.equal((reported[0]![0] as Error).message, 'boom');
  assert.equal(reported[0]![1], 't');
});

test('close ends pending requests and refuses further use', async () => {
  const broker = new InMemoryBroker();
  const { got } = collect(broker, 'q');
  const pending = broker.request('q', bytes(''), 60_000);
  await broker.close();
  await assert.rejects(pending, BackendClosedError);
  await assert.rejects(broker.publish({ subject: 'q', body: bytes('') }), BackendClosedError);
  await assert.rejects(broker.request('q', bytes(''), 10), BackendClosedError);
  assert.throws(() => broker.subscribe('q', () => {}), BackendClosedError);
  await settle();
  assert.deepEqual(got, []); // the request published before close was never delivered
});

test('a queue group shares messages: each goes to one member, in turn; plain subscriptions get every one', async () => {
  const broker = new InMemoryBroker();
  const a = collect(broker, 'jobs', 'workers');
  const b = collect(broker, 'jobs', 'workers');
  const everyone = collect(broker, 'jobs');
  for (let i = 0; i < 100; i++) await broker.publish({ subject: 'jobs', body: bytes(String(i)) });
  await settle();
  assert.equal(a.got.length, 50);
  assert.equal(b.got.length, 50);
  assert.equal(everyone.got.length, 100);
  assert.deepEqual([...a.bodies, ...b.bodies].map(Number).sort((x, y) => x - y), everyone.bodies.map(Number));
});

test('a queue group is its name: members on different matching patterns are one group, other names another', async () => {
  const broker = new InMemoryBroker();
  const star = collect(broker, 'q.*', 'q');
  const tail = collect(broker, 'q.>', 'q');
  const other = collect(broker, 'q.>', 'other');
  for (let i = 0; i < 10; i++) await broker.publish({ subject: 'q.x', body: bytes(String(i)) });
  await broker.publish({ subject: 'q.x.y', body: bytes('deep') }); // only "q.>" matches: its member gets it
  await settle();
  assert.equal(star.got.length + tail.got.length, 11);
  assert.ok(star.got.length > 0 && tail.got.length > 0);
  assert.ok(tail.bodies.includes('deep'));
  assert.equal(other.got.length, 11);
});

test('a member that leaves gets nothing more; the last one leaving ends the group; a request is answered once', async () => {
  const broker = new InMemoryBroker();
  const a = collect(broker, 'svc', 'g');
  const b = collect(broker, 'svc', 'g');
  a.subscription.unsubscribe();
  for (let i = 0; i < 4; i++) await broker.publish({ subject: 'svc', body: bytes(String(i)) });
  await settle();
  assert.deepEqual([a.got.length, b.got.length], [0, 4]);

  // Members count as responders, and only one of them gets each request.
  const answers: string[] = [];
  for (const name of ['x', 'y']) {
    const answer = (msg: BrokerMessage) => {
      answers.push(name);
      void broker.publish({ subject: msg.replyTo!, body: bytes(name) });
    };
    broker.subscribe('ask', answer, { queue: 'askers' });
  }
  const replies = await Promise.all([broker.request('ask', bytes(''), 1000), broker.request('ask', bytes(''), 1000)]);
  assert.deepEqual(replies.map((r) => text(r.body)).sort(), ['x', 'y']);
  await settle();
  assert.deepEqual(answers.sort(), ['x', 'y']);

  b.subscription.unsubscribe();
  await assert.rejects(broker.request('svc', bytes(''), 1000), NoRespondersError);
  const again = collect(broker, 'svc', 'g'); // the name is free again, and works as a new group
  await broker.publish({ subject: 'svc', body: bytes('new') });
  await settle();
  assert.deepEqual(again.bodies, ['new']);
});

test('queue group names must be non-empty and without whitespace', () => {
  const broker = new InMemoryBroker();
  const refused = (message: RegExp) => (err: unknown) => err instanceof InvalidSubjectError && message.test(err.message);
  assert.throws(() => broker.subscribe('a', () => {}, { queue: '' }), refused(/queue group name is empty/));
  assert.throws(() => broker.subscribe('a', () => {}, { queue: 'a\tb' }), refused(/queue group name "a\\tb" contains whitespace/));
});
