/**
 * The OCI distribution API (the registry's HTTP protocol), over undici: manifests and blobs in,
 * manifests and blobs out, with the auth dance in between. One `RegistryClient` serves one
 * operation against one registry: it keeps the tokens it was given for that operation.
 *
 * Everything read is checked: a manifest against the digest asked for (or the
 * `Docker-Content-Digest` the registry announced), a blob against its descriptor's digest and
 * size, both against size limits before and while they stream.
 */
import { request, type Dispatcher } from 'undici';
import { parseChallenges, type Challenge } from './challenge.ts';
import type { Credentials } from './credentials.ts';
import { DigestVerifier, algorithmOf, digestOf } from './digest.ts';
import { OciAuthError, OciDigestMismatchError, OciError, OciNotFoundError, OciSizeLimitError, OciUnreachableError } from './errors.ts';
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES } from './manifest.ts';
import { apiHost, checkDigest } from './reference.ts';

const USER_AGENT = 'wasmhost/0.1.0';
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_REDIRECTS = 5;
/** Error bodies and token responses are small; a registry that says more is cut off. */
const MAX_SMALL_BODY = 1024 * 1024;

export interface RegistryClientOptions {
  registry: string;
  /** Plain HTTP instead of HTTPS. */
  insecure?: boolean;
  credentials?: Credentials;
  /** Aborts every request of this client (the operation's time limit). */
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
}

export interface FetchedManifest {
  bytes: Uint8Array;
  /** The digest of `bytes`, verified against what was asked for or announced. */
  digest: string;
  contentType?: string;
}

type Action = 'pull' | 'push';
type Response = Dispatcher.ResponseData;

export class RegistryClient {
  readonly registry: string;
  readonly #base: string;
  readonly #credentials?: Credentials;
  readonly #signal?: AbortSignal;
  readonly #dispatcher?: Dispatcher;
  /** Authorization header values by token scope; `#basic` serves every scope. */
  readonly #tokens = new Map<string, string>();
  #basic?: string;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.#base = `${options.insecure ? 'http' : 'https'}://${apiHost(options.registry)}`;
    if (options.credentials) this.#credentials = options.credentials;
    if (options.signal) this.#signal = options.signal;
    if (options.dispatcher) this.#dispatcher = options.dispatcher;
  }

  /** GETs a manifest by tag or digest, verified (see the class comment). */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const pinned = reference.includes(':') ? checkDigest(reference) : undefined;
    const what = `${this.registry}/${repository}${pinned ? `@${pinned}` : `:${reference}`}`;
    const res = await this.#send('GET', this.#url(repository, 'manifests', reference), { accept: MANIFEST_ACCEPT }, undefined, repository, 'pull');
    if (res.statusCode === 404) throw await this.#notFound(res, repository, reference, what);
    await this.#expect(res, [200], `get the manifest of ${what}`);
    const bytes = await readBody(res, MAX_MANIFEST_BYTES, `the manifest of ${what}`);
    const announced = header(res, 'docker-content-digest');
    const expected = pinned ?? (announced && validDigest(announced) ? announced : undefined);
    const digest = digestOf(bytes, expected ? algorithmOf(expected) : 'sha256');
    if (expected && digest !== expected) {
      throw new OciDigestMismatchError(`the manifest of ${what}`, expected, digest, { reference: what, hint: 'the registry (or something between it and you) served other content than it named' });
    }
    return { bytes, digest, ...(header(res, 'content-type') ? { contentType: header(res, 'content-type') } : {}) };
  }

  /** The digest a tag points at now, from a HEAD request; undefined if the registry does not say. */
  async headManifest(repository: string, reference: string): Promise<string | undefined> {
    const what = `${this.registry}/${repository}:${reference}`;
    const res = await this.#send('HEAD', this.#url(repository, 'manifests', reference), { accept: MANIFEST_ACCEPT }, undefined, repository, 'pull');
    if (res.statusCode === 404) throw await this.#notFound(res, repository, reference, what);
    await this.#expect(res, [200], `resolve ${what}`);
    const digest = header(res, 'docker-content-digest');
    return digest && validDigest(digest) ? digest : undefined;
  }

  async blobExists(repository: string, digest: string, action: Action = 'pull'): Promise<boolean> {
    const res = await this.#send('HEAD', this.#url(repository, 'blobs', checkDigest(digest)), {}, undefined, repository, action);
    if (res.statusCode === 404) return false;
    await this.#expect(res, [200], `check blob ${digest} in ${this.registry}/${repository}`);
    return true;
  }

  /**
   * GETs a blob (following redirects to storage), streaming it through its digest and size
   * checks; `onProgress(received, total)` sees every chunk.
   */
  async getBlob(
    repository: string,
    blob: { digest: string; size: number },
    options: { onProgress?: (received: number, total: number) => void; what?: string } = {},
  ): Promise<Uint8Array> {
    const what = options.what ?? `blob ${blob.digest} of ${this.registry}/${repository}`;
    const res = await this.#send('GET', this.#url(repository, 'blobs', checkDigest(blob.digest)), {}, undefined, repository, 'pull');
    if (res.statusCode === 404) {
      await res.body.dump();
      throw new OciNotFoundError(`${this.registry} has no ${what} (the manifest names it, the registry does not have it)`, { reference: what });
    }
    await this.#expect(res, [200], `get ${what}`);
    const verifier = new DigestVerifier(blob.digest);
    const bytes = await readBody(res, blob.size, what, (chunk, received) => {
      verifier.update(chunk);
      options.onProgress?.(received, blob.size);
    });
    if (bytes.length !== blob.size) throw new OciError(`${what} is ${bytes.length} bytes, but its descriptor says ${blob.size}`, { reference: what });
    const actual = verifier.digest();
    if (actual !== blob.digest) throw new OciDigestMismatchError(what, blob.digest, actual, { reference: what });
    return bytes;
  }

  /** Uploads a blob unless the registry has it: POST for an upload URL, then one monolithic PUT. */
  async pushBlob(repository: string, bytes: Uint8Array): Promise<{ digest: string; existed: boolean }> {
    const digest = digestOf(bytes);
    if (await this.blobExists(repository, digest, 'push')) return { digest, existed: true };
    const where = `${this.registry}/${repository}`;
    const start = await this.#send('POST', `${this.#url(repository, 'blobs', digest).replace(/\/[^/]+$/, '')}/uploads/`, { 'content-length': '0' }, undefined, repository, 'push');
    if (start.statusCode === 404) throw await this.#notFound(start, repository, undefined, where);
    await this.#expect(start, [202], `start a blob upload to ${where}`);
    const location = header(start, 'location');
    if (!location) throw new OciError(`${this.registry} started an upload to ${repository} but sent no Location`);
    const url = new URL(location, this.#base);
    url.searchParams.set('digest', digest);
    const put = await this.#send(
      'PUT',
      url.toString(),
      { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
      bytes,
      repository,
      'push',
    );
    await this.#expect(put, [201], `upload blob ${digest} to ${where}`);
    const stored = header(put, 'docker-content-digest');
    if (stored && stored !== digest) throw new OciDigestMismatchError(`the blob ${this.registry} stored`, digest, stored, { reference: where });
    return { digest, existed: false };
  }

  /** PUTs a manifest under a tag or its digest; returns the digest (checked against the registry's). */
  async putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    const digest = digestOf(bytes);
    const what = `${this.registry}/${repository}${reference.includes(':') ? '@' : ':'}${reference}`;
    const res = await this.#send(
      'PUT',
      this.#url(repository, 'manifests', reference),
      { 'content-type': mediaType, 'content-length': String(bytes.length) },
      bytes,
      repository,
      'push',
    );
    await this.#expect(res, [200, 201], `push the manifest of ${what}`);
    const stored = header(res, 'docker-content-digest');
    if (stored && validDigest(stored) && algorithmOf(stored) === 'sha256' && stored !== digest) {
      throw new OciDigestMismatchError(`the manifest ${this.registry} stored for ${what}`, digest, stored, { reference: what });
    }
    return digest;
  }

  /** Names go into the path as they are, so only well-formed ones pass. */
  #url(repository: string, kind: 'manifests' | 'blobs', reference: string): string {
    if (!REPOSITORY.test(repository) || !(TAG.test(reference) || validDigest(reference))) {
      throw new OciError(`invalid repository or reference for ${this.registry}: ${JSON.stringify(`${repository}:${reference}`)}`);
    }
    return `${this.#base}/v2/${repository}/${kind}/${reference}`;
  }

  /**
   * Sends with the authorization we have; on a 401 answers the challenge once (a token from the
   * realm, or Basic) and retries. A second 401, or a 403, is an `OciAuthError`.
   */
  async #send(method: string, url: string, headers: Record<string, string>, body: Uint8Array | undefined, repository: string, action: Action): Promise<Response> {
    const scope = `repository:${repository}:${action === 'push' ? 'pull,push' : 'pull'}`;
    let authorization = this.#tokens.get(scope) ?? this.#basic;
    for (let attempt = 0; ; attempt++) {
      const res = await this.#raw(method, url, { ...headers, ...(authorization ? { authorization } : {}) }, body);
      if (res.statusCode === 401 && attempt === 0) {
        const challenge = parseChallenges(res.headers['www-authenticate']);
        await res.body.dump();
        if (!challenge) throw this.#authError(401, repository, action, 'it sent no WWW-Authenticate challenge');
        authorization = await this.#answer(challenge, scope, repository, action);
        continue;
      }
      if (res.statusCode === 401 || res.statusCode === 403) {
        const detail = await errorDetail(res);
        throw this.#authError(res.statusCode, repository, action, detail);
      }
      return res;
    }
  }

  async #answer(challenge: Challenge, scope: string, repository: string, action: Action): Promise<string> {
    const creds = this.#credentials;
    if (challenge.scheme === 'basic') {
      if (!creds) throw this.#authError(401, repository, action);
      this.#basic = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      return this.#basic;
    }
    const realm = challenge.params.realm;
    let url: URL;
    try {
      url = new URL(realm ?? '');
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(url.protocol);
    } catch {
      throw new OciError(`${this.registry} sent a Bearer challenge without a usable realm (${JSON.stringify(realm)})`);
    }
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.append('scope', scope);
    if (challenge.params.scope && challenge.params.scope !== scope) url.searchParams.append('scope', challenge.params.scope);
    const headers: Record<string, string> = creds ? { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` } : {};
    const res = await this.#raw('GET', url.toString(), headers, undefined);
    if (res.statusCode === 401 || res.statusCode === 403) {
      const detail = await errorDetail(res);
      throw this.#authError(401, repository, action, `the token service at ${url.origin} answered ${res.statusCode}${detail ? `: ${detail}` : ''}`);
    }
    await this.#expect(res, [200], `get a token from ${url.origin}${url.pathname}`);
    let token: unknown;
    try {
      const json = JSON.parse(Buffer.from(await readBody(res, MAX_SMALL_BODY, 'the token response')).toString('utf8'));
      token = json.token ?? json.access_token;
    } catch (err) {
      throw new OciError(`the token service of ${this.registry} (${url.origin}) answered with invalid JSON`, { cause: err });
    }
    if (typeof token !== 'string' || token.length === 0) throw new OciError(`the token service of ${this.registry} (${url.origin}) sent no token`);
    const value = `Bearer ${token}`;
    this.#tokens.set(scope, value);
    return value;
  }

  #authError(status: number, repository: string, action: Action, detail?: string): OciAuthError {
    const where = `${this.registry}/${repository}`;
    const creds = this.#credentials;
    const suffix = detail ? ` (${detail})` : '';
    const hint = `pass credentials (--user/--password, or a pullSecret), or log in with \`docker login ${this.registry}\``;
    if (status === 403) {
      return new OciAuthError(`${this.registry} denied ${action} access to ${where}${creds ? ` for user "${creds.username}"` : ''}: HTTP 403${suffix}`, { reference: where, hint });
    }
    if (creds) {
      return new OciAuthError(`${this.registry} refused the credentials of user "${creds.username}" to ${action} ${where}: HTTP 401${suffix}`, {
        reference: where,
        hint: 'check the user name and password (or token) for this registry',
      });
    }
    return new OciAuthError(`${this.registry} requires credentials to ${action} ${where}: HTTP 401${suffix}`, { reference: where, hint });
  }

  async #notFound(res: Response, repository: string, reference: string | undefined, what: string): Promise<OciNotFoundError> {
    const detail = await errorDetail(res);
    const code = detail.split(':')[0];
    const why =
      code === 'NAME_UNKNOWN' || reference === undefined
        ? `has no repository ${repository}`
        : reference.includes(':')
          ? `has no manifest ${reference} in ${repository}`
          : `has no tag "${reference}" in ${repository}`;
    return new OciNotFoundError(`${this.registry} ${why} (looking for ${what})`, { reference: what, hint: 'check the name and tag, and that it was pushed' });
  }

  /** Anything but the expected statuses becomes an error naming what we tried and what the registry said. */
  async #expect(res: Response, ok: number[], doing: string): Promise<void> {
    if (ok.includes(res.statusCode)) return;
    const detail = await errorDetail(res);
    throw new OciError(`cannot ${doing}: ${this.registry} answered HTTP ${res.statusCode}${detail ? ` (${detail})` : ''}`);
  }

  /** One request, following redirects for GET/HEAD (blobs often live in object storage). */
  async #raw(method: string, url: string, headers: Record<string, string>, body: Uint8Array | undefined): Promise<Response> {
    let target = new URL(url);
    let sendHeaders: Record<string, string> = { 'user-agent': USER_AGENT, ...headers };
    for (let hop = 0; ; hop++) {
      let res: Response;
      try {
        res = await request(target, {
          method: method as Dispatcher.HttpMethod,
          headers: sendHeaders,
          ...(body ? { body } : {}),
          ...(this.#signal ? { signal: this.#signal } : {}),
          ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
        });
      } catch (err) {
        if (this.#signal?.aborted) throw err;
        throw unreachable(this.registry, target, err);
      }
      const location = header(res, 'location');
      if (![301, 302, 303, 307, 308].includes(res.statusCode) || !location || (method !== 'GET' && method !== 'HEAD')) return res;
      await res.body.dump();
      if (hop >= MAX_REDIRECTS) throw new OciError(`${this.registry} redirected more than ${MAX_REDIRECTS} times (last to ${location})`);
      const next = new URL(location, target);
      // Credentials are for the registry, never for the storage it redirects to.
      if (next.origin !== target.origin) {
        const { authorization: _dropped, ...rest } = sendHeaders;
        sendHeaders = rest;
      }
      target = next;
    }
  }
}

function unreachable(registry: string, url: URL, err: unknown): OciUnreachableError {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e.code ?? e.cause?.code;
  const raw = e.cause?.message ?? e.message;
  const tls = /wrong version number|EPROTO|ERR_SSL/i.test(`${code} ${raw}`);
  // OpenSSL's messages carry its source file and line: keep the reason only.
  const message = /wrong version number/i.test(raw) ? 'TLS handshake failed (wrong version number: the server does not speak HTTPS)' : raw.split('\n')[0];
  return new OciUnreachableError(`cannot reach registry ${registry} at ${url.origin}: ${message}`, {
    cause: err,
    reference: registry,
    ...(tls && url.protocol === 'https:' ? { hint: 'if this registry speaks plain HTTP, pass --insecure' } : {}),
  });
}

function header(res: Response, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function validDigest(d: string): boolean {
  return /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/.test(d);
}

/** Reads a body whole, refusing more than `limit` bytes (declared or streamed). */
async function readBody(res: Response, limit: number, what: string, onChunk?: (chunk: Uint8Array, received: number) => void): Promise<Uint8Array> {
  const declared = Number(header(res, 'content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    throw new OciSizeLimitError(`${what} is ${declared} bytes, more than the ${limit} expected`);
  }
  const chunks: Uint8Array[] = [];
  let received = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > limit) {
      res.body.destroy();
      throw new OciSizeLimitError(`${what} is more than the ${limit} bytes expected`);
    }
    chunks.push(chunk);
    onChunk?.(chunk, received);
  }
  return Buffer.concat(chunks, received);
}

/** The registry's error (`{"errors":[{"code","message"}]}`) as `CODE: message`, or its text. */
async function errorDetail(res: Response): Promise<string> {
  let text: string;
  try {
    text = Buffer.from(await readBody(res, MAX_SMALL_BODY, 'an error response')).toString('utf8');
  } catch {
    return '';
  }
  try {
    const first = JSON.parse(text)?.errors?.[0];
    if (first?.code) return `${first.code}: ${first.message ?? ''}`.trim();
  } catch {
    // not JSON: plain text below
  }
  return text.trim().slice(0, 200);
}
