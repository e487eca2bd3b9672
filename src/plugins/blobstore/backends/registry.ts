import { join } from 'node:path';
import { required, strictConfig, type BackendRegistry } from '../../shared/backends.ts';
import type { BlobstoreBackend } from '../backend.ts';
import { FilesystemBlobstoreBackend } from './filesystem.ts';
import { MemoryBlobstoreBackend } from './memory.ts';
import { NatsBlobstoreBackend } from './nats.ts';
import { PostgresBlobstoreBackend } from './postgres.ts';

/** The blobstore backends by name; one line adds one. Clients load on first use, not here. */
export const blobstoreBackends: BackendRegistry<BlobstoreBackend> = [
  { type: 'memory', parseConfig: (c) => strictConfig('blobstore backend memory', c, []), create: () => new MemoryBlobstoreBackend() },
  {
    type: 'filesystem',
    parseConfig: (c) => strictConfig('blobstore backend filesystem', c, ['root']),
    create: (c, r) => new FilesystemBlobstoreBackend({ root: c.root ?? join(required('the filesystem blobstore backend', r.dataDir, 'a data folder or a root'), 'blobstore') }),
  },
  {
    type: 'nats',
    parseConfig: (c) => strictConfig('blobstore backend nats', c, []),
    create: (_, r) => new NatsBlobstoreBackend({ connection: required('the NATS blobstore backend', r.nats, 'a NATS connection') }),
  },
  {
    type: 'postgres',
    parseConfig: (c) => strictConfig('blobstore backend postgres', c, []),
    create: (_, r) => new PostgresBlobstoreBackend({ pool: required('the PostgreSQL blobstore backend', r.postgres, 'a PostgreSQL pool') }),
  },
];
