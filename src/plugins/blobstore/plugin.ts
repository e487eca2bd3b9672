import { pluginInterface, type Implementations, type Plugin } from '../../plugin/plugin.ts';
import { BlobstoreError, checkName, type BlobstoreBackend } from './backend.ts';
import { blobstoreConfig } from './config.ts';
import { STORAGE_ISOLATIONS, workloadNamePrefix, type StorageIsolation } from '../shared/storage-scope.ts';
import { BackendChoice, type BackendRegistry, type BackendResources } from '../shared/backends.ts';
import { blobstoreBackends } from './backends/registry.ts';
import { Container, StreamObjectNames } from './container.ts';
import { BlobContext } from './context.ts';
import { IncomingValue, OutgoingValue } from './values.ts';

export interface BlobstorePluginOptions {
  /** The host's backend: an instance, or a type of `registry` made with `resources`. */
  backend: BlobstoreBackend | string;
  /**
   * What the backends a workload names by type (config `backend`), or `backend` given by type,
   * are made with; default none (then only `memory` can be chosen).
   */
  resources?: BackendResources;
  /** Where backend types are looked up; default `blobstoreBackends`. */
  registry?: BackendRegistry<BlobstoreBackend>;
  /**
   * How workloads are kept apart in the backend (`shared/storage-scope.ts`): 'workload', each
   * its own containers, or 'shared', by container name. Default: the backend's
   * `defaultIsolation` (the filesystem store's is 'shared'), else 'workload'.
   */
  isolation?: StorageIsolation;
  /** Default `wasi-blobstore`. */
  id?: string;
}

/**
 * What the plugin keeps per workload (held by the host): its backend and how its names are
 * made, and whether it still runs, so that a call still running after its workload stopped
 * cannot recreate what the unbind released.
 */
export interface BlobstoreState {
  readonly backend: BlobstoreBackend;
  readonly isolation: StorageIsolation;
  live: boolean;
}

const VERSION = '0.2.0-draft';

/** `wasi:blobstore` `object-id`. */
interface ObjectId {
  container: string;
  object: string;
}

/**
 * `wasi:blobstore/blobstore,container,types@0.2.0-draft` over the host's backend, or the one a
 * workload's config names (`backend: nats`), made once on first use. The plugin names every
 * container (see `storageName`): with isolation 'workload', a workload's stable identity is part
 * of the name, so restarts and replicas share data and other workloads never see it; the guest
 * sees only its own names. Config `buckets` and `read_only` limit what a workload may do (see
 * `config.ts`). When the last replica of a workload unbinds, a backend that keeps data only in
 * this process (memory) forgets that workload's containers. The output and input streams handed
 * out are WASI's own `wasi:io` resources.
 */
export function blobstorePlugin(options: BlobstorePluginOptions): Plugin<BlobstoreState> {
  const id = options.id ?? 'wasi-blobstore';
  if (options.isolation !== undefined && !STORAGE_ISOLATIONS.includes(options.isolation)) {
    throw new RangeError(`${id}: isolation must be "workload" or "shared", not ${JSON.stringify(options.isolation)}`);
  }
  const isolationOf = (b: BlobstoreBackend): StorageIsolation => options.isolation ?? b.defaultIsolation ?? 'workload';
  const backends = new BackendChoice(id, options.registry ?? blobstoreBackends, options.resources ?? {}, options.backend);
  /** `new-outgoing-value` takes no arguments, so a backend's size limit comes with the class: one per backend. */
  const valueClasses = new Map<BlobstoreBackend, typeof OutgoingValue>();
  const outgoingValueOf = (b: BlobstoreBackend): typeof OutgoingValue => {
    let limited = valueClasses.get(b);
    if (!limited) {
      limited = class LimitedOutgoingValue extends OutgoingValue {
        static newOutgoingValue(): OutgoingValue {
          return new LimitedOutgoingValue(b.maxObjectSize);
        }
      };
      valueClasses.set(b, limited);
    }
    return limited;
  };

  return {
    id,
    imports: [pluginInterface(`wasi:blobstore/blobstore,container,types@${VERSION}`)],

    onWorkloadBind(workload): BlobstoreState {
      const config = blobstoreConfig(id, workload.interfaces);
      const backend = backends.forWorkload(workload, 'wasi:blobstore', config.backend);
      return { backend, isolation: isolationOf(backend), live: true };
    },

    onComponentBind(component, state): Implementations {
      const b = state.backend;
      const ctx = new BlobContext(b, state.isolation, component.workload, blobstoreConfig(id, component.interfaces), component.logger);

      /** Runs a blobstore-level call on the guest's `containers` after the checks every one of them shares. */
      const call = <T>(operation: string, containers: string[], writes: boolean, fn: () => Promise<T>): Promise<T> =>
        ctx.call(operation, containers, async () => {
          if (!state.live) throw new BlobstoreError('the workload is no longer running');
          for (const name of containers) ctx.checkAllowed(name);
          if (writes) ctx.checkWritable(operation);
          return fn();
        });
      /** An object id as the backend names it. */
      const stored = (ref: ObjectId): ObjectId => ({ container: ctx.stored(ref.container), object: ref.object });

      const blobstore = {
        createContainer: (name: string) =>
          call('create-container', [name], true, async () => {
            await b.createContainer(ctx.stored(name));
            return new Container(ctx, name);
          }),
        getContainer: (name: string) =>
          call('get-container', [name], false, async () => {
            await b.containerInfo(ctx.stored(name));
            return new Container(ctx, name);
          }),
        deleteContainer: (name: string) => call('delete-container', [name], true, () => b.deleteContainer(ctx.stored(name))),
        containerExists: (name: string) => call('container-exists', [name], false, () => b.containerExists(ctx.stored(name))),
        copyObject: (src: ObjectId, dest: ObjectId) =>
          call('copy-object', [src.container, dest.container], true, () => {
            checkName('object', dest.object);
            return b.copyObject(stored(src), stored(dest));
          }),
        moveObject: (src: ObjectId, dest: ObjectId) =>
          call('move-object', [src.container, dest.container], true, () => {
            checkName('object', dest.object);
            return b.moveObject(stored(src), stored(dest));
          }),
      };

      return {
        [`wasi:blobstore/blobstore@${VERSION}`]: blobstore,
        [`wasi:blobstore/container@${VERSION}`]: { Container, StreamObjectNames },
        [`wasi:blobstore/types@${VERSION}`]: { OutgoingValue: outgoingValueOf(b), IncomingValue },
      };
    },

    async onWorkloadUnbind(workload, state) {
      state.live = false;
      // Every name of the workload starts with its identity, whichever replica made it.
      if (workload.lastReplica && state.isolation === 'workload') await state.backend.dropContainers?.(workloadNamePrefix(workload));
    },

    async stop() {
      await backends.close();
    },
  };
}
