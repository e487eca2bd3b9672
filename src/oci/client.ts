/**
 * `OciClient`: components to and from registries, with a local cache and pull policies.
 * - push: refuses bytes that are not a component, uploads the layer and the Wasm config (skipping
 *   blobs the registry has), then the manifest; returns the manifest digest.
 * - pull: ALWAYS resolves the reference at the registry (the layer still comes from the cache when
 *   its digest is there); IF_NOT_PRESENT answers from the cache without touching the network;
 *   NEVER answers from the cache or fails. The manifest digest is the image's identity and cache key.
 * Each operation has one deadline (default 30 s) covering every request it makes.
 * Whether bytes are a component is the engine's answer, given as `describeBinary`.
 */
import type { Dispatcher } from 'undici';
import { OciCache, type CleanResult } from './cache.ts';
import { dockerCredentials, defaultDockerConfigDir, type Credentials } from './credentials.ts';
import { OciError, OciNotCachedError, OciReferenceError, OciSizeLimitError, OciTimeoutError } from './errors.ts';
import { inspectComponent, type DescribeBinary } from './inspect.ts';
import { OCI_MANIFEST, buildArtifact, parseManifest, wasmEntry, wasmLayer, type Descriptor, type ParsedManifest } from './manifest.ts';
import { formatReference, parseReference, type Reference } from './reference.ts';
import { RegistryClient } from './registry.ts';

export type PullPolicy = 'ALWAYS' | 'IF_NOT_PRESENT' | 'NEVER';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_BLOB_BYTES = 512 * 1024 * 1024;

export interface OciClientOptions {
  /** The engine's `describeBinary` (`import { describeBinary } from 'wasmhost/engine'`): pushes and pulls only components. */
  describeBinary: DescribeBinary;
  /** Default `$WASMHOST_CACHE_DIR/oci` (see `defaultOciCacheDir`). */
  cacheDir?: string;
  /** Plain HTTP: for every registry (true) or for the listed ones (`127.0.0.1:5000`). */
  insecure?: boolean | readonly string[];
  /** Time limit of one push or pull, every request included. Default 30 s. */
  timeoutMs?: number;
  /** Where the Docker config lives (default `$DOCKER_CONFIG` or `~/.docker`); false to ignore it. */
  dockerConfigDir?: string | false;
  /** Largest layer pulled. Default 512 MiB. */
  maxBlobBytes?: number;
  dispatcher?: Dispatcher;
}

export interface OperationOptions {
  /** Wins over the Docker config. */
  credentials?: Credentials;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface PullOptions extends OperationOptions {
  /** Default IF_NOT_PRESENT. */
  policy?: PullPolicy;
  /** Bytes of the layer received so far, and its size; called as they arrive. */
  onProgress?: (received: number, total: number) => void;
}

export interface PushOptions extends OperationOptions {
  /** Manifest annotations (`org.opencontainers.image.source`, ...). */
  annotations?: Record<string, string>;
  /** The config's creation time; default now. */
  created?: Date;
  /** What to call the bytes in errors (a file name); default the reference. */
  source?: string;
}

export interface PullResult {
  /** The normalised reference pulled (`registry/repo:tag`). */
  reference: string;
  /** The manifest digest the reference resolved to: the image's identity and cache key. */
  digest: string;
  /** The component. */
  bytes: Uint8Array;
  /** Where the component lies in the cache. */
  path: string;
  layer: Descriptor;
  /** The manifest's annotations. */
  annotations: Record<string, string>;
  /** True when no network was used. */
  fromCache: boolean;
}

export interface PushResult {
  /** `registry/repo@sha256:...`. */
  reference: string;
  /** The manifest digest. */
  digest: string;
  layerDigest: string;
  size: number;
}

export class OciClient {
  readonly cache: OciCache;
  readonly #insecure: boolean | readonly string[];
  readonly #timeoutMs: number;
  readonly #dockerConfigDir: string | false | undefined;
  readonly #maxBlobBytes: number;
  readonly #dispatcher?: Dispatcher;
  readonly #describe: DescribeBinary;

  constructor(options: OciClientOptions) {
    this.cache = new OciCache(options.cacheDir);
    this.#describe = options.describeBinary;
    this.#insecure = options.insecure ?? false;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#dockerConfigDir = options.dockerConfigDir;
    this.#maxBlobBytes = options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
    if (options.dispatcher) this.#dispatcher = options.dispatcher;
  }

  async push(reference: string, bytes: Uint8Array, options: PushOptions = {}): Promise<PushResult> {
    const ref = parseReference(reference);
    const name = formatReference(ref);
    // A digest comes with a tag only when both were written (`latest` is implied only alone).
    if (ref.digest && ref.tag) throw new OciReferenceError(`cannot push to ${reference}: give a tag or a digest, not both`, { reference });
    const component = await inspectComponent(bytes, options.source ?? name, this.#describe);
    const artifact = buildArtifact(bytes, { component, ...(options.annotations ? { annotations: options.annotations } : {}), ...(options.created ? { created: options.created } : {}) });
    if (ref.digest && ref.digest !== artifact.manifestDigest) {
      throw new OciReferenceError(`cannot push to ${name}: the manifest's digest is ${artifact.manifestDigest}`, { reference: name, hint: 'push to a tag; a digest names content, it cannot be chosen' });
    }
    return this.#withDeadline('push', name, options, async (signal) => {
      const registry = await this.#registry(ref, options, signal);
      await registry.pushBlob(ref.repository, bytes);
      await registry.pushBlob(ref.repository, artifact.config);
      const digest = await registry.putManifest(ref.repository, ref.digest ?? ref.tag!, artifact.manifest, OCI_MANIFEST);
      return { reference: `${ref.registry}/${ref.repository}@${digest}`, digest, layerDigest: artifact.layerDescriptor.digest, size: bytes.length };
    });
  }

  async pull(reference: string, options: PullOptions = {}): Promise<PullResult> {
    const ref = parseReference(reference);
    const name = formatReference(ref);
    const policy = options.policy ?? 'IF_NOT_PRESENT';
    if (policy !== 'ALWAYS') {
      const hit = await this.#fromCache(ref, name);
      if (hit) return hit;
      if (policy === 'NEVER') {
        throw new OciNotCachedError(`${name} is not in the local cache (${this.cache.dir}) and pull policy NEVER forbids pulling it`, {
          reference: name,
          hint: 'pull it once with the network (wasmhost pull), or use pull policy IF_NOT_PRESENT',
        });
      }
    }
    return this.#withDeadline('pull', name, options, (signal) => this.#pullRemote(ref, name, options, signal));
  }

  /** The manifest digest `reference` points at now, asked of the registry (no download). */
  async resolve(reference: string, options: OperationOptions = {}): Promise<string> {
    const ref = parseReference(reference);
    const name = formatReference(ref);
    return this.#withDeadline('resolve', name, options, async (signal) => {
      const registry = await this.#registry(ref, options, signal);
      if (ref.digest) return (await registry.getManifest(ref.repository, ref.digest)).digest;
      return (await registry.headManifest(ref.repository, ref.tag!)) ?? (await registry.getManifest(ref.repository, ref.tag!)).digest;
    });
  }

  /** Removes cached images not used for `olderThanMs`. */
  cleanCache(options: { olderThanMs: number }): Promise<CleanResult> {
    return this.cache.clean(options);
  }

  async #pullRemote(ref: Reference, name: string, options: PullOptions, signal: AbortSignal): Promise<PullResult> {
    const registry = await this.#registry(ref, options, signal);
    const top = await registry.getManifest(ref.repository, ref.digest ?? ref.tag!);
    const manifests: Array<[string, Uint8Array]> = [[top.digest, top.bytes]];
    let manifest = parseManifest(top.bytes, top.contentType, name);
    if (manifest.manifests) {
      const entry = wasmEntry(manifest, name);
      const image = await registry.getManifest(ref.repository, entry.digest);
      manifest = parseManifest(image.bytes, image.contentType ?? entry.mediaType, `${name} (${entry.digest})`);
      if (manifest.manifests) throw new OciError(`${name} is an index of indexes; only one level is followed`, { reference: name });
      manifests.push([image.digest, image.bytes]);
    }
    const layer = wasmLayer(manifest, name);
    if (layer.size > this.#maxBlobBytes) {
      throw new OciSizeLimitError(`the wasm layer of ${name} is ${layer.size} bytes, more than the limit of ${this.#maxBlobBytes}`, { reference: name });
    }
    let bytes = await this.cache.readBlob(layer.digest);
    if (!bytes) {
      bytes = await registry.getBlob(ref.repository, layer, { what: `the wasm layer ${layer.digest} of ${name}`, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
      // Only components enter the cache, so a cached layer needs no second look.
      await inspectComponent(bytes, `the wasm layer of ${name}`, this.#describe);
      await this.cache.writeBlob(layer.digest, bytes);
    }
    const path = this.cache.blobPath(layer.digest);
    for (const [digest, data] of manifests) await this.cache.writeBlob(digest, data);
    if (!ref.digest) await this.cache.writeTag(name, top.digest);
    return { reference: name, digest: top.digest, bytes, path, layer, annotations: manifest.annotations, fromCache: false };
  }

  /** A pull answered from the cache alone; undefined on any miss. */
  async #fromCache(ref: Reference, name: string): Promise<PullResult | undefined> {
    const digest = ref.digest ?? (await this.cache.readTag(name));
    if (!digest) return undefined;
    let manifest = await this.#cachedManifest(digest, name);
    if (manifest?.manifests) {
      let entry: Descriptor;
      try {
        entry = wasmEntry(manifest, name);
      } catch {
        return undefined;
      }
      manifest = await this.#cachedManifest(entry.digest, name);
    }
    if (!manifest?.layers) return undefined;
    let layer: Descriptor;
    try {
      layer = wasmLayer(manifest, name);
    } catch {
      return undefined;
    }
    const bytes = await this.cache.readBlob(layer.digest);
    if (!bytes) return undefined;
    return { reference: name, digest, bytes, path: this.cache.blobPath(layer.digest), layer, annotations: manifest.annotations, fromCache: true };
  }

  async #cachedManifest(digest: string, name: string): Promise<ParsedManifest | undefined> {
    const bytes = await this.cache.readBlob(digest);
    if (!bytes) return undefined;
    try {
      return parseManifest(bytes, undefined, name);
    } catch {
      return undefined;
    }
  }

  async #registry(ref: Reference, options: OperationOptions, signal: AbortSignal): Promise<RegistryClient> {
    const dir = this.#dockerConfigDir;
    const credentials = options.credentials ?? (dir === false ? undefined : await dockerCredentials(ref.registry, dir ?? defaultDockerConfigDir()));
    const insecure = this.#insecure === true || (Array.isArray(this.#insecure) && this.#insecure.includes(ref.registry));
    return new RegistryClient({
      registry: ref.registry,
      insecure,
      signal,
      ...(credentials ? { credentials } : {}),
      ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
    });
  }

  /** Runs one operation under its deadline; a deadline that passes is an `OciTimeoutError`. */
  async #withDeadline<T>(doing: string, name: string, options: OperationOptions, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
    try {
      return await run(signal);
    } catch (err) {
      if (deadline.signal.aborted && !options.signal?.aborted) {
        throw new OciTimeoutError(`${doing} of ${name} did not finish within ${formatMs(timeoutMs)}`, {
          cause: err,
          reference: name,
          hint: 'check that the registry answers, or allow more time (--timeout, timeoutMs)',
        });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
