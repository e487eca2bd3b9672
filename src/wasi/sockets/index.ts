import type { WasiContext } from '../context.ts';
import type { IpAddressFamily } from './addresses.ts';
import { resolveAddresses, ResolveAddressStream } from './ip-name-lookup.ts';
import { Network, networkErrorCode, type NetworkAccess } from './network.ts';
import { openSockets } from './open-sockets.ts';
import { addressCheck, nameCheck, tcpRoute } from './policy.ts';
import { createTcpSocket, TcpSocket } from './tcp.ts';
import { IncomingDatagramStream, OutgoingDatagramStream } from './udp-streams.ts';
import { createUdpSocket, UdpSocket } from './udp.ts';

export { addressCheck, parseCidr, type AddressCheck, type AddressUse } from './policy.ts';

/**
 * `wasi:sockets/*` for one instance, keyed as jco's import object expects. The policy is compiled
 * here, so a malformed `allowedAddresses` fails the instance's creation.
 */
export function socketsImports(ctx: WasiContext): Record<string, Record<string, unknown>> {
  const policy = ctx.network;
  const check = addressCheck(policy);
  const access: NetworkAccess = { check, tcpRoute: tcpRoute(policy, check), mayResolve: nameCheck(policy.ipNameLookup) };
  const open = openSockets(ctx);
  ctx.onDispose(() => open.closeAll());
  return {
    'wasi:sockets/network': { Network, networkErrorCode },
    'wasi:sockets/instance-network': { instanceNetwork: () => new Network(access) },
    'wasi:sockets/tcp': { TcpSocket },
    'wasi:sockets/tcp-create-socket': {
      createTcpSocket: (family: IpAddressFamily) => createTcpSocket(policy, open, family),
    },
    'wasi:sockets/udp': { UdpSocket, IncomingDatagramStream, OutgoingDatagramStream },
    'wasi:sockets/udp-create-socket': {
      createUdpSocket: (family: IpAddressFamily) => createUdpSocket(policy, open, family),
    },
    'wasi:sockets/ip-name-lookup': { resolveAddresses, ResolveAddressStream },
  };
}

/** Closes every socket the instance still holds; for when the instance ends (exit, trap, unload). */
export function closeSockets(ctx: WasiContext): void {
  openSockets(ctx).closeAll();
}
