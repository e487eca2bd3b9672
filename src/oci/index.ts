/**
 * Components in OCI registries: push, pull (with a cache and pull policies), and the host's
 * `ImageFetcher`. The distribution API is implemented here over undici (see registry.ts).
 */
export { OciClient, DEFAULT_TIMEOUT_MS, DEFAULT_MAX_BLOB_BYTES } from './client.ts';
export type { OciClientOptions, OperationOptions, PullOptions, PushOptions, PullResult, PushResult, PullPolicy } from './client.ts';
export { OciImageFetcher, toPullPolicy } from './fetcher.ts';
export type { OciImageFetcherOptions, WorkloadPullPolicy } from './fetcher.ts';
export { OciCache, defaultOciCacheDir } from './cache.ts';
export type { CleanResult } from './cache.ts';
export { RegistryClient } from './registry.ts';
export type { RegistryClientOptions, FetchedManifest } from './registry.ts';
export { parseReference, formatReference, DOCKER_HUB } from './reference.ts';
export type { Reference } from './reference.ts';
export { dockerCredentials, defaultDockerConfigDir } from './credentials.ts';
export type { Credentials } from './credentials.ts';
export { parseChallenges } from './challenge.ts';
export type { Challenge } from './challenge.ts';
export { inspectComponent } from './inspect.ts';
export type { ComponentSummary, DescribeBinary } from './inspect.ts';
export {
  buildArtifact,
  parseManifest,
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  WASM_CONFIG,
  WASM_LAYER,
  LEGACY_WASM_LAYER,
} from './manifest.ts';
export type { Descriptor, BuiltArtifact, BuildOptions, ParsedManifest } from './manifest.ts';
export { digestOf } from './digest.ts';
export {
  OciError,
  OciReferenceError,
  OciNotFoundError,
  OciAuthError,
  OciDigestMismatchError,
  OciNotComponentError,
  OciTimeoutError,
  OciNotCachedError,
  OciUnreachableError,
  OciSizeLimitError,
} from './errors.ts';
