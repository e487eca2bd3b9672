/**
 * Drives `wasi:sockets` through its import object, as jco's glue would: plain error values thrown,
 * pollables blocked on, streams read and written. Loopback only.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { WasiContext, type NetworkPolicy } from '../../src/wasi/context.ts';
import type { InputStream, OutputStream } from '../../src/wasi/io/streams.ts';
import type { IpAddress, IpAddressFamily, IpSocketAddress } from '../../src/wasi/sockets/addresses.ts';
import { closeSockets, socketsImports } from '../../src/wasi/sockets/index.ts';
import type { ResolveAddressStream } from '../../src/wasi/sockets/ip-name-lookup.ts';
import type { Network } from '../../src/wasi/sockets/network.ts';
import type { TcpSocket } from '../../src/wasi/sockets/tcp.ts';
import type { UdpSocket } from '../../src/wasi/sockets/udp.ts';

export const LOOPBACK4: IpAddress = { tag: 'ipv4', val: [127, 0, 0, 1] };
export const LOOPBACK6: IpAddress = { tag: 'ipv6', val: [0, 0, 0, 0, 0, 0, 0, 1] };

export function v4(port: number, address: [number, number, number, number] = [127, 0, 0, 1]): IpSocketAddress {
  return { tag: 'ipv4', val: { port, address } };
}

export function v6(port: number, address: [number, number, number, number, number, number, number, number] = [0, 0, 0, 0, 0, 0, 0, 1]): IpSocketAddress {
  return { tag: 'ipv6', val: { port, flowInfo: 0, address, scopeId: 0 } };
}

/** One instance's sockets imports, closed when the test ends. */
export function host(t: TestContext, network: NetworkPolicy) {
  const ctx = new WasiContext({ network });
  const imports = socketsImports(ctx);
  t.after(() => closeSockets(ctx));
  const fn = <T>(iface: string, name: string) => imports[`wasi:sockets/${iface}`][name] as T;
  return {
    imports,
    network: fn<() => Network>('instance-network', 'instanceNetwork')(),
    tcp: fn<(family: IpAddressFamily) => TcpSocket>('tcp-create-socket', 'createTcpSocket'),
    udp: fn<(family: IpAddressFamily) => UdpSocket>('udp-create-socket', 'createUdpSocket'),
    resolve: fn<(network: Network, name: string) => ResolveAddressStream>('ip-name-lookup', 'resolveAddresses'),
  };
}

/** What a call threw (or rejected with); `undefined` when it succeeded. */
export async function errorOf(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (err) {
    return err;
  }
  return undefined;
}

export async function bind(socket: TcpSocket | UdpSocket, network: Network, address: IpSocketAddress): Promise<void> {
  await socket.startBind(network, address);
  socket.finishBind();
}

/** start-connect, then wait on the socket's pollable until finish-connect stops answering would-block. */
export async function connect(socket: TcpSocket, network: Network, address: IpSocketAddress): Promise<[InputStream, OutputStream]> {
  socket.startConnect(network, address);
  for (;;) {
    try {
      return socket.finishConnect();
    } catch (err) {
      if (err !== 'would-block') throw err;
      await socket.subscribe().block();
    }
  }
}

export async function listen(socket: TcpSocket, network: Network, address: IpSocketAddress): Promise<number> {
  await bind(socket, network, address);
  socket.startListen();
  socket.finishListen();
  return socket.localAddress().val.port;
}

/** accept, waiting on the listener's pollable while it answers would-block. */
export async function accept(listener: TcpSocket): Promise<[TcpSocket, InputStream, OutputStream]> {
  for (;;) {
    try {
      return listener.accept();
    } catch (err) {
      if (err !== 'would-block') throw err;
      await listener.subscribe().block();
    }
  }
}

export async function readExactly(input: InputStream, n: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for (let got = 0; got < n; ) {
    const chunk = await input.blockingRead(BigInt(n - got));
    chunks.push(chunk);
    got += chunk.length;
  }
  return Buffer.concat(chunks);
}

/** A Node TCP server on loopback; every connection goes to `onConnection`. Closed when the test ends. */
export async function nodeServer(t: TestContext, host: string, onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  server.listen(0, host);
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { server, port: (server.address() as { port: number }).port };
}
