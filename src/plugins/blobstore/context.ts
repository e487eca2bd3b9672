import type { Logger, PluginWorkload } from '../../plugin/plugin.ts';
import { BlobstoreError, checkName, type BlobstoreBackend } from './backend.ts';
import type { BlobstoreConfig } from './config.ts';
import { storageName, type StorageIsolation } from '../shared/storage-scope.ts';

/** What every resource of one component shares: the backend, how names are made, and the workload's policy. */
export class BlobContext {
  readonly backend: BlobstoreBackend;
  readonly config: BlobstoreConfig;
  readonly logger: Logger;
  readonly #isolation: StorageIsolation;
  readonly #workload: Pick<PluginWorkload, 'namespace' | 'name'>;

  constructor(
    backend: BlobstoreBackend,
    isolation: StorageIsolation,
    workload: Pick<PluginWorkload, 'namespace' | 'name'>,
    config: BlobstoreConfig,
    logger: Logger,
  ) {
    this.backend = backend;
    this.#isolation = isolation;
    this.#workload = workload;
    this.config = config;
    this.logger = logger;
  }

  /** The backend's name for the container the guest calls `container` (the plugins' naming policy). */
  stored(container: string): string {
    checkName('container', container);
    return storageName(this.#isolation, this.#workload, container);
  }

  /** Refuses a container outside config `buckets`. */
  checkAllowed(container: string): void {
    if (this.config.buckets && !this.config.buckets.has(container)) {
      throw new BlobstoreError(`container ${JSON.stringify(container)} is not in the workload's config "buckets"`);
    }
  }

  /** Refuses any change under config `read_only`. */
  checkWritable(operation: string): void {
    if (this.config.readOnly) throw new BlobstoreError(`${operation} refused: the blobstore is read-only for this workload`);
  }

  /**
   * Runs a backend call on the guest's `containers`; a failure becomes the WIT `error` string. A
   * `BlobstoreError` says what the guest may know, with each container called as the guest calls
   * it (a backend knows only its own names); anything else is a backend bug or outage: logged
   * here, and the guest gets a message without host details.
   */
  async call<T>(operation: string, containers: readonly string[], fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof BlobstoreError) {
        this.logger.debug({ err, operation }, 'blobstore operation failed');
        throw this.#shown(err.message, containers);
      }
      this.logger.warn({ err, operation }, 'blobstore backend failed');
      throw `${operation} failed: internal error in the blobstore`;
    }
  }

  /** `message` with `container "<backend's name>"` written as `container "<guest's name>"`. */
  #shown(message: string, containers: readonly string[]): string {
    let shown = message;
    for (const container of containers) {
      let stored: string;
      try {
        stored = this.stored(container);
      } catch {
        continue; // a name refused before it reached the backend
      }
      if (stored !== container) shown = shown.replaceAll(`container ${JSON.stringify(stored)}`, `container ${JSON.stringify(container)}`);
    }
    return shown;
  }
}
