import { BlobstoreError, checkName, tooLarge, type BlobstoreBackend, type ContainerInfo, type ObjectInfo, type ObjectRef } from '../backend.ts';

interface StoredObject {
  data: Uint8Array;
  createdAt: number;
}

interface Container {
  createdAt: number;
  objects: Map<string, StoredObject>;
}

export interface MemoryBlobstoreOptions {
  /** The largest object stored, in bytes; default 1 MiB. */
  maxObjectSize?: number;
}

/** 1 MiB: the memory store is for development, and every byte of it is host memory. */
export const DEFAULT_MEMORY_MAX_OBJECT_SIZE = 1024 * 1024;

/**
 * Containers and objects in this process's memory, isolated per scope (workload); `dropScope`
 * frees everything a workload stored. Objects are copied in and out.
 */
export class MemoryBlobstoreBackend implements BlobstoreBackend {
  readonly maxObjectSize: number;
  readonly #scopes = new Map<string, Map<string, Container>>();

  constructor(options: MemoryBlobstoreOptions = {}) {
    this.maxObjectSize = options.maxObjectSize ?? DEFAULT_MEMORY_MAX_OBJECT_SIZE;
  }

  async createContainer(scope: string, name: string): Promise<ContainerInfo> {
    checkName('container', name);
    let containers = this.#scopes.get(scope);
    if (!containers) this.#scopes.set(scope, (containers = new Map()));
    if (containers.has(name)) throw new BlobstoreError(`container ${JSON.stringify(name)} already exists`);
    const container: Container = { createdAt: nowSeconds(), objects: new Map() };
    containers.set(name, container);
    return { name, createdAt: container.createdAt };
  }

  async containerInfo(scope: string, name: string): Promise<ContainerInfo> {
    return { name, createdAt: this.#container(scope, name).createdAt };
  }

  async containerExists(scope: string, name: string): Promise<boolean> {
    return this.#scopes.get(scope)?.has(name) ?? false;
  }

  async deleteContainer(scope: string, name: string): Promise<void> {
    this.#scopes.get(scope)?.delete(name);
  }

  async listObjects(scope: string, container: string): Promise<string[]> {
    return [...this.#container(scope, container).objects.keys()].sort();
  }

  async writeObject(scope: string, container: string, name: string, data: Uint8Array): Promise<void> {
    checkName('object', name);
    if (data.length > this.maxObjectSize) throw tooLarge(data.length, this.maxObjectSize);
    this.#container(scope, container).objects.set(name, { data: data.slice(), createdAt: nowSeconds() });
  }

  async readObject(scope: string, container: string, name: string, start: number, end: number): Promise<Uint8Array> {
    return this.#object(scope, container, name).data.slice(start, end);
  }

  async objectInfo(scope: string, container: string, name: string): Promise<ObjectInfo> {
    const { data, createdAt } = this.#object(scope, container, name);
    return { name, container, createdAt, size: data.length };
  }

  async hasObject(scope: string, container: string, name: string): Promise<boolean> {
    return this.#container(scope, container).objects.has(name);
  }

  async deleteObject(scope: string, container: string, name: string): Promise<void> {
    this.#container(scope, container).objects.delete(name);
  }

  async clearContainer(scope: string, container: string): Promise<void> {
    this.#container(scope, container).objects.clear();
  }

  async copyObject(scope: string, src: ObjectRef, dest: ObjectRef): Promise<void> {
    const { data } = this.#object(scope, src.container, src.object);
    await this.writeObject(scope, dest.container, dest.object, data);
  }

  async moveObject(scope: string, src: ObjectRef, dest: ObjectRef): Promise<void> {
    await this.copyObject(scope, src, dest);
    if (src.container !== dest.container || src.object !== dest.object) await this.deleteObject(scope, src.container, src.object);
  }

  async dropScope(scope: string): Promise<void> {
    this.#scopes.delete(scope);
  }

  #container(scope: string, name: string): Container {
    const container = this.#scopes.get(scope)?.get(name);
    if (!container) throw new BlobstoreError(`container ${JSON.stringify(name)} does not exist`);
    return container;
  }

  #object(scope: string, container: string, name: string): StoredObject {
    const object = this.#container(scope, container).objects.get(name);
    if (!object) throw new BlobstoreError(`object ${JSON.stringify(name)} does not exist in container ${JSON.stringify(container)}`);
    return object;
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
