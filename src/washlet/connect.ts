/**
 * A NATS connection for a long-running host: the reference's options (TLS CA, client
 * certificate, TLS-first handshake) plus a credentials file, reconnecting for as long as the
 * host runs rather than giving up after a few tries.
 */
import { readFile } from 'node:fs/promises';
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { UsageError } from '../errors.ts';

export interface NatsConnectOptions {
  /** Shown by the server (`nats server report connections`). */
  name?: string;
  /** PEM file of the CA that signed the server's certificate. */
  tlsCa?: string;
  /** PEM client certificate and key, for servers that verify clients. */
  tlsCert?: string;
  tlsKey?: string;
  /** TLS before the NATS protocol's INFO (servers configured with `handshake_first`). */
  tlsFirst?: boolean;
  /** A `.creds` file (user JWT and NKey seed). */
  creds?: string;
}

/** Connects to `url` (or a comma-separated list of servers); fails with the server named. */
export async function connectNats(url: string, options: NatsConnectOptions = {}): Promise<NatsConnection> {
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new UsageError(`NATS ${url}: a TLS client certificate and its key go together`);
  }
  const servers = url.split(',').map((s) => s.trim()).filter(Boolean);
  const tls = options.tlsCa || options.tlsCert || options.tlsFirst
    ? { caFile: options.tlsCa, certFile: options.tlsCert, keyFile: options.tlsKey, handshakeFirst: options.tlsFirst || undefined }
    : undefined;
  const connectOptions: NodeConnectionOptions = {
    servers,
    name: options.name,
    tls,
    maxReconnectAttempts: -1,
  };
  if (options.creds) {
    let creds: Uint8Array;
    try {
      creds = await readFile(options.creds);
    } catch (err) {
      throw new UsageError(`cannot read NATS credentials ${options.creds}: ${(err as Error).message}`, { cause: err });
    }
    connectOptions.authenticator = credsAuthenticator(creds);
  }
  try {
    return await connect(connectOptions);
  } catch (err) {
    throw new UsageError(`cannot connect to NATS at ${url}: ${(err as Error).message}`, {
      cause: err,
      hint: 'check that the server runs and the URL, TLS and credential options are right',
    });
  }
}
