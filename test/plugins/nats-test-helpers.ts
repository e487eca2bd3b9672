/**
 * What the NATS backend tests share: connections to the test server, closed at the end, and a run
 * name that every store of the run starts with, so that the run deletes its own streams and
 * nothing of other suites on the shared server.
 */
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { NATS_URL } from '../services.ts';

export interface NatsTestRun {
  /** What every store name of this run starts with. */
  readonly run: string;
  /** A prefix of its own for one test, so that stores named alike in two tests never meet. */
  freshPrefix(): string;
  /** A new connection that reconnects for ever; closed by `cleanup`. */
  connectTo(): Promise<NatsConnection>;
  /** The one connection most tests share. */
  sharedConnection(): Promise<NatsConnection>;
  jsm(): Promise<JetStreamManager>;
  /** The sorted names of this run's streams whose store names start with `prefix`. */
  runStreams(prefix?: string): Promise<string[]>;
  /** Deletes this run's streams and closes every connection (for `after`). */
  cleanup(): Promise<void>;
}

/**
 * A run whose store names start with `tag` and a random part; its stores' streams are named
 * `streamPrefix` (`KV_`, `OBJ_`) then the store name.
 */
export function natsTestRun(tag: string, streamPrefix: string): NatsTestRun {
  const run = `${tag}${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  let prefixes = 0;
  const connections: NatsConnection[] = [];
  let shared: NatsConnection | undefined;
  let manager: JetStreamManager | undefined;

  async function connectTo(): Promise<NatsConnection> {
    const nc = await connect({ servers: NATS_URL, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    connections.push(nc);
    return nc;
  }
  async function sharedConnection(): Promise<NatsConnection> {
    shared ??= await connectTo();
    return shared;
  }
  async function jsm(): Promise<JetStreamManager> {
    manager ??= await jetstreamManager(await sharedConnection());
    return manager;
  }
  async function runStreams(prefix = run): Promise<string[]> {
    const names: string[] = [];
    for await (const name of (await jsm()).streams.names()) if (name.startsWith(`${streamPrefix}${prefix}`)) names.push(name);
    return names.sort();
  }

  return {
    run,
    freshPrefix: () => `${run}-${++prefixes}-`,
    connectTo,
    sharedConnection,
    jsm,
    runStreams,
    async cleanup() {
      if (shared) for (const name of await runStreams()) await manager!.streams.delete(name);
      for (const nc of connections) if (!nc.isClosed()) await nc.close();
    },
  };
}
