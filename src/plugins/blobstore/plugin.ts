import { pluginInterface, type Implementations, type Plugin } from '../../plugin/plugin.ts';
import { BlobstoreError, checkName, type BlobstoreBackend } from './backend.ts';
import { blobstoreConfig } from './config.ts';
import { storageScope, type StorageState } from '../shared/storage-scope.ts';
import { Container, StreamObjectNames } from './container.ts';
import { BlobContext } from './context.ts';
import { IncomingValue, OutgoingValue } from './values.ts';

export interface BlobstorePluginOptions {
  backend: BlobstoreBackend;
  /** Default `wasi-blobstore`. */
  id?: string;
}

const VERSION = '0.2.0-draft';

/** `wasi:blobstore` `object-id`. */
interface ObjectId {
  container: string;
  object: string;
}

/**
 * `wasi:blobstore/blobstore,container,types@0.2.0-draft` over one backend. Each workload is its
 * own scope (`namespace/name`, see `storageScope`), held in its state; config `buckets` and `read_only` limit what it may do (see `config.ts`).
 * The output and input streams handed out are WASI's own `wasi:io` resources.
 */
export function blobstorePlugin(options: BlobstorePluginOptions): Plugin<StorageState> {
  const { backend } = options;
  const id = options.id ?? 'wasi-blobstore';

  /** `new-outgoing-value` takes no arguments, so the backend's size limit comes with the class. */
  class LimitedOutgoingValue extends OutgoingValue {
    static newOutgoingValue(): OutgoingValue {
      return new LimitedOutgoingValue(backend.maxObjectSize);
    }
  }

  return {
    id,
    imports: [pluginInterface(`wasi:blobstore/blobstore,container,types@${VERSION}`)],

    onWorkloadBind(workload): StorageState {
      blobstoreConfig(id, workload.interfaces);
      return { scope: storageScope(workload), live: true };
    },

    onComponentBind(component, state): Implementations {
      const { scope } = state;
      const ctx = new BlobContext(backend, scope, blobstoreConfig(id, component.interfaces), component.logger);

      /** Runs a blobstore-level call after the checks every one of them shares. */
      const call = <T>(operation: string, containers: string[], writes: boolean, fn: () => Promise<T>): Promise<T> =>
        ctx.call(operation, async () => {
          if (!state.live) throw new BlobstoreError('the workload is no longer running');
          for (const name of containers) ctx.checkAllowed(name);
          if (writes) ctx.checkWritable(operation);
          return fn();
        });

      const blobstore = {
        createContainer: (name: string) =>
          call('create-container', [name], true, async () => {
            await backend.createContainer(scope, name);
            return new Container(ctx, name);
          }),
        getContainer: (name: string) =>
          call('get-container', [name], false, async () => {
            await backend.containerInfo(scope, name);
            return new Container(ctx, name);
          }),
        deleteContainer: (name: string) => call('delete-container', [name], true, () => backend.deleteContainer(scope, name)),
        containerExists: (name: string) => call('container-exists', [name], false, () => backend.containerExists(scope, name)),
        copyObject: (src: ObjectId, dest: ObjectId) =>
          call('copy-object', [src.container, dest.container], true, () => {
            checkName('object', dest.object);
            return backend.copyObject(scope, src, dest);
          }),
        moveObject: (src: ObjectId, dest: ObjectId) =>
          call('move-object', [src.container, dest.container], true, () => {
            checkName('object', dest.object);
            return backend.moveObject(scope, src, dest);
          }),
      };

      return {
        [`wasi:blobstore/blobstore@${VERSION}`]: blobstore,
        [`wasi:blobstore/container@${VERSION}`]: { Container, StreamObjectNames },
        [`wasi:blobstore/types@${VERSION}`]: { OutgoingValue: LimitedOutgoingValue, IncomingValue },
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
