/**
 * The workload data model and the Host API messages, in the shape of the reference's protobuf
 * (`wasmcloud.runtime.v2`) as proto3 canonical JSON: lowerCamelCase fields, enums by name. A
 * manifest file, an embedding program and a cluster operator all speak this one shape.
 *
 * These are the *validated* forms: every default is filled in. `validateWorkload` turns any
 * accepted input (snake_case names, short enum names, missing defaults) into them.
 */

export const IMAGE_PULL_POLICIES = [
  'IMAGE_PULL_POLICY_UNSPECIFIED',
  'IMAGE_PULL_POLICY_ALWAYS',
  'IMAGE_PULL_POLICY_IF_NOT_PRESENT',
  'IMAGE_PULL_POLICY_NEVER',
] as const;

/** Proto enum names. UNSPECIFIED means IF_NOT_PRESENT; validation writes the latter. */
export type ImagePullPolicy = (typeof IMAGE_PULL_POLICIES)[number];

/** The short names also accepted on input (`policy: ALWAYS` in a manifest). */
export type ImagePullPolicyShortName = 'UNSPECIFIED' | 'ALWAYS' | 'IF_NOT_PRESENT' | 'NEVER';

export interface ImagePullSecret {
  username: string;
  password: string;
}

/**
 * Where the Wasm comes from: exactly one of a file (manifest or embedding), bytes (embedding
 * only: a manifest cannot carry them) or an OCI image reference.
 */
export type ComponentSource =
  | { file: string; bytes?: never; image?: never }
  | { bytes: Uint8Array; file?: never; image?: never }
  | { image: string; file?: never; bytes?: never };

export interface VolumeMount {
  /** The name of a volume declared in `Workload.volumes`. */
  name: string;
  /** Where the guest sees it, an absolute guest path such as `/data`. */
  mountPath: string;
  readOnly: boolean;
}

export interface LocalResources {
  /** MiB; -1 = the host's default. */
  memoryLimitMb: number;
  /** Milliseconds of guest CPU per invocation; -1 = the host's default. */
  cpuLimit: number;
  /**
   * How long one invocation (a request, a message, a call) may run, as a duration (`500ms`,
   * `30s`, proto3's `1.5s`); absent = the host's default. Not part of the reference's schema.
   */
  timeout?: string;
  /** Low-level key/value configuration for the component. */
  config: Record<string, string>;
  /** The guest's whole environment (`wasi:cli/environment`); never the host's. */
  environment: Record<string, string>;
  volumeMounts: VolumeMount[];
  /** Outgoing network destinations; `*.example.com` matches subdomains, not the apex. */
  allowedHosts: string[];
  /**
   * Names the guest may resolve through `wasi:sockets/ip-name-lookup`: `*`, `*.example.com`
   * (subdomains, not the apex), `api.example.com` or a literal IP. Empty denies every lookup.
   */
  allowedIpNameLookups: string[];
  /**
   * Ports on the machine's own loopback the guest may reach through `host.wasmcloud.internal`
   * (`5432`, `5432/tcp`, `53/udp`). Empty denies; inert unless the host allows host loopback.
   */
  allowedHostLoopbackPorts: string[];
}

interface ImageOptions {
  imagePullSecret?: ImagePullSecret;
  imagePullPolicy: ImagePullPolicy;
}

export type Component = ComponentSource &
  ImageOptions & {
    /** Unique within its workload. */
    name: string;
    /** Expected digest of the image (`sha256:...`), checked when set. */
    digest?: string;
    localResources: LocalResources;
    /** Warm instances kept for reuse; 0 = a fresh instance per invocation. */
    poolSize: number;
    /** Invocations an instance serves before it is replaced; 0 = no limit. */
    maxInvocations: number;
    /**
     * Calls one warm instance may have in flight; 0 = unset = 1. A permission, not a demand:
     * wasmhost serves one call per instance at a time (a 0.2 guest is not reentrant).
     */
    maxConcurrency: number;
    /**
     * Idle warm instances are closed down to the peak in use over the last this many seconds
     * (but never below `reclaimMinInstances`); 0 = never: the pool stays at `poolSize`.
     */
    reclaimWindowSeconds: number;
    /** Warm instances kept however quiet the component is, when `reclaimWindowSeconds` is set. */
    reclaimMinInstances: number;
  };

/** One long-lived instance calling `wasi:cli/run`, restarted fresh up to `maxRestarts` times. */
export type Service = ComponentSource &
  ImageOptions & {
    localResources: LocalResources;
    maxRestarts: number;
  };

/** `wasi:keyvalue/store,atomics@0.2.0-draft` as data. */
export interface WitInterface {
  namespace: string;
  package: string;
  interfaces: string[];
  /** Empty = any version. */
  version: string;
  /** Per-workload settings for the plugin that serves this interface. */
  config: Record<string, string>;
  /** The reference's instance name for routing to one of several backends (accepted and carried). */
  name?: string;
}

export interface WitWorld {
  components: Component[];
  hostInterfaces: WitInterface[];
}

export interface HostPathVolume {
  /** A directory on the host; relative paths in a manifest are resolved against its folder. */
  localPath: string;
}

/** A fresh temporary directory per workload. */
export type EmptyDirVolume = Record<string, never>;

export type Volume = { name: string } & (
  | { hostPath: HostPathVolume; emptyDir?: never }
  | { emptyDir: EmptyDirVolume; hostPath?: never }
);

export interface Workload {
  namespace: string;
  name: string;
  annotations: Record<string, string>;
  service?: Service;
  witWorld: WitWorld;
  volumes: Volume[];
}

export const WORKLOAD_STATES = [
  'WORKLOAD_STATE_UNSPECIFIED',
  'WORKLOAD_STATE_STARTING',
  'WORKLOAD_STATE_RUNNING',
  'WORKLOAD_STATE_COMPLETED',
  'WORKLOAD_STATE_STOPPING',
  'WORKLOAD_STATE_ERROR',
  'WORKLOAD_STATE_NOT_FOUND',
] as const;

export type WorkloadState = (typeof WORKLOAD_STATES)[number];

export interface WorkloadStatus {
  workloadId: string;
  workloadState: WorkloadState;
  /** Why, for ERROR (a failed start answers ERROR, not a transport error). */
  message: string;
}

/**
 * A workload as a caller writes it (a start request, an embedding program, a decoded manifest):
 * fields that have defaults may be left out, host interfaces may be written as text
 * (`wasi:keyvalue/store@0.2.0-draft`), and policies by their short names. The host validates it
 * into a `Workload` (`validateWorkload`) and answers ERROR, naming every problem, when it is not one.
 */
export interface WorkloadInput {
  namespace?: string;
  name: string;
  annotations?: Record<string, string>;
  service?: ServiceInput;
  witWorld?: { components?: ComponentInput[]; hostInterfaces?: (string | WitInterfaceInput)[] };
  volumes?: Volume[];
}

export interface LocalResourcesInput extends Partial<Omit<LocalResources, 'volumeMounts'>> {
  volumeMounts?: (Omit<VolumeMount, 'readOnly'> & { readOnly?: boolean })[];
}

interface ImageOptionsInput {
  imagePullSecret?: ImagePullSecret;
  imagePullPolicy?: ImagePullPolicy | ImagePullPolicyShortName;
}

export type ComponentInput = ComponentSource &
  ImageOptionsInput & {
    name: string;
    digest?: string;
    localResources?: LocalResourcesInput;
    poolSize?: number;
    maxInvocations?: number;
    maxConcurrency?: number;
    reclaimWindowSeconds?: number;
    reclaimMinInstances?: number;
  };

export type ServiceInput = ComponentSource & ImageOptionsInput & { localResources?: LocalResourcesInput; maxRestarts?: number };

export type WitInterfaceInput = Pick<WitInterface, 'namespace' | 'package' | 'interfaces'> & Partial<Pick<WitInterface, 'version' | 'config' | 'name'>>;

export interface WorkloadStartRequest {
  workloadId: string;
  /** Validated by the host: a `Workload`, or anything of the input shape. */
  workload: WorkloadInput;
}

export interface WorkloadStartResponse {
  workloadStatus: WorkloadStatus;
}

export interface WorkloadStatusRequest {
  workloadId: string;
}

export interface WorkloadStatusResponse {
  workloadStatus: WorkloadStatus;
}

export interface WorkloadStopRequest {
  workloadId: string;
}

export interface WorkloadStopResponse {
  workloadStatus: WorkloadStatus;
}

/** What `heartbeat` answers. 64-bit counters are numbers here; the wire writes them as strings. */
export interface HostHeartbeat {
  id: string;
  hostname: string;
  httpPort: number;
  friendlyName: string;
  version: string;
  labels: Record<string, string>;
  /** RFC 3339. */
  startedAt: string;
  osArch: string;
  osName: string;
  osKernel: string;
  /** 0-100. */
  systemCpuUsage: number;
  systemMemoryTotal: number;
  systemMemoryFree: number;
  componentCount: number;
  workloadCount: number;
  /** Interfaces the host's plugins provide to components. */
  imports: WitInterface[];
  /** Interfaces the host's plugins call on components. */
  exports: WitInterface[];
  /** The environment the host says it runs in (a namespace, a region); '' = none. */
  environment: string;
}
