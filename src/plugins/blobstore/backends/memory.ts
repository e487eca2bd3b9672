import { BlobstoreError, checkContainerName, checkName, tooLarge, type BlobstoreBackend, type ContainerInfo, type ObjectInfo, type ObjectRef } from '../backend.ts';

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
 * Containers and objects in this process's memory, one entry per container name. Workloads are
 * kept apart by the plugin's names; `dropContainers` frees what a stopped workload stored.
 * Objects are copied in and out.
 */
export class MemoryBlobstoreBackend implements BlobstoreBackend {
  readonly maxObjectSize: number;
  readonly #containers = new Map<string, Container>();

  constructor(options: MemoryBlobstoreOptions = {}) {
    this.maxObjectSize = options.maxObjectSize ?? DEFAULT_MEMORY_MAX_OBJECT_SIZE;
  }

  async createContainer(name: string): Promise<ContainerInfo> {
    checkContainerName(name);
    if (this.#containers.has(name)) throw new BlobstoreError(`container ${JSON.stringify(name)} already exists`);
    const container: Container = { createdAt: nowSeconds(), objects: new Map() };
    this.#containers.set(name, container);
    return { name, createdAt: container.createdAt };
  }

  async containerInfo(name: string): Promise<ContainerInfo> {
    return { name, createdAt: this.#container(name).createdAt };
  }

  async containerExists(name: string): Promise<boolean> {
    return this.#containers.has(name);
  }

  async deleteContainer(name: string): Promise<void> {
    this.#containers.delete(name);
  }

  async listObjects(container: string): Promise<string[]> {
    return [...this.#container(container).objects.keys()].sort();
  }

  async writeObject(container: string, name: string, data: Uint8Array): Promise<void> {
    checkName('object', name);
    if (data.length > this.maxObjectSize) throw tooLarge(data.length, this.maxObjectSize);
    this.#container(container).objects.set(name, { data: data.slice(), createdAt: nowSeconds() });
  }

  async readObject(container: string, name: string, start: number, end: number): Promise<Uint8Array> {
    return this.#object(container, name).data.slice(start, end);
  }

  async objectInfo(container: string, name: string): Promise<ObjectInfo> {
    const { data, createdAt } = this.#object(container, name);
    return { name, container, createdAt, size: data.length };
  }

  async hasObject(container: string, name: string): Promise<boolean> {
    return this.#container(container).objects.has(name);
  }

  async deleteObject(container: string, name: string): Promise<void> {
    this.#container(container).objects.delete(name);
  }

  async clearContainer(container: string): Promise<void> {
    this.#container(container).objects.clear();
  }

  async copyObject(src: ObjectRef, dest: ObjectRef): Promise<void> {
    const { data } = this.#object(src.container, src.object);
    await this.writeObject(dest.container, dest.object, data);
  }

  async moveObject(src: ObjectRef, dest: ObjectRef): Promise<void> {
    await this.copyObject(src, dest);
    if (src.container !== dest.container || src.object !== dest.object) await this.deleteObject(src.container, src.object);
  }

  async dropContainers(prefix: string): Promise<void> {
    for (const name of this.#containers.keys()) if (name.startsWith(prefix)) this.#containers.delete(name);
  }

  #container(name: string): Container {
    const container = this.#containers.get(name);
    if (!container) throw new BlobstoreError(`container ${JSON.stringify(name)} does not exist`);
    return container;
  }

  #object(container: string, name: string): StoredObject {
    const object = this.#container(container).objects.get(name);
    if (!object) throw new BlobstoreError(`object ${JSON.stringify(name)} does not exist in container ${JSON.stringify(container)}`);
    return object;
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
