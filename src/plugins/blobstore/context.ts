import type { Logger } from '../../plugin/plugin.ts';
import { BlobstoreError, type BlobstoreBackend } from './backend.ts';
import type { BlobstoreConfig } from './config.ts';

/** What every resource of one component shares: the backend, the workload's scope and its policy. */
export class BlobContext {
  readonly backend: BlobstoreBackend;
  /** The workload's `namespace/name`: the backend's isolation scope. */
  readonly scope: string;
  readonly config: BlobstoreConfig;
  readonly logger: Logger;

  constructor(backend: BlobstoreBackend, scope: string, config: BlobstoreConfig, logger: Logger) {
    this.backend = backend;
    this.scope = scope;
    this.config = config;
    this.logger = logger;
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
   * Runs a backend call; a failure becomes the WIT `error` string. A `BlobstoreError` says what
   * the guest may know; anything else is a backend bug or outage: logged here, and the guest gets
   * a message without host details.
   */
  async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof BlobstoreError) {
        this.logger.debug({ err, operation }, 'blobstore operation failed');
        throw err.message;
      }
      this.logger.warn({ err, operation }, 'blobstore backend failed');
      throw `${operation} failed: internal error in the blobstore`;
    }
  }
}
