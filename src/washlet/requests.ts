/**
 * The operator's requests off the wire: proto3 JSON (lowerCamelCase or snake_case names, enums
 * by name, integers as numbers or strings, `bytes` as base64), checked as strictly as a
 * manifest: an unknown field is an error that names it, not something silently ignored. Every
 * problem of a request is reported at once, at the path the request used.
 */
import * as z from 'zod';
import { WasmhostError } from '../errors.ts';
import { formatPath, isRecord, message, nonEmptyString } from '../workload/proto-json.ts';
import type { Workload } from '../workload/types.ts';
import { checkWorkload, type WorkloadIssue } from '../workload/validate.ts';

/** A request the host cannot act on: not JSON, a wrong field, an invalid workload. */
export class InvalidRequestError extends WasmhostError {
  override readonly code = 'WASMHOST_INVALID_REQUEST';
  readonly issues: readonly WorkloadIssue[];
  /** The id the request named, when it named one: the answer echoes it. */
  readonly workloadId: string;
  constructor(what: string, issues: WorkloadIssue[], workloadId = '') {
    const lines = issues.map((i) => (i.path.length ? `${formatPath(i.path)}: ${i.message}` : i.message));
    super(lines.length === 1 && issues[0].path.length === 0 ? `invalid ${what}: ${lines[0]}` : `invalid ${what}:${lines.map((l) => `\n  ${l}`).join('')}`);
    this.issues = issues;
    this.workloadId = workloadId;
  }
}

export interface StartRequest {
  workloadId: string;
  workload: Workload;
}

const idRequest = (what: string) => message(what, { workloadId: nonEmptyString('a workload id') });
const statusRequest = idRequest('a workload status request');
const stopRequest = idRequest('a workload stop request');
// The workload is checked on its own below, so its issues keep the spelling the request used.
const startRequest = message('a workload start request', { workloadId: nonEmptyString('a workload id'), workload: z.unknown().optional() });

/** The request's JSON document; an empty or non-JSON payload is an InvalidRequestError. */
export function parseJson(payload: Uint8Array, what: string): unknown {
  if (payload.length === 0) throw new InvalidRequestError(what, [{ path: [], message: 'the payload is empty (expected a JSON object)' }]);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    throw new InvalidRequestError(what, [{ path: [], message: 'the payload is not UTF-8 text (expected a JSON object)' }]);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidRequestError(what, [{ path: [], message: `the payload is not JSON (${(err as Error).message})` }]);
  }
}

function issuesOf(error: z.ZodError): WorkloadIssue[] {
  return error.issues.map((i) => ({ path: i.path.filter((k) => typeof k !== 'symbol') as (string | number)[], message: i.message }));
}

/** `WorkloadStatusRequest` / `WorkloadStopRequest`: `{workloadId}`. */
export function decodeIdRequest(payload: Uint8Array, command: 'workload.status' | 'workload.stop'): { workloadId: string } {
  const what = `${command} request`;
  const value = parseJson(payload, what);
  const result = (command === 'workload.status' ? statusRequest : stopRequest).safeParse(value);
  if (!result.success) throw new InvalidRequestError(what, issuesOf(result.error), workloadIdOf(value));
  return result.data;
}

/** `WorkloadStartRequest`: `{workloadId, workload}`, the workload complete with its defaults. */
export function decodeStartRequest(payload: Uint8Array): StartRequest {
  const what = 'workload.start request';
  const value = parseJson(payload, what);
  const envelope = startRequest.safeParse(value);
  const issues = envelope.success ? [] : issuesOf(envelope.error);
  const raw = envelope.success ? envelope.data.workload : isRecord(value) ? value.workload : undefined;
  let workload: Workload | undefined;
  if (raw === undefined || raw === null) {
    if (!issues.some((i) => i.path[0] === 'workload')) issues.push({ path: ['workload'], message: 'missing (expected a workload)' });
  } else {
    const undecodable = base64Sources(raw);
    const same = (a: WorkloadIssue['path'], b: WorkloadIssue['path']) => formatPath(a) === formatPath(b);
    const checked = checkWorkload(raw);
    // A `bytes` that is not base64 stays a string, which the schema would also refuse: say it once.
    const schemaIssues = 'issues' in checked ? checked.issues.filter((i) => !undecodable.some((u) => same(u.path, i.path))) : [];
    issues.push(...[...undecodable, ...schemaIssues].map((i) => ({ ...i, path: ['workload', ...i.path] })));
    if ('workload' in checked) workload = checked.workload;
  }
  if (issues.length > 0 || !envelope.success || workload === undefined) throw new InvalidRequestError(what, issues, workloadIdOf(value));
  return { workloadId: envelope.data.workloadId, workload };
}

function workloadIdOf(value: unknown): string {
  if (!isRecord(value)) return '';
  const id = value.workloadId ?? value.workload_id;
  return typeof id === 'string' ? id : '';
}

/**
 * proto3 JSON carries `bytes` as base64 (standard or URL-safe, padding optional); the workload
 * schema wants a Uint8Array. Decodes the component and service `bytes` in place and reports
 * any that are not base64.
 */
function base64Sources(workload: unknown): WorkloadIssue[] {
  if (!isRecord(workload)) return [];
  const issues: WorkloadIssue[] = [];
  const decode = (holder: unknown, path: (string | number)[]) => {
    if (!isRecord(holder) || typeof holder.bytes !== 'string') return;
    const text = holder.bytes.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) {
      issues.push({ path: [...path, 'bytes'], message: 'expected base64 (proto3 JSON bytes)' });
      return;
    }
    holder.bytes = new Uint8Array(Buffer.from(text, 'base64'));
  };
  const world = workload.witWorld ?? workload.wit_world;
  const worldKey = Object.hasOwn(workload, 'witWorld') ? 'witWorld' : 'wit_world';
  if (isRecord(world) && Array.isArray(world.components)) world.components.forEach((c, i) => decode(c, [worldKey, 'components', i]));
  decode(workload.service, ['service']);
  return issues;
}
