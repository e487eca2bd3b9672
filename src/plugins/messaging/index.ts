export { messagingPlugin, type MessagingPluginOptions } from './plugin.ts';
export type { BrokerMessage, MessageHandler, MessagingBackend, Subscription } from './backend.ts';
export type { SubscribeOptions } from './backend.ts';
export { InMemoryBroker, type InMemoryBrokerOptions } from './backends/memory.ts';
export { BackendClosedError, InvalidSubjectError, NoRespondersError, RequestTimeoutError } from './errors.ts';
export { SUBSCRIPTIONS_KEY } from './subscriptions.ts';
export { NatsBroker, type NatsBrokerOptions } from './backends/nats.ts';
export { BackendUnavailableError, MessageTooLargeError } from './errors.ts';
export { queueGroupName } from './queue-group.ts';
