/**
 * The washlet's NATS subjects, as the reference names them: an operator sends requests to
 * `runtime.host.<hostId>.<command>` and listens for heartbeats on `runtime.operator.heartbeat.<hostId>`.
 */
import { UsageError } from '../errors.ts';

export const HOST_API_PREFIX = 'runtime.host';
export const OPERATOR_API_PREFIX = 'runtime.operator';

/** The commands a host answers (the rest of the subject after the host id). */
export const COMMANDS = ['heartbeat', 'workload.start', 'workload.status', 'workload.stop'] as const;
export type Command = (typeof COMMANDS)[number];

/** What the host subscribes to: every command addressed to it. */
export const hostSubject = (hostId: string): string => `${HOST_API_PREFIX}.${hostId}.>`;

/** Where an operator sends one command to one host. */
export const rpcSubject = (hostId: string, command: string): string => `${HOST_API_PREFIX}.${hostId}.${command}`;

/** Where the host publishes its heartbeat. */
export const heartbeatSubject = (hostId: string): string => `${OPERATOR_API_PREFIX}.heartbeat.${hostId}`;

/**
 * A host id is one subject token: operators subscribe to `runtime.operator.heartbeat.*`-style
 * patterns and split request subjects on dots, so an id with a dot or a wildcard would be misread.
 */
export function checkHostId(hostId: string): string {
  if (!/^[^\s.*>]+$/.test(hostId)) {
    throw new UsageError(`invalid host id ${JSON.stringify(hostId)}: it must be one NATS subject token`, {
      hint: 'use letters, digits, "-" or "_" (no dots, spaces, "*" or ">")',
    });
  }
  return hostId;
}

/** The command of a request subject, or undefined when the subject is not addressed to this host. */
export function commandOf(subject: string, hostId: string): string | undefined {
  const prefix = `${HOST_API_PREFIX}.${hostId}.`;
  return subject.startsWith(prefix) ? subject.slice(prefix.length) : undefined;
}
