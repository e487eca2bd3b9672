/**
 * The workload schema, field by field, with the reference's defaults. Its output is a complete
 * `Workload` (the type annotation below makes tsc hold it to types.ts).
 */
import * as z from 'zod';
import { IMAGE_PULL_POLICIES, type ComponentSource, type EmptyDirVolume, type Volume, type Workload } from './types.ts';
import { parseLoopbackPort, parseNameGrant } from '../network-grants.ts';
import { checkWitInterface, witInterfaceErrors } from './wit-interface.ts';
import { checkWorkloadRules } from './rules.ts';
import {
  INT32_MAX,
  always,
  bool,
  duration,
  exactlyOne,
  integer,
  list,
  message,
  nonEmptyString,
  protoEnum,
  string,
  stringMap,
} from './proto-json.ts';

const emptyMap = () => ({});
const emptyList = () => [];

const volumeMount = message('a volume mount', {
  name: nonEmptyString('the name of a volume'),
  mountPath: string('an absolute guest path such as /data').startsWith('/'),
  readOnly: bool().default(false),
});

const localResources = message('local resources', {
  memoryLimitMb: integer(-1, INT32_MAX).default(-1),
  cpuLimit: integer(-1, INT32_MAX).default(-1),
  timeout: duration().optional(),
  config: stringMap().default(emptyMap),
  environment: stringMap().default(emptyMap),
  volumeMounts: list(volumeMount).default(emptyList),
  allowedHosts: list(nonEmptyString('a host name such as api.example.com or *.example.com')).default(emptyList),
  allowedIpNameLookups: list(grant(parseNameGrant)).default(emptyList),
  allowedHostLoopbackPorts: list(grant(parseLoopbackPort)).default(emptyList),
}).prefault({});

/** An entry of a network grant, checked with the grammar WASI enforces it by. */
function grant(parse: (entry: string) => { error: string } | object) {
  return string().superRefine((entry, ctx) => {
    const parsed = parse(entry);
    if ('error' in parsed) ctx.addIssue({ code: 'custom', input: entry, message: String(parsed.error) });
  });
}

const imagePullSecret = message('an image pull secret', { username: nonEmptyString(), password: string() });

// UNSPECIFIED means "the default", which is IF_NOT_PRESENT; write the meaning down.
const imagePullPolicy = protoEnum(IMAGE_PULL_POLICIES, 'IMAGE_PULL_POLICY_')
  .transform((p) => (p === 'IMAGE_PULL_POLICY_UNSPECIFIED' ? 'IMAGE_PULL_POLICY_IF_NOT_PRESENT' : p))
  .default('IMAGE_PULL_POLICY_IF_NOT_PRESENT');

/** OCI digest grammar (image-spec `descriptor.md`): `algorithm:encoded`. */
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

const sourceFields = {
  file: nonEmptyString('a path to a .wasm file').optional(),
  bytes: z
    .instanceof(Uint8Array, { error: 'bytes can only be given by an embedding program; a manifest uses "file" or "image"' })
    .optional(),
  image: nonEmptyString('an OCI reference such as ghcr.io/org/app:1.0').regex(/^\S+$/).optional(),
  localResources,
  imagePullSecret: imagePullSecret.optional(),
  imagePullPolicy,
};
const oneSource = exactlyOne(['file', 'image', 'bytes']);
// Fields people write on a component or service itself although they belong to its resources.
const resourceFields = Object.fromEntries(
  ['memoryLimitMb', 'cpuLimit', 'timeout', 'config', 'environment', 'volumeMounts', 'allowedHosts', 'allowedIpNameLookups', 'allowedHostLoopbackPorts'].map((f) => [f, `localResources.${f}`]),
);
// The refinement has checked that exactly one source is set; say so to the type system.
const withSource = <T>(value: T) => value as T & ComponentSource;

const component = message('a component', {
  name: nonEmptyString(),
  ...sourceFields,
  digest: string('an OCI digest such as sha256:<64 hex digits>').regex(DIGEST).optional(),
  poolSize: integer(0, INT32_MAX).default(0),
  maxInvocations: integer(0, INT32_MAX).default(0),
  reclaimWindowSeconds: integer(0, INT32_MAX).default(0),
  reclaimMinInstances: integer(0, INT32_MAX).default(0),
  // Any count is a permission this host honours by serving one call per instance (README).
  maxConcurrency: integer(0, INT32_MAX).default(0),
}, resourceFields)
  .superRefine(oneSource, always)
  .transform(withSource);

const service = message('a service', { ...sourceFields, maxRestarts: integer(0).default(0) }, resourceFields)
  .superRefine(oneSource, always)
  .transform(withSource);

const witInterfaceObject = message('a host interface (ns:pkg/iface@version, or a map)', {
  namespace: string(),
  package: string(),
  interfaces: list(string()),
  version: string().default(''),
  config: stringMap().default(emptyMap),
  name: string().optional(),
}).superRefine((w, ctx) => {
  for (const { path, message } of witInterfaceErrors(w)) ctx.addIssue({ code: 'custom', path, message, input: w });
});

/** A host interface as the string `ns:pkg/iface1,iface2@version` or as a WitInterface map. */
const hostInterface = z.preprocess((value, ctx) => {
  if (typeof value !== 'string') return value;
  const result = checkWitInterface(value);
  if ('value' in result) return result.value;
  ctx.addIssue({ code: 'custom', input: value, message: result.error });
  return value;
}, witInterfaceObject);

const volume = message('a volume', {
  name: nonEmptyString(),
  hostPath: message('a host path volume', { localPath: nonEmptyString('a directory path') }).optional(),
  emptyDir: message('an empty directory volume', {})
    .transform((): EmptyDirVolume => ({}))
    .optional(),
})
  .superRefine(exactlyOne(['hostPath', 'emptyDir'], ' (an empty directory is written `emptyDir: {}`)'), always)
  .transform((v) => v as Volume);

export const workloadSchema: z.ZodType<Workload, unknown> = message('a workload', {
  namespace: nonEmptyString().default('default'),
  name: nonEmptyString(),
  annotations: stringMap().default(emptyMap),
  service: service.optional(),
  witWorld: message('a WIT world', {
    components: list(component).default(emptyList),
    hostInterfaces: list(hostInterface).default(emptyList),
  }).prefault({}),
  volumes: list(volume).default(emptyList),
}, { components: 'witWorld.components', hostInterfaces: 'witWorld.hostInterfaces' }).superRefine(checkWorkloadRules, always);
