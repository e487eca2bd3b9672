// A scripted operator for the washlet tests: request/reply on the host's subjects over a real
// NATS server, the way wasmCloud's runtime-operator drives a host.
import { request as httpRequest } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { rpcSubject } from '../../src/washlet/subjects.ts';

export { eventually } from '../host/helpers.ts';

export interface Reply {
  /** The payload as sent. */
  text: string;
  json: Record<string, any>;
  headers: MsgHdrs | undefined;
}

/** Sends one command to a host and decodes its answer. */
export async function ask(operator: NatsConnection, hostId: string, command: string, body: string | object = '', timeout = 30_000): Promise<Reply> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const msg = await operator.request(rpcSubject(hostId, command), payload, { timeout });
  const text = msg.string();
  return { text, json: JSON.parse(text), headers: msg.headers };
}

/** The `workloadStatus` of a start/status/stop answer. */
export async function status(operator: NatsConnection, hostId: string, command: string, body: string | object): Promise<Record<string, string>> {
  const { json } = await ask(operator, hostId, command, body);
  return json.workloadStatus;
}

/** A GET to 127.0.0.1:port with an explicit Host header: status and body. */
export function get(port: number, hostHeader: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host: hostHeader } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject).end();
  });
}

/** Field order of `wasmcloud.runtime.v2.HostHeartbeat` (field numbers 1-18). */
export const HEARTBEAT_FIELDS = [
  'id', 'hostname', 'friendlyName', 'version', 'labels', 'startedAt', 'osArch', 'osName', 'osKernel',
  'systemCpuUsage', 'systemMemoryTotal', 'systemMemoryFree', 'componentCount', 'workloadCount', 'imports', 'exports', 'httpPort', 'environment',
];

/** Fields a proto3 JSON writer leaves out because they hold their default value. */
export function defaultFields(json: Record<string, unknown>, path = ''): string[] {
  const found: string[] = [];
  for (const [key, value] of Object.entries(json)) {
    const at = path ? `${path}.${key}` : key;
    if (value === '' || value === 0 || value === false || value === '0' || value === null) found.push(at);
    else if (Array.isArray(value)) {
      if (value.length === 0) found.push(at);
      value.forEach((v, i) => typeof v === 'object' && v !== null && found.push(...defaultFields(v, `${at}[${i}]`)));
    } else if (typeof value === 'object') {
      if (Object.keys(value).length === 0 && key !== 'emptyDir') found.push(at);
      else if (key !== 'labels' && key !== 'config') found.push(...defaultFields(value as Record<string, unknown>, at));
    }
  }
  return found;
}

/**
 * A registry that never answers: it accepts connections and holds them, so a pull from it
 * lasts until the client's own timeout.
 */
export async function stalledRegistry(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket)).on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
