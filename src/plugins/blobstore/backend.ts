/**
 * The one interface every blobstore backend implements (memory, filesystem, NATS object store,
 * PostgreSQL). The WIT binding (`plugin.ts`) calls only this.
 *
 * A backend sees container names and nothing else: which workload may reach which container is
 * decided once, by the plugin's naming policy (`shared/storage-scope.ts`), which puts the
 * workload's identity into the name when workloads are isolated.
 *
 * Failures the guest should see are thrown as `BlobstoreError`, whose message the guest gets as
 * the WIT `error` string. Anything else thrown is logged on the host and reaches the guest as a
 * generic message, so host paths and addresses never leak into a guest.
 */
import { nameProblem } from '../shared/file-names.ts';
import type { StorageIsolation } from '../shared/storage-scope.ts';
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
  /**
   * The isolation a plugin uses with this backend unless told otherwise: where its data has
   * always lived (the filesystem store has shared containers by name). Absent: 'workload'.
   */
  readonly defaultIsolation?: StorageIsolation;
  /** The largest object the backend stores, in bytes: the plugin stops a guest's write past it. */
  readonly maxObjectSize: number;
  /** Fails when the container exists. */
  createContainer(name: string): Promise<ContainerInfo>;
  /** Fails when the container does not exist. */
  containerInfo(name: string): Promise<ContainerInfo>;
  containerExists(name: string): Promise<boolean>;
  /** Deletes the container and its objects; a missing container is not an error. */
  deleteContainer(name: string): Promise<void>;
  /** Every object name, in a stable order. */
  listObjects(container: string): Promise<string[]>;
  /** Creates or replaces the object. */
  writeObject(container: string, name: string, data: Uint8Array): Promise<void>;
  /** Bytes `start` (inclusive) to `end` (exclusive) of the object, cut to its size. */
  readObject(container: string, name: string, start: number, end: number): Promise<Uint8Array>;
  objectInfo(container: string, name: string): Promise<ObjectInfo>;
  hasObject(container: string, name: string): Promise<boolean>;
  /** A missing object is not an error. */
  deleteObject(container: string, name: string): Promise<void>;
  /** Deletes every object, keeping the container. */
  clearContainer(container: string): Promise<void>;
  /** Replaces the destination; fails when the source or the destination container is missing. */
  copyObject(src: ObjectRef, dest: ObjectRef): Promise<void>;
  moveObject(src: ObjectRef, dest: ObjectRef): Promise<void>;
  /**
   * Forgets every container whose name starts with `prefix`. Only a store whose data dies with
   * the process anyway (memory) has it: the plugin calls it when the last replica of a workload
   * isolated by name stops. Stores meant to outlive workloads leave it out: a workload started
   * again must find its data. Idempotent.
   */
  dropContainers?(prefix: string): Promise<void>;
  /** Releases connections; called when the host stops. */
  close?(): Promise<void>;
}

/** At most this many UTF-16 units in an object name, or in what the guest names a container. */
export const MAX_NAME_LENGTH = 1024;

/**
 * At most this many UTF-16 units in a backend's container name: the guest's part plus the
 * workload's identity (`shared/storage-scope.ts`).
 */
export const MAX_CONTAINER_NAME_LENGTH = 2048;

/**
 * The rule for object names (every backend) and for the container names a guest gives (the
 * plugin, before its policy makes them a backend's name): non-empty, bounded, no control characters.
 */
export function checkName(kind: 'container' | 'object', name: string): void {
  nameRule(kind, name, MAX_NAME_LENGTH);
}

/** The rule every backend applies to its container names. */
export function checkContainerName(name: string): void {
  nameRule('container', name, MAX_CONTAINER_NAME_LENGTH);
}

function nameRule(kind: 'container' | 'object', name: string, maxLength: number): void {
  const problem = nameProblem(name, maxLength);
  if (problem) throw new BlobstoreError(`invalid ${kind} name ${JSON.stringify(name.slice(0, 64))}: ${problem}`);
}

/** The error for an object past the backend's size limit. */
export function tooLarge(size: number, limit: number): BlobstoreError {
  return new BlobstoreError(`object of ${size} bytes exceeds the blobstore's limit of ${limit} bytes`);
}
