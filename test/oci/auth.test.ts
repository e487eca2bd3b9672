// Credentials against real registries: htpasswd (Basic) and a token service (Bearer), from
// options, from the Docker config file, and from a Docker credential helper.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startRegistry, registrySkip, type TestRegistry } from '../registry.ts';
import { OciAuthError, digestOf, dockerCredentials } from '../../src/oci/index.ts';
import { client, component, tempDir } from './helpers.ts';

const USER = { username: 'alice', password: 'c0rrect horse:battery' };
const WRONG = { username: 'alice', password: 'wrong' };
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function dockerConfig(dir: string, config: unknown): Promise<string> {
  const path = join(dir, `docker-${Math.random().toString(36).slice(2)}`);
  await mkdir(path);
  await writeFile(join(path, 'config.json'), JSON.stringify(config));
  return path;
}

for (const kind of ['htpasswd', 'token'] as const) {
  describe(`registry auth: ${kind}`, { skip: registrySkip(kind === 'htpasswd' ? ['htpasswd'] : ['openssl']) }, () => {
    let registry: TestRegistry;
    let tmp: Awaited<ReturnType<typeof tempDir>>;
    before(async () => {
      registry = await startRegistry({ auth: kind === 'htpasswd' ? { htpasswd: USER } : { token: USER } });
      tmp = await tempDir();
      await client(join(tmp.dir, 'seed')).push(`${registry.host}/test/private:v1`, await component('calc'), { credentials: USER });
    });
    after(async () => {
      await registry?.close();
      await tmp?.cleanup();
    });

    test('good credentials push and pull', async () => {
      const calc = await component('calc');
      const oci = client(join(tmp.dir, 'good'));
      const { digest } = await oci.push(`${registry.host}/test/app:v1`, calc, { credentials: USER });
      const pulled = await oci.pull(`${registry.host}/test/app:v1`, { credentials: USER, policy: 'ALWAYS' });
      assert.equal(pulled.digest, digest);
      assert.deepEqual(Buffer.from(pulled.bytes), calc);
      if (kind === 'token') assert.ok(registry.tokenRequests >= 2, `${registry.tokenRequests} token requests`);
    });

    test('wrong credentials: an auth error that says they were refused', async () => {
      const oci = client(join(tmp.dir, 'wrong'));
      await assert.rejects(oci.pull(`${registry.host}/test/private:v1`, { credentials: WRONG }), (err: Error) => {
        assert.ok(err instanceof OciAuthError, String(err));
        assert.match(err.message, new RegExp(`^${registry.host} refused the credentials of user "alice" to pull ${registry.host}/test/private: HTTP 401`));
        if (kind === 'token') assert.match(err.message, /the token service at http:\/\/127\.0\.0\.1:\d+ answered 401/);
        return true;
      });
      await assert.rejects(oci.push(`${registry.host}/test/private:v2`, await component('calc'), { credentials: WRONG }), /refused the credentials of user "alice" to push/);
    });

    test('no credentials: an auth error that says they are required', async () => {
      await assert.rejects(client(join(tmp.dir, 'anon')).pull(`${registry.host}/test/private:v1`), (err: Error) => {
        assert.ok(err instanceof OciAuthError, String(err));
        assert.match(err.message, new RegExp(`^${registry.host} requires credentials to pull ${registry.host}/test/private: HTTP 401`));
        assert.match(err.hint ?? '', /docker login/);
        return true;
      });
    });

    test('credentials from the Docker config file: auth entries, username/password, and explicit ones winning', async () => {
      const ref = `${registry.host}/test/private:v1`;
      const good = await dockerConfig(tmp.dir, { auths: { [registry.host]: { auth: b64(`${USER.username}:${USER.password}`) } } });
      assert.deepEqual(await dockerCredentials(registry.host, good), USER);
      const pulled = await client(join(tmp.dir, 'dc1'), { dockerConfigDir: good }).pull(ref);
      assert.equal(pulled.fromCache, false);
      // A key written as a URL, with explicit fields.
      const url = await dockerConfig(tmp.dir, { auths: { [`http://${registry.host}/v2/`]: { username: USER.username, password: USER.password } } });
      await client(join(tmp.dir, 'dc2'), { dockerConfigDir: url }).pull(ref);
      // Wrong ones in the file fail as refused; explicit good ones win over them.
      const bad = await dockerConfig(tmp.dir, { auths: { [registry.host]: { auth: b64('alice:nope') } } });
      await assert.rejects(client(join(tmp.dir, 'dc3'), { dockerConfigDir: bad }).pull(ref), /refused the credentials of user "alice"/);
      await client(join(tmp.dir, 'dc4'), { dockerConfigDir: bad }).pull(ref, { credentials: USER });
      // Entries for other registries are not used.
      const other = await dockerConfig(tmp.dir, { auths: { 'ghcr.io': { auth: b64(`${USER.username}:${USER.password}`) } } });
      await assert.rejects(client(join(tmp.dir, 'dc5'), { dockerConfigDir: other }).pull(ref), /requires credentials/);
    });

    test('DOCKER_CONFIG is honoured when no folder is given', async () => {
      const dir = await dockerConfig(tmp.dir, { auths: { [registry.host]: { auth: b64(`${USER.username}:${USER.password}`) } } });
      const saved = process.env.DOCKER_CONFIG;
      process.env.DOCKER_CONFIG = dir;
      try {
        const pulled = await client(join(tmp.dir, 'env'), { dockerConfigDir: undefined }).pull(`${registry.host}/test/private:v1`);
        assert.equal(pulled.fromCache, false);
      } finally {
        if (saved === undefined) delete process.env.DOCKER_CONFIG;
        else process.env.DOCKER_CONFIG = saved;
      }
    });
  });
}

test('blob redirects are followed, and credentials never go to the other origin', { skip: registrySkip(['htpasswd']) }, async () => {
  const registry = await startRegistry({ auth: { htpasswd: USER } });
  const tmp = await tempDir();
  const calc = await component('calc');
  const layer = digestOf(calc);
  const storageSaw: Array<string | undefined> = [];
  // "Object storage" on another port (another origin) holding the layer.
  const storage = createServer((req, res) => {
    storageSaw.push(req.headers.authorization);
    res.writeHead(200, { 'content-length': String(calc.length) }).end(calc);
  });
  await new Promise<void>((done) => storage.listen(0, '127.0.0.1', done));
  const storageUrl = `http://127.0.0.1:${(storage.address() as AddressInfo).port}/layer`;
  // The registry's front: blob GETs are redirected to storage, everything else passes through.
  const registrySaw: Array<string | undefined> = [];
  const front = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.includes('/blobs/')) {
      registrySaw.push(req.headers.authorization);
      res.writeHead(307, { location: storageUrl }).end();
      return;
    }
    const [hostname, port] = registry.host.split(':');
    const up = httpRequest({ hostname, port: Number(port), path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((done) => front.listen(0, '127.0.0.1', done));
  const frontHost = `127.0.0.1:${(front.address() as AddressInfo).port}`;
  try {
    await client(join(tmp.dir, 'seed')).push(`${registry.host}/test/redirect:v1`, calc, { credentials: USER });
    const pulled = await client(join(tmp.dir, 'pull')).pull(`${frontHost}/test/redirect:v1`, { credentials: USER });
    assert.deepEqual(Buffer.from(pulled.bytes), calc);
    assert.equal(pulled.layer.digest, layer);
    assert.ok(registrySaw.length === 1 && registrySaw[0]?.startsWith('Basic '), String(registrySaw));
    assert.deepEqual(storageSaw, [undefined]);
  } finally {
    front.closeAllConnections();
    storage.closeAllConnections();
    await new Promise((done) => front.close(done));
    await new Promise((done) => storage.close(done));
    await registry.close();
    await tmp.cleanup();
  }
});

describe('Docker credential helpers', { skip: registrySkip(['htpasswd']) }, () => {
  test('credHelpers names a helper for the registry; it is run with the server on stdin', async () => {
    const registry = await startRegistry({ auth: { htpasswd: USER } });
    const tmp = await tempDir();
    const savedPath = process.env.PATH;
    try {
      await client(join(tmp.dir, 'seed')).push(`${registry.host}/test/helper:v1`, await component('calc'), { credentials: USER });
      const bin = join(tmp.dir, 'bin');
      await mkdir(bin);
      // A helper speaking the docker-credential protocol, answering only for this registry.
      const script = `#!/bin/sh\n[ "$1" = get ] || exit 2\nread server\nif [ "$server" = "${registry.host}" ]; then\n  printf '{"ServerURL":"%s","Username":"${USER.username}","Secret":"${USER.password}"}' "$server"\nelse\n  echo "credentials not found in native keychain"; exit 1\nfi\n`;
      await writeFile(join(bin, 'docker-credential-wasmhosttest'), script);
      await chmod(join(bin, 'docker-credential-wasmhosttest'), 0o755);
      process.env.PATH = `${bin}:${savedPath}`;
      const config = await dockerConfig(tmp.dir, { credHelpers: { [registry.host]: 'wasmhosttest' } });
      assert.deepEqual(await dockerCredentials(registry.host, config), USER);
      assert.equal(await dockerCredentials('ghcr.io', await dockerConfig(tmp.dir, { credsStore: 'wasmhosttest' })), undefined);
      const pulled = await client(join(tmp.dir, 'cache'), { dockerConfigDir: config }).pull(`${registry.host}/test/helper:v1`);
      assert.equal(pulled.fromCache, false);
      // A helper that is not installed: treated as no credentials, not a crash.
      const missing = await dockerConfig(tmp.dir, { credsStore: 'absent-helper-xyz' });
      await assert.rejects(client(join(tmp.dir, 'cache2'), { dockerConfigDir: missing }).pull(`${registry.host}/test/helper:v1`), /requires credentials/);
    } finally {
      process.env.PATH = savedPath;
      await registry.close();
      await tmp.cleanup();
    }
  });

  test('Docker Hub: the key `docker login` writes serves docker.io references', async () => {
    const tmp = await tempDir();
    try {
      const dir = await dockerConfig(tmp.dir, { auths: { 'https://index.docker.io/v1/': { auth: b64('hub-user:hub-pass') }, 'quay.io': { auth: b64('q:q') } } });
      assert.deepEqual(await dockerCredentials('docker.io', dir), { username: 'hub-user', password: 'hub-pass' });
      assert.deepEqual(await dockerCredentials('quay.io', dir), { username: 'q', password: 'q' });
      assert.equal(await dockerCredentials('ghcr.io', dir), undefined);
      const broken = await dockerConfig(tmp.dir, { auths: { 'quay.io': { auth: b64('no-colon') } } });
      await assert.rejects(dockerCredentials('quay.io', broken), /has an auth entry for quay\.io that is not base64 of user:password/);
    } finally {
      await tmp.cleanup();
    }
  });

  test('a Docker config that is not JSON is an error naming the file', async () => {
    const tmp = await tempDir();
    try {
      await writeFile(join(tmp.dir, 'config.json'), '{ not json');
      await assert.rejects(dockerCredentials('ghcr.io', tmp.dir), new RegExp(`the Docker config ${join(tmp.dir, 'config.json')} is not valid JSON`));
      assert.equal(await dockerCredentials('ghcr.io', join(tmp.dir, 'absent')), undefined);
    } finally {
      await tmp.cleanup();
    }
  });
});
