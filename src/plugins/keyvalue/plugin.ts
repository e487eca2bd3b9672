import { pluginInterface, type Implementations, type Plugin } from '../../plugin/plugin.ts';
import { KeyValueError, checkIdentifier, type KeyValueBackend } from './backend.ts';
import { Bucket, storeError, type BucketContext } from './bucket.ts';
import { keyValueConfig } from './config.ts';
import { BackendChoice, type BackendRegistry, type BackendResources } from '../shared/backends.ts';
import { keyValueBackends } from './backends/registry.ts';
import { STORAGE_ISOLATIONS, storageName, workloadNamePrefix, type StorageIsolation } from '../shared/storage-scope.ts';

export interface KeyValuePluginOptions {
  /** The host's backend: an instance, or a type of `registry` made with `resources`. */
  backend: KeyValueBackend | string;
  /**
   * What the backends a workload names by type (config `backend`), or `backend` given by type,
   * are made with; default none (then only `memory` can be chosen).
   */
  resources?: BackendResources;
  /** Where backend types are looked up; default `keyValueBackends`. */
  registry?: BackendRegistry<KeyValueBackend>;
  /**
   * How workloads are kept apart in the backend (`shared/storage-scope.ts`): 'workload', each
   * its own buckets, or 'shared', by bucket name. Default: the backend's `defaultIsolation`
   * (the filesystem store's is 'shared'), else 'workload'.
   */
  isolation?: StorageIsolation;
  /** Default `wasi-keyvalue`. */
  id?: string;
  /** Keys per `list-keys` page; default 1000. */
  listPageSize?: number;
}

/**
 * What the plugin keeps per workload (held by the host): its backend and how its names are
 * made, and whether it still runs, so that a call still running after its workload stopped
 * cannot recreate what the unbind released.
 */
export interface KeyValueState {
  readonly backend: KeyValueBackend;
  readonly isolation: StorageIsolation;
  live: boolean;
}

const VERSION = '0.2.0-draft';
/**
 * What `open("")` opens: components written for wasmCloud open the empty identifier as their
 * default bucket, which wash-runtime's backends accept. Here it is another name for `default`
 * (checked against config `buckets` and prefixed as `default`), so every backend can store it.
 */
const DEFAULT_BUCKET = 'default';
const DEFAULT_LIST_PAGE_SIZE = 1000;

/**
 * `wasi:keyvalue/store,atomics,batch@0.2.0-draft` over the host's backend, or the one a
 * workload's config names (`backend: nats`), made once on first use. The plugin names every
 * bucket (see `storageName`): with isolation 'workload', a workload's stable identity is part of
 * the name, so restarts and replicas share data and other workloads never see it. `open`
 * creates a bucket the backend does not have yet, unless config `buckets` restricts the
 * identifiers (see `config.ts`). When the last replica of a workload unbinds, a backend that
 * keeps data only in this process (memory) forgets that workload's buckets.
 */
export function keyValuePlugin(options: KeyValuePluginOptions): Plugin<KeyValueState> {
  const id = options.id ?? 'wasi-keyvalue';
  const pageSize = options.listPageSize ?? DEFAULT_LIST_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new RangeError(`${id}: listPageSize must be a positive integer`);
  if (options.isolation !== undefined && !STORAGE_ISOLATIONS.includes(options.isolation)) {
    throw new RangeError(`${id}: isolation must be "workload" or "shared", not ${JSON.stringify(options.isolation)}`);
  }
  const isolationOf = (b: KeyValueBackend): StorageIsolation => options.isolation ?? b.defaultIsolation ?? 'workload';
  const backends = new BackendChoice(id, options.registry ?? keyValueBackends, options.resources ?? {}, options.backend);

  return {
    id,
    imports: [pluginInterface(`wasi:keyvalue/store,atomics,batch@${VERSION}`)],

    onWorkloadBind(workload): KeyValueState {
      const config = keyValueConfig(id, workload.interfaces);
      const backend = backends.forWorkload(workload, 'wasi:keyvalue', config.backend);
      return { backend, isolation: isolationOf(backend), live: true };
    },

    onComponentBind(component, state): Implementations {
      const config = keyValueConfig(id, component.interfaces);
      const ctx: BucketContext = { backend: state.backend, pageSize, logger: component.logger };

      async function open(requested: string): Promise<Bucket> {
        try {
          if (!state.live) throw new KeyValueError('no-such-store', 'the workload is no longer running');
          const identifier = requested === '' ? DEFAULT_BUCKET : requested;
          if (config.buckets && !config.buckets.has(identifier)) {
            throw new KeyValueError('access-denied', `bucket ${JSON.stringify(identifier)} is not in the workload's config "buckets"`);
          }
          const shown = config.prefix + identifier;
          checkIdentifier(shown);
          const name = storageName(state.isolation, component.workload, shown);
          await state.backend.openBucket(name);
          return new Bucket(ctx, name, shown);
        } catch (err) {
          throw storeError(component.logger, `open ${JSON.stringify(requested)}`, err);
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
      // Every name of the workload starts with its identity, whichever replica opened it.
      if (workload.lastReplica && state.isolation === 'workload') await state.backend.dropBuckets?.(workloadNamePrefix(workload));
    },

    async stop() {
      await backends.close();
    },
  };
}
