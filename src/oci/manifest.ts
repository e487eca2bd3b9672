/**
 * The Wasm OCI artifact layout (CNCF TAG Runtime; what wkg, wash and Spin push): an OCI image
 * manifest whose config has media type `application/vnd.wasm.config.v0+json` and whose one layer
 * is the component, `application/wasm`. Reading is lenient where the ecosystem was: the legacy
 * layer type, any config type, Docker v2 manifests, and an index with one wasm entry.
 */
import { OciError } from './errors.ts';
import { checkDigest } from './reference.ts';
import { digestOf } from './digest.ts';
import type { ComponentSummary } from './inspect.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const WASM_CONFIG = 'application/vnd.wasm.config.v0+json';
export const WASM_LAYER = 'application/wasm';
/** wasmCloud's and wasm-to-oci's older layer type, still found in registries. */
export const LEGACY_WASM_LAYER = 'application/vnd.module.wasm.content.layer.v1+wasm';

/** Every manifest type a pull understands, for the `Accept` header. */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_LIST].join(', ');

/** The registry spec asks registries to take manifests up to 4 MiB; nothing bigger is read. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string };
}

export interface BuiltArtifact {
  config: Uint8Array;
  manifest: Uint8Array;
  manifestDigest: string;
  configDescriptor: Descriptor;
  layerDescriptor: Descriptor;
}

export interface BuildOptions {
  /** Imports and exports of the component; omit for bytes that are not one (tests only). */
  component?: ComponentSummary;
  annotations?: Record<string, string>;
  created?: Date;
  /** `application/wasm` unless given (tests push the legacy type). */
  layerMediaType?: string;
}

/** The config blob and manifest for one component layer. */
export function buildArtifact(layer: Uint8Array, options: BuildOptions = {}): BuiltArtifact {
  const layerDescriptor: Descriptor = { mediaType: options.layerMediaType ?? WASM_LAYER, digest: digestOf(layer), size: layer.length };
  const config = new TextEncoder().encode(
    JSON.stringify({
      created: (options.created ?? new Date()).toISOString(),
      architecture: 'wasm',
      os: options.component ? 'wasip2' : 'wasip1',
      // Makes the config (and so the manifest) unique per layer set (image-spec PR 1173).
      layerDigests: [layerDescriptor.digest],
      ...(options.component ? { component: { exports: options.component.exports, imports: options.component.imports } } : {}),
    }),
  );
  const configDescriptor: Descriptor = { mediaType: WASM_CONFIG, digest: digestOf(config), size: config.length };
  const annotations = options.annotations && Object.keys(options.annotations).length > 0 ? options.annotations : undefined;
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: configDescriptor,
      layers: [layerDescriptor],
      ...(annotations ? { annotations } : {}),
    }),
  );
  return { config, manifest, manifestDigest: digestOf(manifest), configDescriptor, layerDescriptor };
}

export interface ParsedManifest {
  mediaType: string;
  /** Set for an image manifest. */
  layers?: Descriptor[];
  config?: Descriptor;
  /** Set for an index (or a Docker manifest list). */
  manifests?: Descriptor[];
  annotations: Record<string, string>;
}

/** Parses and checks a manifest's JSON; `contentType` is the response header, if any. */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined, what: string): ParsedManifest {
  const bad = (why: string) => new OciError(`${what} is not a usable manifest: ${why}`, { reference: what });
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new OciError(`${what} is not a usable manifest: not JSON (${(err as Error).message})`, { cause: err, reference: what });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('not a JSON object');
  if (doc.schemaVersion !== 2) throw bad(`schemaVersion ${JSON.stringify(doc.schemaVersion)} (only 2 is supported)`);
  const header = contentType?.split(';')[0].trim();
  const mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : header && header !== 'application/json' ? header : doc.manifests ? OCI_INDEX : OCI_MANIFEST;
  const annotations = stringMap(doc.annotations);
  if (mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST) {
    if (!Array.isArray(doc.manifests)) throw bad('an index without a manifests list');
    return { mediaType, manifests: doc.manifests.map((d, i) => descriptor(d, `manifests[${i}]`, bad)), annotations };
  }
  if (mediaType !== OCI_MANIFEST && mediaType !== DOCKER_MANIFEST) throw bad(`unsupported media type ${mediaType}`);
  if (!Array.isArray(doc.layers)) throw bad('no layers list');
  return {
    mediaType,
    config: doc.config === undefined ? undefined : descriptor(doc.config, 'config', bad),
    layers: doc.layers.map((d, i) => descriptor(d, `layers[${i}]`, bad)),
    annotations,
  };
}

/** The one wasm layer of an image manifest; an error that lists what is there otherwise. */
export function wasmLayer(manifest: ParsedManifest, what: string): Descriptor {
  const layers = manifest.layers ?? [];
  const wasm = layers.filter((l) => l.mediaType === WASM_LAYER || l.mediaType === LEGACY_WASM_LAYER);
  if (wasm.length === 1) return wasm[0];
  const listed = layers.map((l) => l.mediaType).join(', ') || 'none';
  if (wasm.length === 0) {
    throw new OciError(`${what} has no ${WASM_LAYER} layer (its layers: ${listed}); it is not a WebAssembly artifact`, {
      reference: what,
      hint: 'push components with `wasmhost push` (or wkg, wash) so they carry an application/wasm layer',
    });
  }
  throw new OciError(`${what} has ${wasm.length} wasm layers; a component artifact has exactly one`, { reference: what });
}

/** From an index, the entry for WebAssembly: the only entry, or the one whose platform is wasm. */
export function wasmEntry(index: ParsedManifest, what: string): Descriptor {
  const entries = index.manifests ?? [];
  const images = entries.filter((e) => e.mediaType === OCI_MANIFEST || e.mediaType === DOCKER_MANIFEST);
  const wasm = images.filter((e) => e.platform?.architecture === 'wasm');
  const pick = wasm.length === 1 ? wasm[0] : images.length === 1 ? images[0] : undefined;
  if (pick) return pick;
  const platforms = entries.map((e) => `${e.platform?.os ?? '?'}/${e.platform?.architecture ?? '?'}`).join(', ') || 'none';
  throw new OciError(`${what} is an index without a single WebAssembly entry (platforms: ${platforms})`, { reference: what });
}

function descriptor(value: unknown, where: string, bad: (why: string) => Error): Descriptor {
  if (typeof value !== 'object' || value === null) throw bad(`${where} is not an object`);
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string') throw bad(`${where} has no mediaType`);
  if (typeof d.digest !== 'string') throw bad(`${where} has no digest`);
  // Digests become URL paths and cache file names: only well-formed ones pass.
  try {
    checkDigest(d.digest, where);
  } catch {
    throw bad(`${where} has an invalid digest ${JSON.stringify(d.digest).slice(0, 80)}`);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw bad(`${where} has an invalid size`);
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  const annotations = stringMap(d.annotations);
  if (Object.keys(annotations).length > 0) out.annotations = annotations;
  if (typeof d.platform === 'object' && d.platform !== null) {
    const p = d.platform as Record<string, unknown>;
    out.platform = {
      ...(typeof p.architecture === 'string' ? { architecture: p.architecture } : {}),
      ...(typeof p.os === 'string' ? { os: p.os } : {}),
    };
  }
  return out;
}

function stringMap(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
