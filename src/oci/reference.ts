/**
 * Image references as Docker and the distribution project read them (`distribution/reference`):
 * `[registry/]repository[:tag][@digest]`. The first path component is a registry when it has a
 * `.` or a `:` or is `localhost`; otherwise the registry is Docker Hub and a one-component
 * repository lives under `library/`. Without a tag or digest the tag is `latest`.
 */
import { OciReferenceError } from './errors.ts';

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API actually answers. */
const DOCKER_HUB_API = 'registry-1.docker.io';

export interface Reference {
  /** `ghcr.io`, `127.0.0.1:5000`, `docker.io`. */
  registry: string;
  /** `org/app`, `library/hello`. */
  repository: string;
  /** Absent when only a digest was given. */
  tag?: string;
  /** `sha256:<64 hex>`; when set it wins over the tag, as with Docker. */
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGESTS: Record<string, RegExp> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::\d{1,5})?$/;

/** Checks `algorithm:hex` (sha256 or sha512, lowercase hex); returns it unchanged. */
export function checkDigest(digest: string, context = digest): string {
  const colon = digest.indexOf(':');
  const pattern = DIGESTS[digest.slice(0, colon)];
  if (colon < 0 || !pattern || !pattern.test(digest.slice(colon + 1))) {
    throw new OciReferenceError(`invalid digest in ${context}: expected sha256:<64 hex digits> (or sha512:<128>)`, { reference: context });
  }
  return digest;
}

export function parseReference(text: string): Reference {
  const bad = (why: string) => new OciReferenceError(`invalid image reference "${text}": ${why}`, { reference: text, hint: 'write it as [registry/]repository[:tag][@sha256:digest], e.g. ghcr.io/org/app:1.0' });
  if (text.length === 0) throw bad('it is empty');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const colon = digest.indexOf(':');
    if (colon < 0 || !DIGESTS[digest.slice(0, colon)]?.test(digest.slice(colon + 1))) throw bad(`"${digest}" is not a digest (sha256:<64 lowercase hex digits>)`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`"${tag}" is not a valid tag (letters, digits, _ . -, at most 128, not starting with . or -)`);
  }
  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    registry = first;
    repository = rest.slice(slash + 1);
    if (!DOMAIN.test(registry)) throw bad(`"${registry}" is not a valid registry host`);
  }
  // Docker Hub's aliases all mean the one registry.
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (repository.length === 0) throw bad('the repository name is missing');
  for (const part of repository.split('/')) {
    if (!COMPONENT.test(part)) {
      throw bad(`"${part}" is not a valid repository name component (lowercase letters, digits and single separators . _ __ -)`);
    }
  }
  if (registry.length + 1 + repository.length > 255) throw bad('the name is longer than 255 characters');
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** `registry/repository[:tag][@digest]`, the normalised form. */
export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/** The host (and port) the registry's HTTP API answers on. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}
