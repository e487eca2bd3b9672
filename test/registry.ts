/**
 * Private OCI registries for the tests: the CNCF distribution registry (Debian's `docker-registry`
 * package) as a child process on a free loopback port, storing into a temporary folder. Variants:
 * open, htpasswd (Basic) auth, and token (Bearer) auth with a small token service written here, so
 * the client's whole auth dance runs against the real registry.
 *
 * Without the binary the suites are skipped with a printed reason; under
 * WASMHOST_REQUIRE_SERVICES=1 (CI) a missing binary fails instead.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { servicesRequired } from './services.ts';

const run = promisify(execFile);

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** `$WASMHOST_TEST_REGISTRY_BIN`, else `docker-registry` (Debian) or `registry` (upstream) on PATH. */
export const REGISTRY_BIN = process.env.WASMHOST_TEST_REGISTRY_BIN ?? onPath('docker-registry') ?? onPath('registry') ?? '/usr/bin/docker-registry';

/** The `skip` value for suites needing a registry (and, with `tools`, htpasswd / openssl). */
export function registrySkip(tools: Array<'htpasswd' | 'openssl'> = []): false | string {
  const missing = [existsSync(REGISTRY_BIN) ? undefined : `the registry binary (${REGISTRY_BIN}; apt-get install docker-registry)`, ...tools.map((t) => (onPath(t) ? undefined : `${t}${t === 'htpasswd' ? ' (apt-get install apache2-utils)' : ''}`))].filter(
    (m): m is string => m !== undefined,
  );
  if (missing.length === 0) return false;
  const why = `missing ${missing.join(' and ')}`;
  if (servicesRequired) throw new Error(`${why}, and WASMHOST_REQUIRE_SERVICES=1 requires it`);
  console.log(`# skipped: ${why}`);
  return why;
}

export interface TestRegistry {
  /** `127.0.0.1:<port>`: the registry part of a reference. */
  host: string;
  /** Stops the registry process (its storage stays until `close`). Idempotent. */
  stop(): Promise<void>;
  /** Stops it and removes its storage (and the token service, if any). */
  close(): Promise<void>;
  /** Requests the token service answered (token registries only). */
  tokenRequests: number;
}

export type RegistryAuth = { htpasswd: { username: string; password: string } } | { token: { username: string; password: string } };

export async function startRegistry(options: { auth?: RegistryAuth } = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-registry-'));
  let tokenService: TokenService | undefined;
  let auth = '';
  try {
    if (options.auth && 'htpasswd' in options.auth) {
      const { username, password } = options.auth.htpasswd;
      const { stdout } = await run('htpasswd', ['-Bbn', username, password]);
      await writeFile(join(dir, 'htpasswd'), stdout);
      auth = `auth:\n  htpasswd:\n    realm: wasmhost-test\n    path: ${join(dir, 'htpasswd')}\n`;
    } else if (options.auth && 'token' in options.auth) {
      tokenService = await startTokenService(dir, options.auth.token);
      auth = `auth:\n  token:\n    realm: ${tokenService.realm}\n    service: ${TOKEN_SERVICE}\n    issuer: ${TOKEN_ISSUER}\n    rootcertbundle: ${tokenService.certPath}\n`;
    }
    const config = `version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:0
  secret: ${randomBytes(16).toString('hex')}
${auth}`;
    await writeFile(join(dir, 'config.yml'), config);
    const child = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const port = await listeningPort(child);
    const token = tokenService;
    const registry: TestRegistry = {
      host: `127.0.0.1:${port}`,
      get tokenRequests() {
        return token?.requests ?? 0;
      },
      stop: () => stopChild(child),
      close: async () => {
        await stopChild(child);
        await token?.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
    return registry;
  } catch (err) {
    await tokenService?.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The port from the registry's `listening on 127.0.0.1:<port>` log line (it binds port 0 itself). */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => fail(new Error(`the registry did not start within 15 s:\n${log}`)), 15_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const read = (chunk: Buffer) => {
      log += chunk.toString('utf8');
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        // Keep draining its output so it never blocks on a full pipe.
        child.stdout?.removeAllListeners('data').resume();
        child.stderr?.removeAllListeners('data').resume();
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('error', (err) => fail(err));
    child.once('exit', (code) => fail(new Error(`the registry exited (code ${code}) before listening:\n${log}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}

const TOKEN_SERVICE = 'wasmhost-test-registry';
const TOKEN_ISSUER = 'wasmhost-test-issuer';

interface TokenService {
  realm: string;
  certPath: string;
  requests: number;
  close(): Promise<void>;
}

/**
 * A Docker token service: checks Basic credentials and answers a JWT (RS256, the signing
 * certificate in `x5c`) that grants the requested repository actions, or 401. Anonymous
 * requests get a token with no access, as Docker Hub's does.
 */
async function startTokenService(dir: string, user: { username: string; password: string }): Promise<TokenService> {
  const keyPath = join(dir, 'token-key.pem');
  const certPath = join(dir, 'token-cert.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=wasmhost-test-token']);
  const key = createPrivateKey(await readFile(keyPath, 'utf8'));
  const certDer = (await readFile(certPath, 'utf8')).replace(/-----[^-]+-----|\s/g, '');
  const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    state.requests++;
    const url = new URL(req.url ?? '/', 'http://token');
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    let subject = '';
    if (basic) {
      const [name, ...rest] = Buffer.from(basic, 'base64').toString('utf8').split(':');
      if (name !== user.username || rest.join(':') !== user.password) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      subject = name;
    }
    const access = subject
      ? url.searchParams.getAll('scope').flatMap((scope) => {
          const [type, name, actions] = scope.split(':');
          return type === 'repository' && name && actions ? [{ type, name, actions: actions.split(',') }] : [];
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [certDer] }));
    const claims = b64url(JSON.stringify({ iss: TOKEN_ISSUER, sub: subject, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const signature = b64url(sign('sha256', Buffer.from(`${header}.${claims}`), key));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${header}.${claims}.${signature}`, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certPath,
    get requests() {
      return state.requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
