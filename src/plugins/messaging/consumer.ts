import type { BrokerMessage, MessagingBackend } from './backend.ts';

/**
 * `wasmcloud:messaging/consumer` for one component. Every failure (bad subject, no responders,
 * timeout, a backend down) is the guest's `result` error: a plain string it can handle.
 */
export function consumerFunctions(backend: MessagingBackend) {
  return {
    async request(subject: string, body: Uint8Array, timeoutMs: number): Promise<BrokerMessage> {
      try {
        const reply = await backend.request(subject, body, timeoutMs);
        return { subject: reply.subject, body: reply.body, replyTo: reply.replyTo };
      } catch (error) {
        throw errorText(error);
      }
    },
    async publish(msg: BrokerMessage): Promise<void> {
      try {
        await backend.publish({ subject: msg.subject, body: msg.body, replyTo: msg.replyTo });
      } catch (error) {
        throw errorText(error);
      }
    },
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
