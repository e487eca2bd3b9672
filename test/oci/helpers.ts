// Shared by the OCI tests: fixtures, throwaway cache folders, a lying proxy and a silent server.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fixturePath } from '../fixtures/index.ts';
import { describeBinary } from '../../src/engine.ts';
import { OciClient, RegistryClient, buildArtifact, OCI_MANIFEST, type BuildOptions, type OciClientOptions } from '../../src/oci/index.ts';

export const component = (name: 'calc' | 'pure' | 'greeter' | 'trap') => readFile(fixturePath(name));
export const coreModule = () => readFile(fixturePath('hello-p1'));

/** A temp folder removed by `cleanup()`. */
export async function tempDir(prefix = 'wasmhost-oci-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A client on a fresh cache folder, plain HTTP, ignoring the machine's Docker config. */
export function client(cacheDir: string, options: Partial<OciClientOptions> = {}): OciClient {
  return new OciClient({ describeBinary, cacheDir, insecure: true, dockerConfigDir: false, ...options });
}

/**
 * Pushes `layer` as it is, without the component check: how a registry comes to hold
 * something that is not a component (or a layer of the legacy media type).
 */
export async function pushRaw(host: string, repository: string, tag: string, layer: Uint8Array, options: BuildOptions = {}, credentials?: { username: string; password: string }): Promise<string> {
  const registry = new RegistryClient({ registry: host, insecure: true, ...(credentials ? { credentials } : {}) });
  const built = buildArtifact(layer, options);
  await registry.pushBlob(repository, layer);
  await registry.pushBlob(repository, built.config);
  return registry.putManifest(repository, tag, built.manifest, OCI_MANIFEST);
}

/**
 * An HTTP proxy in front of a registry that may rewrite response bodies: stands for a
 * compromised mirror or a corrupting network, to prove what the client verifies.
 */
export async function tamperingProxy(target: string, tamper: (path: string, body: Buffer) => Buffer): Promise<{ host: string; close: () => Promise<void> }> {
  const server: Server = createHttpServer((req, res) => {
    const [hostname, port] = target.split(':');
    const upstream = httpRequest({ hostname, port: Number(port), path: req.url, method: req.method, headers: { ...req.headers, host: target } }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = req.method === 'GET' ? tamper(req.url ?? '', Buffer.concat(chunks)) : Buffer.concat(chunks);
        const headers = { ...up.headers };
        if (headers['content-length'] !== undefined) headers['content-length'] = String(body.length);
        res.writeHead(up.statusCode ?? 502, headers).end(body);
      });
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A TCP server that accepts connections and never says a word. */
export async function silentServer(): Promise<{ host: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A loopback port with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
