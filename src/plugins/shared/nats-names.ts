/**
 * Names of the JetStream stores behind the NATS backends (key-value buckets, object stores), one
 * policy for every plugin. JetStream allows only `[A-Za-z0-9_-]` in such a name, so:
 *
 *   store name = prefix + (isolation 'workload': encode(scope) + '_') + encode(name)
 *
 * `encode` keeps ASCII letters and digits and writes every other UTF-8 byte as `-XX` (upper-case
 * hex), `-` and `_` included. An encoded part therefore never holds `_`: after the prefix, the
 * first `_` ends the scope, a name with no `_` after the prefix is a shared one, and two different
 * (scope, name) pairs never meet on one store name for a given prefix. `decodeNatsName` is the
 * inverse. Strings that are not well-formed UTF-16 (lone surrogates) have no UTF-8 form and are
 * refused rather than merged into U+FFFD.
 *
 * No JetStream client is imported here: the naming is plain text, testable without a server.
 */
import { splitStorageName } from './storage-scope.ts';

/**
 * 'workload': each workload (its scope, `<namespace>/<name>`, the same across restarts and
 * replicas) has its own stores. 'shared': workloads that name the same store share it.
 */
export type NatsIsolation = 'workload' | 'shared';

/** Stream names are at most 255 characters; the longest stream prefix the clients add is `OBJ_`. */
export const MAX_NATS_STORE_NAME_LENGTH = 255 - 'OBJ_'.length;

const KEPT = /^[A-Za-z0-9]$/;
const ENCODED = /^(?:[A-Za-z0-9]|-[0-9A-F]{2})*$/;
const PREFIX = /^[A-Za-z0-9_-]*$/;

/** `text` in JetStream's store-name alphabet, reversibly; undefined when `text` is not well-formed. */
export function encodeNatsName(text: string): string | undefined {
  if (!text.isWellFormed()) return undefined;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += KEPT.test(char) ? char : `-${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The text `encodeNatsName` made `name` from, or undefined when `name` is not such an encoding. */
export function decodeNatsName(name: string): string | undefined {
  if (!ENCODED.test(name)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '-') {
      bytes.push(Number.parseInt(name.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(name.charCodeAt(i));
    }
  }
  const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(new Uint8Array(bytes));
  // Only the one canonical spelling counts (invalid UTF-8 would come back changed).
  return encodeNatsName(text) === name ? text : undefined;
}

/** Why `prefix` cannot start store names, or undefined when it can. */
export function natsPrefixProblem(prefix: string): string | undefined {
  if (!PREFIX.test(prefix)) return `bucket prefix ${JSON.stringify(prefix)} may hold only A-Z, a-z, 0-9, "_" and "-"`;
  if (prefix.length > MAX_NATS_STORE_NAME_LENGTH - 1) return `bucket prefix ${JSON.stringify(prefix.slice(0, 64))} is too long`;
  return undefined;
}

/**
 * The store name for `name` as `scope` sees it (see the module comment), or a reason it has none:
 * not well-formed Unicode, or longer than JetStream allows once encoded.
 */
export function natsStoreName(prefix: string, isolation: NatsIsolation, scope: string, name: string): { name: string } | { problem: string } {
  const encodedName = encodeNatsName(name);
  if (encodedName === undefined) return { problem: 'it is not well-formed Unicode' };
  let storeName = prefix + encodedName;
  if (isolation === 'workload') {
    const encodedScope = encodeNatsName(scope);
    if (encodedScope === undefined) return { problem: `the workload scope ${JSON.stringify(scope)} is not well-formed Unicode` };
    storeName = prefix + encodedScope + '_' + encodedName;
  }
  if (storeName.length > MAX_NATS_STORE_NAME_LENGTH) {
    return { problem: `too long for NATS once encoded (${storeName.length} of at most ${MAX_NATS_STORE_NAME_LENGTH} characters)` };
  }
  return { name: storeName };
}

/**
 * Where each store of one NATS backend lives. The plugins name a workload's buckets and
 * containers (`shared/storage-scope.ts`), and the backend calls its store `prefix` +
 * encode(that name), but before the plugins named them the backends put the workload's scope
 * into the store name itself (`prefix` + encode(scope) + `_` + encode(name)). So that such data
 * is still found, a name the policy made for a workload (split by `splitStorageName`, the one
 * place that knows how such a name is built) is looked up under that older store name too, once,
 * when no store of the current name exists: an existing older store is used from then on.
 */
export class NatsStoreNames {
  readonly #prefix: string;
  readonly #exists: (store: string) => Promise<boolean>;
  /** Name -> the store it lives in (current or older). */
  readonly #known = new Map<string, string>();

  /** `exists` asks the server whether the store of that name exists. */
  constructor(prefix: string, exists: (store: string) => Promise<boolean>) {
    this.#prefix = prefix;
    this.#exists = exists;
  }

  /** The store `name` lives in, `current` being its store name under today's naming. */
  async resolve(name: string, current: string): Promise<string> {
    const known = this.#known.get(name);
    if (known !== undefined) return known;
    const older = olderStoreName(this.#prefix, name);
    let chosen = current;
    if (older !== undefined && older !== current && !(await this.#exists(current)) && (await this.#exists(older))) chosen = older;
    this.#known.set(name, chosen);
    return chosen;
  }

  /** Looks `name` up again next time (its store was deleted: a new one gets today's name). */
  forget(name: string): void {
    this.#known.delete(name);
  }

  clear(): void {
    this.#known.clear();
  }
}

/** The store name an older version gave a workload's `name`, or undefined when `name` is not a workload's. */
function olderStoreName(prefix: string, name: string): string | undefined {
  const parts = splitStorageName(name);
  if (!parts) return undefined;
  const result = natsStoreName(prefix, 'workload', `${parts.namespace}/${parts.name}`, parts.bucket);
  return 'name' in result ? result.name : undefined;
}

/** How long a JetStream backend call may wait for NATS without an answer, by default. */
export const DEFAULT_NATS_TIMEOUT_MS = 5000;

/** What the JetStream key-value and blobstore backends are configured with alike. */
export interface NatsStoreSettings {
  bucketPrefix: string;
  isolation: NatsIsolation;
  timeoutMs: number;
  replicas: number;
}

/** The shared settings with their defaults; a bad one throws a RangeError naming `backend`. */
export function natsStoreSettings(backend: string, options: Partial<NatsStoreSettings>): NatsStoreSettings {
  const settings: NatsStoreSettings = {
    bucketPrefix: options.bucketPrefix ?? '',
    isolation: options.isolation ?? 'workload',
    timeoutMs: options.timeoutMs ?? DEFAULT_NATS_TIMEOUT_MS,
    replicas: options.replicas ?? 1,
  };
  const prefixProblem = natsPrefixProblem(settings.bucketPrefix);
  if (prefixProblem) throw new RangeError(`${backend}: ${prefixProblem}`);
  if (settings.isolation !== 'workload' && settings.isolation !== 'shared') {
    throw new RangeError(`${backend}: isolation must be "workload" or "shared", not ${JSON.stringify(settings.isolation)}`);
  }
  checkSetting(backend, 'timeoutMs', settings.timeoutMs, 1);
  checkSetting(backend, 'replicas', settings.replicas, 1);
  return settings;
}

export function checkSetting(backend: string, name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${backend}: ${name} must be an integer of at least ${min}`);
}
