/**
 * Who we are to a registry: credentials given in code or flags, else what `docker login` left in
 * the Docker config file (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): a credential
 * helper named for the registry, the default credential store, or a base64 `auth` entry. Else
 * anonymous.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { debuglog } from 'node:util';
import { OciError } from './errors.ts';
import { DOCKER_HUB } from './reference.ts';

const log = debuglog('wasmhost:oci');

export interface Credentials {
  username: string;
  password: string;
}

/** The key `docker login` writes for Docker Hub. */
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

export function defaultDockerConfigDir(): string {
  return process.env.DOCKER_CONFIG || join(homedir(), '.docker');
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/**
 * Credentials for `registry` from the Docker config in `configDir`; undefined when it has none
 * (or there is no config file). A config file that is not JSON is an error, not silence.
 */
export async function dockerCredentials(registry: string, configDir = defaultDockerConfigDir()): Promise<Credentials | undefined> {
  const path = join(configDir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OciError(`cannot read the Docker config ${path}: ${(err as Error).message}`, { cause: err });
  }
  let config: DockerConfig;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new OciError(`the Docker config ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const helper = config.credHelpers?.[registry] ?? config.credsStore;
  if (helper) {
    const fromHelper = await credentialHelper(helper, registry === DOCKER_HUB ? DOCKER_HUB_KEY : registry);
    if (fromHelper) return fromHelper;
  }
  const entry = Object.entries(config.auths ?? {}).find(([key]) => keyMatches(key, registry))?.[1];
  if (!entry) return undefined;
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new OciError(`the Docker config ${path} has an auth entry for ${registry} that is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.identitytoken) log('identity tokens are not supported; %s is tried anonymously', registry);
  return undefined;
}

/** `auths` keys are hosts, or URLs with a scheme and a path (`https://index.docker.io/v1/`). */
function keyMatches(key: string, registry: string): boolean {
  let host = key;
  try {
    host = new URL(key.includes('://') ? key : `https://${key}`).host;
  } catch {
    return false;
  }
  if (registry === DOCKER_HUB) return host === 'index.docker.io' || host === 'docker.io' || host === 'registry-1.docker.io';
  return host === registry.toLowerCase();
}

/** Runs `docker-credential-<helper> get`; undefined when it is absent or knows no credentials. */
function credentialHelper(helper: string, serverUrl: string): Promise<Credentials | undefined> {
  return new Promise((resolve) => {
    const child = spawn(`docker-credential-${helper}`, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', (err) => {
      log('credential helper %s: %s', helper, err.message);
      resolve(undefined);
    });
    child.on('close', (code) => {
      if (code !== 0) {
        log('credential helper %s has nothing for %s (exit %d: %s)', helper, serverUrl, code, out.trim());
        return resolve(undefined);
      }
      try {
        const { Username, Secret } = JSON.parse(out) as { Username?: string; Secret?: string };
        resolve(Username && Secret && Username !== '<token>' ? { username: Username, password: Secret } : undefined);
      } catch {
        resolve(undefined);
      }
    });
    child.stdin.on('error', () => {});
    child.stdin.end(serverUrl);
  });
}
