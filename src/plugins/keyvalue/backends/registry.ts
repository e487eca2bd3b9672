import { join } from 'node:path';
import { required, strictConfig, type BackendRegistry } from '../../shared/backends.ts';
import type { KeyValueBackend } from '../backend.ts';
import { FilesystemKeyValueBackend } from './filesystem.ts';
import { MemoryKeyValueBackend } from './memory.ts';
import { NatsKeyValueBackend } from './nats.ts';
import { PostgresKeyValueBackend } from './postgres.ts';

/** The key-value backends by name; one line adds one. Clients load on first use, not here. */
export const keyValueBackends: BackendRegistry<KeyValueBackend> = [
  { type: 'memory', parseConfig: (c) => strictConfig('key-value backend memory', c, []), create: () => new MemoryKeyValueBackend() },
  {
    type: 'filesystem',
    parseConfig: (c) => strictConfig('key-value backend filesystem', c, ['root']),
    create: (c, r) => new FilesystemKeyValueBackend({ root: c.root ?? join(required('the filesystem key-value backend', r.dataDir, 'a data folder or a root'), 'keyvalue') }),
  },
  {
    type: 'nats',
    parseConfig: (c) => strictConfig('key-value backend nats', c, []),
    create: (_, r) => new NatsKeyValueBackend({ connection: required('the NATS key-value backend', r.nats, 'a NATS connection') }),
  },
  {
    type: 'postgres',
    parseConfig: (c) => strictConfig('key-value backend postgres', c, []),
    create: (_, r) => new PostgresKeyValueBackend({ pool: required('the PostgreSQL key-value backend', r.postgres, 'a PostgreSQL pool') }),
  },
];
