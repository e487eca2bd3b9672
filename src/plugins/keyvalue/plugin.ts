import { pluginInterface, type Implementations, type Plugin } from '../../plugin/plugin.ts';
import { KeyValueError, type KeyValueBackend } from './backend.ts';
import { Bucket, storeError, type BucketContext } from './bucket.ts';
import { keyValueConfig } from './config.ts';
import { storageScope, type StorageState } from '../shared/storage-scope.ts';

export interface KeyValuePluginOptions {
  backend: KeyValueBackend;
  /** Default `wasi-keyvalue`. */
  id?: string;
  /** Keys per `list-keys` page; default 1000. */
  listPageSize?: number;
}

const VERSION = '0.2.0-draft';
const DEFAULT_LIST_PAGE_SIZE = 1000;

/**
 * `wasi:keyvalue/store,atomics,batch@0.2.0-draft` over one backend. Each workload is its own
 * scope (`namespace/name`, see `storageScope`), held in its state; `open` creates a bucket the
 * backend does not have yet, unless config `buckets` restricts the identifiers (see `config.ts`).
 * When the last replica of a workload unbinds, its scope is dropped.
 */
export function keyValuePlugin(options: KeyValuePluginOptions): Plugin<StorageState> {
  const { backend } = options;
  const id = options.id ?? 'wasi-keyvalue';
  const pageSize = options.listPageSize ?? DEFAULT_LIST_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new RangeError(`${id}: listPageSize must be a positive integer`);

  return {
    id,
    imports: [pluginInterface(`wasi:keyvalue/store,atomics,batch@${VERSION}`)],

    onWorkloadBind(workload): StorageState {
      keyValueConfig(id, workload.interfaces);
      return { scope: storageScope(workload), live: true };
    },

    onComponentBind(component, state): Implementations {
      const config = keyValueConfig(id, component.interfaces);
      const { scope } = state;
      const ctx: BucketContext = { backend, scope, pageSize, logger: component.logger };

      async function open(identifier: string): Promise<Bucket> {
        try {
          if (!state.live) throw new KeyValueError('no-such-store', 'the workload is no longer running');
          if (config.buckets && !config.buckets.has(identifier)) {
            throw new KeyValueError('access-denied', `bucket ${JSON.stringify(identifier)} is not in the workload's config "buckets"`);
          }
          const name = config.prefix + identifier;
          await backend.openBucket(scope, name);
          return new Bucket(ctx, name);
        } catch (err) {
          throw storeError(component.logger, `open ${JSON.stringify(identifier)}`, err);
        }
      }

      return {
        [`wasi:keyvalue/store@${VERSION}`]: { open, Bucket },
        [`wasi:keyvalue/atomics@${VERSION}`]: {
          increment: (bucket: Bucket, key: string, delta: bigint) => bucket.increment(key, delta),
        },
        [`wasi:keyvalue/batch@${VERSION}`]: {
          getMany: (bucket: Bucket, keys: string[]) => bucket.getMany(keys),
          setMany: (bucket: Bucket, entries: [string, Uint8Array][]) => bucket.setMany(entries),
          deleteMany: (bucket: Bucket, keys: string[]) => bucket.deleteMany(keys),
        },
      };
    },

    async onWorkloadUnbind(workload, state) {
      state.live = false;
      if (workload.lastReplica) await backend.dropScope(state.scope);
    },

    async stop() {
      await backend.close?.();
    },
  };
}
