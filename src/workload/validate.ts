/**
 * A decoded workload (from a manifest, from code, or off the wire) into a complete `Workload`,
 * every problem reported at once and at the path the input used (snake_case stays snake_case).
 */
import { resolve } from 'node:path';
import { ManifestError } from '../errors.ts';
import { camelCase, formatPath, isRecord } from './proto-json.ts';
import { workloadSchema } from './schema.ts';
import type { Component, Service, Workload } from './types.ts';

export interface ValidateOptions {
  /** Relative `file` and host paths are resolved against it (default: the working directory). */
  baseDir?: string;
  /** Where the workload came from, for the error message: a file path, "the start request". */
  source?: string;
}

export interface WorkloadIssue {
  path: (string | number)[];
  message: string;
}

export function checkWorkload(value: unknown): { workload: Workload } | { issues: WorkloadIssue[] } {
  const result = workloadSchema.safeParse(value);
  if (result.success) return { workload: result.data };
  return { issues: result.error.issues.map((i) => ({ path: asWritten(value, i.path), message: i.message })) };
}

/** Validates and fills in defaults; throws a ManifestError listing every problem. */
export function validateWorkload(value: unknown, options: ValidateOptions = {}): Workload {
  const result = checkWorkload(value);
  if ('issues' in result) {
    throw new ManifestError(result.issues.map((i) => ({ path: formatPath(i.path), message: i.message })), { source: options.source });
  }
  return resolvePaths(result.workload, options.baseDir ?? process.cwd());
}

/** Component and service files and host-path volumes, made absolute against `baseDir`. */
export function resolvePaths(workload: Workload, baseDir: string): Workload {
  const source = <T extends Component | Service>(c: T): T => (c.file === undefined ? c : { ...c, file: resolve(baseDir, c.file) });
  return {
    ...workload,
    ...(workload.service && { service: source(workload.service) }),
    witWorld: { ...workload.witWorld, components: workload.witWorld.components.map(source) },
    volumes: workload.volumes.map((v) => (v.hostPath ? { ...v, hostPath: { localPath: resolve(baseDir, v.hostPath.localPath) } } : v)),
  };
}

/** The schema's (camelCase) path spelled as the input spelled it. */
function asWritten(input: unknown, path: readonly PropertyKey[]): (string | number)[] {
  const written: (string | number)[] = [];
  let node = input;
  for (const segment of path) {
    let key = typeof segment === 'number' ? segment : String(segment);
    if (typeof key === 'string' && isRecord(node) && !Object.hasOwn(node, key)) {
      key = Object.keys(node).find((k) => camelCase(k) === key) ?? key;
    }
    written.push(key);
    node = isRecord(node) && typeof key === 'string' ? node[key] : Array.isArray(node) && typeof key === 'number' ? node[key] : undefined;
  }
  return written;
}
