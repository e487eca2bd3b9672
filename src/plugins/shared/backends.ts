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
