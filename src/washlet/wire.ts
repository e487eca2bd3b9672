/**
 * The washlet's answers as proto3 canonical JSON, the way the reference's generated serializers
 * (pbjson) write `wasmcloud.runtime.v2` messages: lowerCamelCase names in field-number order,
 * enums by name, 64-bit integers as decimal strings, and every field at its default (empty
 * string, 0, false, empty map or list, enum zero) left out. The operator decodes them with a
 * strict proto3 JSON parser, so nothing outside the .proto may appear.
 */
import type { HostHeartbeat, WitInterface, WorkloadStatus } from '../workload/types.ts';

type JsonObject = Record<string, unknown>;

/** Writes a message's fields in order, skipping defaults. */
class Fields {
  readonly json: JsonObject = {};

  string(name: string, value: string): this {
    if (value !== '') this.json[name] = value;
    return this;
  }

  uint32(name: string, value: number): this {
    if (value !== 0) this.json[name] = unsigned(value, 2 ** 32 - 1, name);
    return this;
  }

  /** 64-bit: a decimal string, since JSON numbers lose precision past 2^53 in most parsers. */
  uint64(name: string, value: number | bigint): this {
    const n = typeof value === 'bigint' ? value : BigInt(unsigned(value, Number.MAX_SAFE_INTEGER, name));
    if (n !== 0n) this.json[name] = n.toString();
    return this;
  }

  /** proto3 JSON writes the non-finite floats as strings. */
  float(name: string, value: number): this {
    if (value === 0) return this;
    this.json[name] = Number.isNaN(value) ? 'NaN' : value === Infinity ? 'Infinity' : value === -Infinity ? '-Infinity' : value;
    return this;
  }

  /** `zero` is the enum's 0 value (`..._UNSPECIFIED`), which is the default and so left out. */
  enum(name: string, value: string, zero: string): this {
    if (value !== zero) this.json[name] = value;
    return this;
  }

  map(name: string, value: Readonly<Record<string, string>>): this {
    if (Object.keys(value).length > 0) this.json[name] = { ...value };
    return this;
  }

  list<T>(name: string, values: readonly T[], encode: (value: T) => unknown): this {
    if (values.length > 0) this.json[name] = values.map(encode);
    return this;
  }

  /** A message field is written whenever it is set, even when all its own fields are defaults. */
  message(name: string, value: JsonObject | undefined): this {
    if (value !== undefined) this.json[name] = value;
    return this;
  }

  timestamp(name: string, value: string | Date | undefined): this {
    if (value !== undefined) this.json[name] = rfc3339(value);
    return this;
  }
}

function unsigned(value: number, max: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${name}: ${value} is not an unsigned integer <= ${max}`);
  return value;
}

/**
 * RFC 3339 in UTC with a `Z`, fractional seconds only when there are any (proto3 JSON's
 * Timestamp form; a Date has milliseconds, so 0 or 3 digits).
 */
export function rfc3339(value: string | Date): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a timestamp: ${String(value)}`);
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

export function witInterfaceJson(i: WitInterface): JsonObject {
  return new Fields()
    .string('namespace', i.namespace)
    .string('package', i.package)
    .string('version', i.version)
    .list('interfaces', i.interfaces, String)
    .map('config', i.config)
    .string('name', i.name ?? '').json;
}

/** `wasmcloud.runtime.v2.HostHeartbeat`. */
export function heartbeatJson(hb: HostHeartbeat): JsonObject {
  return new Fields()
    .string('id', hb.id)
    .string('hostname', hb.hostname)
    .string('friendlyName', hb.friendlyName)
    .string('version', hb.version)
    .map('labels', hb.labels)
    .timestamp('startedAt', hb.startedAt)
    .string('osArch', hb.osArch)
    .string('osName', hb.osName)
    .string('osKernel', hb.osKernel)
    .float('systemCpuUsage', hb.systemCpuUsage)
    .uint64('systemMemoryTotal', hb.systemMemoryTotal)
    .uint64('systemMemoryFree', hb.systemMemoryFree)
    .uint64('componentCount', hb.componentCount)
    .uint64('workloadCount', hb.workloadCount)
    .list('imports', hb.imports, witInterfaceJson)
    .list('exports', hb.exports, witInterfaceJson)
    .uint32('httpPort', hb.httpPort)
    .string('environment', hb.environment).json;
}

/** `wasmcloud.runtime.v2.WorkloadStatus`. */
export function workloadStatusJson(status: WorkloadStatus): JsonObject {
  return new Fields()
    .string('workloadId', status.workloadId)
    .enum('workloadState', status.workloadState, 'WORKLOAD_STATE_UNSPECIFIED')
    .string('message', status.message).json;
}

/** `WorkloadStartResponse`, `WorkloadStatusResponse` and `WorkloadStopResponse` are all this shape. */
export function workloadResponseJson(response: { workloadStatus: WorkloadStatus }): JsonObject {
  return new Fields().message('workloadStatus', workloadStatusJson(response.workloadStatus)).json;
}

/**
 * The bytes on the wire. The reference publishes heartbeats compact (`serde_json::to_vec`) and
 * answers requests pretty-printed with two spaces (`to_vec_pretty`), which `JSON.stringify`
 * writes the same way.
 */
export function encode(message: JsonObject, style: 'compact' | 'pretty'): Uint8Array {
  return new TextEncoder().encode(style === 'pretty' ? JSON.stringify(message, null, 2) : JSON.stringify(message));
}
