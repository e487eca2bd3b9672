/**
 * The one interface every blobstore backend implements (memory and filesystem here; NATS object
 * store and PostgreSQL later). The WIT binding (`plugin.ts`) calls only this.
 *
 * Every call names a `scope` (the plugin passes the workload's `namespace/name`): the memory backend isolates
 * workloads by it; stores meant to outlive a workload may ignore it.
 *
 * Failures the guest should see are thrown as `BlobstoreError`, whose message the guest gets as
 * the WIT `error` string. Anything else thrown is logged on the host and reaches the guest as a
 * generic message, so host paths and addresses never leak into a guest.
 */
import { nameProblem } from '../shared/file-names.ts';
import { WasmhostError } from '../../errors.ts';

export class BlobstoreError extends WasmhostError {
  override readonly code = 'WASMHOST_BLOBSTORE';
}

export interface ContainerInfo {
  name: string;
  /** Seconds since the Unix epoch (the WIT's `timestamp`). */
  createdAt: number;
}

export interface ObjectInfo {
  name: string;
  container: string;
  /** Seconds since the Unix epoch: when this version of the object was written. */
  createdAt: number;
  size: number;
}

export interface ObjectRef {
  container: string;
  object: string;
}

export interface BlobstoreBackend {
  /** The largest object the backend stores, in bytes: the plugin stops a guest's write past it. */
  readonly maxObjectSize: number;
  /** Fails when the container exists. */
  createContainer(scope: string, name: string): Promise<ContainerInfo>;
  /** Fails when the container does not exist. */
  containerInfo(scope: string, name: string): Promise<ContainerInfo>;
  containerExists(scope: string, name: string): Promise<boolean>;
  /** Deletes the container and its objects; a missing container is not an error. */
  deleteContainer(scope: string, name: string): Promise<void>;
  /** Every object name, in a stable order. */
  listObjects(scope: string, container: string): Promise<string[]>;
  /** Creates or replaces the object. */
  writeObject(scope: string, container: string, name: string, data: Uint8Array): Promise<void>;
  /** Bytes `start` (inclusive) to `end` (exclusive) of the object, cut to its size. */
  readObject(scope: string, container: string, name: string, start: number, end: number): Promise<Uint8Array>;
  objectInfo(scope: string, container: string, name: string): Promise<ObjectInfo>;
  hasObject(scope: string, container: string, name: string): Promise<boolean>;
  /** A missing object is not an error. */
  deleteObject(scope: string, container: string, name: string): Promise<void>;
  /** Deletes every object, keeping the container. */
  clearContainer(scope: string, container: string): Promise<void>;
  /** Replaces the destination; fails when the source or the destination container is missing. */
  copyObject(scope: string, src: ObjectRef, dest: ObjectRef): Promise<void>;
  moveObject(scope: string, src: ObjectRef, dest: ObjectRef): Promise<void>;
  /** Frees what the scope holds, if the backend keeps anything per scope. Idempotent. */
  dropScope(scope: string): Promise<void>;
  /** Releases connections; called when the host stops. */
  close?(): Promise<void>;
}

/** At most this many UTF-16 units in a container or object name. */
export const MAX_NAME_LENGTH = 1024;

/** The rule every backend applies to container and object names: non-empty, bounded, no control characters. */
export function checkName(kind: 'container' | 'object', name: string): void {
  const problem = nameProblem(name, MAX_NAME_LENGTH);
  if (problem) throw new BlobstoreError(`invalid ${kind} name ${JSON.stringify(name.slice(0, 64))}: ${problem}`);
}

/** The error for an object past the backend's size limit. */
export function tooLarge(size: number, limit: number): BlobstoreError {
  return new BlobstoreError(`object of ${size} bytes exceeds the blobstore's limit of ${limit} bytes`);
}
