import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as nodeConnect, createServer } from 'node:net';
import { test } from 'node:test';
import { WasiContext } from '../../src/wasi/context.ts';
import { IoError } from '../../src/wasi/io/error.ts';
import type { StreamError } from '../../src/wasi/io/streams.ts';
import { closeSockets, socketsImports } from '../../src/wasi/sockets/index.ts';
import type { Network } from '../../src/wasi/sockets/network.ts';
import type { TcpSocket } from '../../src/wasi/sockets/tcp.ts';
import { accept, bind, connect, errorOf, host, listen, nodeServer, readExactly, v4, v6 } from './sockets-helpers.ts';

const TCP = { tcp: true };

test('tcp: connects to a Node server on 127.0.0.1 and exchanges bytes both ways', async (t) => {
  const { port } = await nodeServer(t, '127.0.0.1', (socket) => {
    socket.on('data', (data) => socket.write(data.toString().toUpperCase()));
  });
  const h = host(t, TCP);
  const socket = h.tcp('ipv4');
  socket.startConnect(h.network, v4(port));
  // Nothing is connected within the call: the guest must poll (the API never blocks).
  assert.equal(await errorOf(() => socket.finishConnect()), 'would-block');
  assert.equal(await errorOf(() => socket.startConnect(h.network, v4(port))), 'concurrency-conflict');
  await socket.subscribe().block();
  const [input, output] = socket.finishConnect();

  await output.blockingWriteAndFlush(new TextEncoder().encode('ping'));
  assert.equal((await readExactly(input, 4)).toString(), 'PING');
  assert.deepEqual(socket.remoteAddress(), v4(port));
  const local = socket.localAddress();
  assert.equal(local.tag, 'ipv4');
  assert.deepEqual(local.val.address, [127, 0, 0, 1]);
  assert.notEqual(local.val.port, 0);
  assert.equal(await errorOf(() => socket.finishConnect()), 'not-in-progress');
  assert.equal(await errorOf(() => socket.startConnect(h.network, v4(port))), 'invalid-state');
});

test('tcp: connects over IPv6 loopback', async (t) => {
  const { port } = await nodeServer(t, '::1', (socket) => socket.end('six'));
  const h = host(t, TCP);
  const socket = h.tcp('ipv6');
  const [input] = await connect(socket, h.network, v6(port));
  assert.equal((await readExactly(input, 3)).toString(), 'six');
  assert.deepEqual(socket.remoteAddress(), v6(port));
  assert.equal(socket.addressFamily(), 'ipv6');
});

test('tcp: a guest listener accepts a Node client', async (t) => {
  const h = host(t, TCP);
  const listener = h.tcp('ipv4');
  const port = await listen(listener, h.network, v4(0));
  assert.notEqual(port, 0);
  assert.equal(listener.isListening(), true);
  assert.equal(await errorOf(() => listener.accept()), 'would-block');
  assert.equal(listener.subscribe().ready(), false);

  const client = nodeConnect(port, '127.0.0.1');
  t.after(() => client.destroy());
  client.write('hello');
  const [conn, input, output] = await accept(listener);
  assert.equal((await readExactly(input, 5)).toString(), 'hello');
  const received = once(client, 'data');
  await output.blockingWriteAndFlush(new TextEncoder().encode('world'));
  assert.equal(String((await received)[0]), 'world');
  assert.deepEqual(conn.remoteAddress(), v4(client.localPort!));
  assert.deepEqual(conn.localAddress(), v4(port));
  assert.equal(conn.isListening(), false);

  client.end();
  const err = (await errorOf(() => input.blockingRead(10n))) as StreamError;
  assert.deepEqual(err, { tag: 'closed' });
});

test('tcp: megabytes each way honour backpressure and arrive intact', async (t) => {
  const size = 4 * 1024 * 1024;
  const payload = Buffer.alloc(size, 'abcdefghijklmnopqrstuvwxyz');
  const echoed = Promise.withResolvers<Buffer>();
  const { port } = await nodeServer(t, '127.0.0.1', (socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => echoed.resolve(Buffer.concat(chunks)));
    socket.end(payload);
  });
  const h = host(t, TCP);
  const socket = h.tcp('ipv4');
  const [input, output] = await connect(socket, h.network, v4(port));
  const [received] = await Promise.all([
    readExactly(input, size),
    Promise.resolve(output.blockingWriteAndFlush(payload)).then(() => socket.shutdown('send')),
  ]);
  assert.ok(received.equals(payload));
  assert.ok((await echoed.promise).equals(payload));
});

test('tcp: state machine of an unbound socket', async (t) => {
  const h = host(t, TCP);
  const socket = h.tcp('ipv4');
  assert.equal(await errorOf(() => socket.finishBind()), 'not-in-progress');
  assert.equal(await errorOf(() => socket.finishConnect()), 'not-in-progress');
  // Unlike POSIX, listening needs an explicit bind.
  assert.equal(await errorOf(() => socket.startListen()), 'invalid-state');
  assert.equal(await errorOf(() => socket.finishListen()), 'not-in-progress');
  assert.equal(await errorOf(() => socket.accept()), 'invalid-state');
  assert.equal(await errorOf(() => socket.shutdown('both')), 'invalid-state');
  assert.equal(await errorOf(() => socket.localAddress()), 'invalid-state');
  assert.equal(await errorOf(() => socket.remoteAddress()), 'invalid-state');
  assert.equal(socket.isListening(), false);
  assert.equal(socket.addressFamily(), 'ipv4');
  assert.equal(socket.subscribe().ready(), true);
});

test('tcp: state machine of bound and listening sockets', async (t) => {
  const h = host(t, TCP);
  const socket = h.tcp('ipv4');
  await socket.startBind(h.network, v4(0));
  assert.equal(await errorOf(() => socket.startBind(h.network, v4(0))), 'invalid-state');
  assert.equal(await errorOf(() => socket.startListen()), 'invalid-state');
  socket.finishBind();
  assert.equal(await errorOf(() => socket.finishBind()), 'not-in-progress');
  assert.equal(await errorOf(() => socket.finishListen()), 'not-in-progress');
  assert.equal(await errorOf(() => socket.accept()), 'invalid-state');
  assert.equal(await errorOf(() => socket.remoteAddress()), 'invalid-state');
  assert.notEqual(socket.localAddress().val.port, 0);

  socket.startListen();
  assert.equal(socket.isListening(), false);
  assert.equal(await errorOf(() => socket.startListen()), 'invalid-state');
  socket.finishListen();
  assert.equal(socket.isListening(), true);
  assert.equal(await errorOf(() => socket.startBind(h.network, v4(0))), 'invalid-state');
  assert.equal(await errorOf(() => socket.startConnect(h.network, v4(1))), 'invalid-state');
  assert.equal(await errorOf(() => socket.shutdown('both')), 'invalid-state');
  assert.equal(await errorOf(() => socket.setListenBacklogSize(10n)), 'not-supported');
});

test('tcp: a refused connection is reported by finish-connect and closes the socket', async (t) => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));

  const h = host(t, TCP);
  const socket = h.tcp('ipv4');
  socket.startConnect(h.network, v4(port));
  await socket.subscribe().block();
  assert.equal(await errorOf(() => socket.finishConnect()), 'connection-refused');
  assert.equal(await errorOf(() => socket.startConnect(h.network, v4(port))), 'invalid-state');
});

test('tcp: binding a port in use fails with address-in-use and leaves the socket unbound', async (t) => {
  const { port } = await nodeServer(t, '127.0.0.1', () => {});
  const h = host(t, TCP);
  const socket = h.tcp('ipv4');
  assert.equal(await errorOf(() => socket.startBind(h.network, v4(port))), 'address-in-use');
  await bind(socket, h.network, v4(0));
  assert.notEqual(socket.localAddress().val.port, port);
});

test('tcp: a dropped listener releases its port', async (t) => {
  const h = host(t, TCP);
  const first = h.tcp('ipv4');
  const port = await listen(first, h.network, v4(0));
  first[Symbol.dispose]();
  const second = h.tcp('ipv4');
  await bind(second, h.network, v4(port));
  assert.equal(second.localAddress().val.port, port);
});

test('tcp: connecting from a bound socket keeps its local port', async (t) => {
  let peerPort = 0;
  const { port } = await nodeServer(t, '127.0.0.1', (socket) => (peerPort = socket.remotePort!));
  const h = host(t, TCP);
  const socket = h.tcp('ipv4');
  await bind(socket, h.network, v4(0));
  const localPort = socket.localAddress().val.port;
  await connect(socket, h.network, v4(port));
  assert.equal(socket.localAddress().val.port, localPort);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(peerPort, localPort);
});

test('tcp: connections reaching a bound socket before it listens are not queued', async (t) => {
  const h = host(t, TCP);
  const socket = h.tcp('ipv4');
  await bind(socket, h.network, v4(0));
  const client = nodeConnect(socket.localAddress().val.port, '127.0.0.1');
  const [err] = (await once(client, 'error')) as [NodeJS.ErrnoException];
  // A real bound-only socket would refuse; the reservation behind it resets instead.
  assert.equal(err.code, 'ECONNRESET');
  socket.startListen();
  socket.finishListen();
  assert.equal(await errorOf(() => socket.accept()), 'would-block');
});

test('tcp: invalid addresses are refused with invalid-argument', async (t) => {
  const h = host(t, TCP);
  const four = h.tcp('ipv4');
  const six = h.tcp('ipv6');
  assert.equal(await errorOf(() => four.startBind(h.network, v6(0))), 'invalid-argument');
  assert.equal(await errorOf(() => four.startBind(h.network, v4(0, [224, 0, 0, 1]))), 'invalid-argument');
  assert.equal(await errorOf(() => four.startBind(h.network, v4(0, [255, 255, 255, 255]))), 'invalid-argument');
  // IPv6 sockets are IPv6-only: IPv4-mapped addresses do not reach IPv4.
  assert.equal(await errorOf(() => six.startBind(h.network, v6(0, [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]))), 'invalid-argument');
  assert.equal(await errorOf(() => six.startConnect(h.network, v6(80, [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]))), 'invalid-argument');
  assert.equal(await errorOf(() => four.startConnect(h.network, v4(0))), 'invalid-argument');
  assert.equal(await errorOf(() => four.startConnect(h.network, v4(80, [0, 0, 0, 0]))), 'invalid-argument');
  // A refused argument leaves the socket usable.
  await bind(four, h.network, v4(0));
});

test('tcp: shutdown(send) ends the stream for the peer while reading goes on', async (t) => {
  const peerSawEnd = Promise.withResolvers<void>();
  const { port } = await nodeServer(t, '127.0.0.1', (socket) => {
    socket.write('bye');
    socket.on('end', () => peerSawEnd.resolve()).resume();
  });
  const h = host(t, TCP);
  const socket = h.tcp('ipv4');
  const [input, output] = await connect(socket, h.network, v4(port));
  socket.shutdown('send');
  await peerSawEnd.promise;
  assert.equal((await readExactly(input, 3)).toString(), 'bye');
  assert.deepEqual(await errorOf(() => output.checkWrite()), { tag: 'closed' });
});

test('tcp: a reset by the peer reaches the guest as an error with code connection-reset', async (t) => {
  const { port } = await nodeServer(t, '127.0.0.1', (socket) => {
    socket.once('data', () => socket.resetAndDestroy());
  });
  const h = host(t, TCP);
  const socket = h.tcp('ipv4');
  const [input, output] = await connect(socket, h.network, v4(port));
  await output.blockingWriteAndFlush(new Uint8Array([1]));
  let err: unknown;
  for (;;) {
    err = await errorOf(() => input.blockingRead(10n));
    if (err) break;
  }
  const streamError = err as { tag: string; val: IoError };
  assert.equal(streamError.tag, 'last-operation-failed');
  assert.ok(streamError.val instanceof IoError);
  const networkErrorCode = h.imports['wasi:sockets/network'].networkErrorCode as (e: IoError) => string | undefined;
  assert.equal(networkErrorCode(streamError.val), 'connection-reset');
  assert.equal(networkErrorCode(new IoError('disk', 'no-entry')), undefined);
  assert.deepEqual(await errorOf(() => input.read(10n)), { tag: 'closed' });
});

test('tcp: options are validated, clamped and read back', async (t) => {
  const h = host(t, TCP);
  const socket = h.tcp('ipv4');
  assert.equal(socket.keepAliveEnabled(), false);
  socket.setKeepAliveEnabled(true);
  assert.equal(socket.keepAliveEnabled(), true);
  socket.setKeepAliveIdleTime(1n); // clamped up to one second
  assert.equal(socket.keepAliveIdleTime(), 1_000_000_000n);
  for (const set of [
    () => socket.setKeepAliveIdleTime(0n),
    () => socket.setKeepAliveInterval(0n),
    () => socket.setKeepAliveCount(0),
    () => socket.setHopLimit(0),
    () => socket.setReceiveBufferSize(0n),
    () => socket.setSendBufferSize(0n),
    () => socket.setListenBacklogSize(0n),
  ]) {
    assert.equal(await errorOf(set), 'invalid-argument');
  }
  socket.setHopLimit(12);
  assert.equal(socket.hopLimit(), 12);
  socket.setKeepAliveCount(1000);
  assert.equal(socket.keepAliveCount(), 127);
  socket.setReceiveBufferSize(16000n);
  assert.equal(socket.receiveBufferSize(), 16000n);

  const { port } = await nodeServer(t, '127.0.0.1', () => {});
  socket.startConnect(h.network, v4(port));
  assert.equal(await errorOf(() => socket.keepAliveEnabled()), 'invalid-state');
  await socket.subscribe().block();
  socket.finishConnect();
  assert.equal(socket.keepAliveEnabled(), true);
});

test('tcp: denied unless the policy turns tcp on', async (t) => {
  const off = host(t, { udp: true });
  assert.equal(await errorOf(() => off.tcp('ipv4')), 'access-denied');
  const defaults = host(t, {});
  assert.equal(await errorOf(() => defaults.tcp('ipv6')), 'access-denied');
});

test('tcp: addresses outside allowedAddresses are denied before any traffic', async (t) => {
  let connections = 0;
  const { port } = await nodeServer(t, '127.0.0.1', () => connections++);
  const h = host(t, { tcp: true, allowedAddresses: ['10.0.0.0/8', '::1/128'] });
  const socket = h.tcp('ipv4');
  assert.equal(await errorOf(() => socket.startConnect(h.network, v4(port))), 'access-denied');
  assert.equal(await errorOf(() => socket.startBind(h.network, v4(0))), 'access-denied');
  // Still unbound and usable: the denial changed nothing.
  assert.equal(await errorOf(() => socket.finishConnect()), 'not-in-progress');
  const six = h.tcp('ipv6');
  await bind(six, h.network, v6(0));

  const none = host(t, { tcp: true, allowedAddresses: [] });
  assert.equal(await errorOf(() => none.tcp('ipv4').startConnect(none.network, v4(port))), 'access-denied');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(connections, 0);
});

test('tcp: closeSockets releases everything an instance left open', async (t) => {
  const ctx = new WasiContext({ network: TCP });
  const imports = socketsImports(ctx);
  const network = (imports['wasi:sockets/instance-network'].instanceNetwork as () => Network)();
  const listener = (imports['wasi:sockets/tcp-create-socket'].createTcpSocket as (f: 'ipv4') => TcpSocket)('ipv4');
  const port = await listen(listener, network, v4(0));
  closeSockets(ctx);
  assert.equal(listener.isListening(), false);
  const client = nodeConnect(port, '127.0.0.1');
  t.after(() => client.destroy());
  const [err] = (await once(client, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNREFUSED');
});
