/**
 * Backends chosen by name (Spin's runtime config: a `type` picks the implementation, registered
 * once): each capability has one registry of `{ type, parseConfig, create }`, and a host's
 * composition (`defaultPlugins`) picks from it. `parseConfig` reads a flat string map (flags, a
 * config file) strictly, so a typo fails before anything connects; `create` gets the connections
 * the host brings.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Pool } from 'pg';
import { UsageError } from '../../errors.ts';
import type { PluginWorkload } from '../../plugin/plugin.ts';

/** What the host brings its backends: where data goes, and the production connections. */
export interface BackendResources {
  /** Development backends on disk keep their data under this folder. */
  dataDir?: string;
  /** The data NATS connection (the caller owns it). */
  nats?: NatsConnection;
  /** A PostgreSQL pool (the caller owns it). */
  postgres?: Pool;
}

export interface BackendType<B, O = unknown> {
  /** The name it is chosen by: `memory`, `filesystem`, `nats`, `postgres`. */
  readonly type: string;
  /** Its options from a flat string map; an unknown key is an error. */
  parseConfig(config: Readonly<Record<string, string>>): O;
  create(options: O, resources: BackendResources): B;
}

export type BackendRegistry<B> = readonly BackendType<B, any>[];

/** The backend of type `type` from `registry`, made with `config` and the host's resources. */
export function createBackend<B>(
  capability: string,
  registry: BackendRegistry<B>,
  type: string,
  resources: BackendResources,
  config: Readonly<Record<string, string>> = {},
): B {
  const entry = registry.find((b) => b.type === type);
  if (!entry) throw new UsageError(`${capability}: no backend named "${type}"`, { hint: `backends: ${registry.map((b) => b.type).join(', ')}` });
  return entry.create(entry.parseConfig(config), resources);
}

/**
 * A capability's backends as one host offers them to its workloads: its default, and every other
 * type of the registry, made once on first use with the host's resources, for the workloads
 * whose interface config names one (`backend: nats`). `close` closes the ones it made, and the
 * default unless told it belongs to someone else.
 */
export class BackendChoice<B extends { close?(): Promise<void> }> {
  readonly default: B;
  readonly #capability: string;
  readonly #registry: BackendRegistry<B>;
  readonly #resources: BackendResources;
  readonly #made = new Map<string, B>();
  readonly #closesDefault: boolean;

  /**
   * `backend`: the default, made here from `registry` when given by type (a UsageError when it
   * cannot be). `closesDefault` (default true): whether `close` closes a default given as an
   * instance; one made here is always closed.
   */
  constructor(capability: string, registry: BackendRegistry<B>, resources: BackendResources, backend: B | string, closesDefault = true) {
    this.#capability = capability;
    this.#registry = registry;
    this.#resources = resources;
    if (typeof backend === 'string') {
      this.default = createBackend(capability, registry, backend, resources);
      this.#made.set(backend, this.default);
      this.#closesDefault = true;
    } else {
      this.default = backend;
      this.#closesDefault = closesDefault;
    }
  }

  /**
   * The backend of `workload`: the default when its config names none (`type` undefined), else
   * the one of that type. Failing, a UsageError that says whose config (`iface`, such as
   * `wasi:keyvalue`) and why, so the workload's start fails with it and the host keeps running.
   */
  forWorkload(workload: Pick<PluginWorkload, 'namespace' | 'name'>, iface: string, type: string | undefined): B {
    if (type === undefined) return this.default;
    try {
      return this.get(type);
    } catch (err) {
      throw new UsageError(`workload "${workload.namespace}/${workload.name}", ${iface} config backend: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * The backend of `type`, made on its first use. A UsageError says why there is none, in one
   * line a workload's start failure can carry: no such type (naming the known ones), or a
   * resource this host lacks.
   */
  get(type: string): B {
    const made = this.#made.get(type);
    if (made) return made;
    const entry = this.#registry.find((b) => b.type === type);
    if (!entry) throw new UsageError(`no backend named "${type}" (known: ${this.#registry.map((b) => b.type).join(', ')})`);
    let backend: B;
    try {
      backend = entry.create(entry.parseConfig({}), this.#resources);
    } catch (err) {
      throw new UsageError(`this host cannot offer the ${this.#capability} backend "${type}": ${(err as Error).message}`, { cause: err });
    }
    this.#made.set(type, backend);
    return backend;
  }

  async close(): Promise<void> {
    const all = new Set(this.#made.values());
    if (this.#closesDefault) all.add(this.default);
    this.#made.clear();
    await Promise.all([...all].map((b) => b.close?.()));
  }
}

/** `config` holds only `known` keys (else a located error). */
export function strictConfig(what: string, config: Readonly<Record<string, string>>, known: readonly string[]): Readonly<Record<string, string>> {
  for (const key of Object.keys(config)) {
    if (!known.includes(key)) throw new UsageError(`${what}: unknown config key "${key}"`, { hint: known.length ? `known keys: ${known.join(', ')}` : 'it takes none' });
  }
  return config;
}

/** A resource a backend cannot do without. */
export function required<T>(what: string, value: T | undefined, hint: string): T {
  if (value === undefined) throw new UsageError(`${what} needs ${hint}`);
  return value;
}
