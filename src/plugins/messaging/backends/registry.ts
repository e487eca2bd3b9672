import { required, strictConfig, type BackendRegistry } from '../../shared/backends.ts';
import type { MessagingBackend } from '../backend.ts';
import { InMemoryBroker } from './memory.ts';
import { NatsBroker } from './nats.ts';

/** The messaging backends by name; one line adds one. */
export const messagingBackends: BackendRegistry<MessagingBackend> = [
  { type: 'memory', parseConfig: (c) => strictConfig('messaging backend memory', c, []), create: () => new InMemoryBroker() },
  {
    type: 'nats',
    parseConfig: (c) => strictConfig('messaging backend nats', c, []),
    create: (_, r) => new NatsBroker({ connection: required('the NATS messaging backend', r.nats, 'a NATS connection') }),
  },
];
