import { BlobstoreError, checkName } from './backend.ts';
import type { BlobContext } from './context.ts';
import { IncomingValue, type OutgoingValue } from './values.ts';

/** `get-data` ranges beyond this are cut here: no object is that large. */
const MAX_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);

/** `wasi:blobstore/container.container`: one container of the workload's store. */
export class Container {
  readonly #ctx: BlobContext;
  /** What the guest calls the container. */
  readonly #name: string;
  /** The backend's name for it (the plugins' naming policy). */
  readonly #stored: string;

  constructor(ctx: BlobContext, name: string) {
    this.#ctx = ctx;
    this.#name = name;
    this.#stored = ctx.stored(name);
  }

  name(): string {
    return this.#name;
  }

  info(): Promise<{ name: string; createdAt: bigint }> {
    return this.#call('info', async (b, container) => {
      const { createdAt } = await b.containerInfo(container);
      return { name: this.#name, createdAt: BigInt(createdAt) };
    });
  }

  /** Bytes `start` to `end`, both inclusive (as the WIT says), cut to the object's size. */
  getData(name: string, start: bigint, end: bigint): Promise<IncomingValue> {
    return this.#call('get-data', async (b, container) => {
      if (start > end) throw new BlobstoreError(`invalid range: start ${start} is after end ${end}`);
      const from = Number(start > MAX_OFFSET ? MAX_OFFSET : start);
      const to = Number(end >= MAX_OFFSET ? MAX_OFFSET : end + 1n);
      return new IncomingValue(await b.readObject(container, name, from, to));
    });
  }

  /** Names this container as a destination of `data`; the bytes are stored when `data` is finished. */
  writeData(name: string, data: OutgoingValue): Promise<void> {
    return this.#call('write-data', async (b, container) => {
      this.#ctx.checkWritable('write-data');
      checkName('object', name);
      await b.containerInfo(container);
      data.addTarget((bytes) => this.#call('finish', () => b.writeObject(container, name, bytes)));
    });
  }

  listObjects(): Promise<StreamObjectNames> {
    return this.#call('list-objects', async (b, container) => new StreamObjectNames(await b.listObjects(container)));
  }

  deleteObject(name: string): Promise<void> {
    return this.#call('delete-object', (b, container) => {
      this.#ctx.checkWritable('delete-object');
      return b.deleteObject(container, name);
    });
  }

  deleteObjects(names: string[]): Promise<void> {
    return this.#call('delete-objects', async (b, container) => {
      this.#ctx.checkWritable('delete-objects');
      for (const name of names) await b.deleteObject(container, name);
    });
  }

  hasObject(name: string): Promise<boolean> {
    return this.#call('has-object', (b, container) => b.hasObject(container, name));
  }

  objectInfo(name: string): Promise<{ name: string; container: string; createdAt: bigint; size: bigint }> {
    return this.#call('object-info', async (b, container) => {
      const info = await b.objectInfo(container, name);
      return { name: info.name, container: this.#name, createdAt: BigInt(info.createdAt), size: BigInt(info.size) };
    });
  }

  clear(): Promise<void> {
    return this.#call('clear', (b, container) => {
      this.#ctx.checkWritable('clear');
      return b.clearContainer(container);
    });
  }

  #call<T>(operation: string, fn: (backend: BlobContext['backend'], container: string) => Promise<T>): Promise<T> {
    return this.#ctx.call(operation, [this.#name], () => fn(this.#ctx.backend, this.#stored));
  }
}

/** `wasi:blobstore/container.stream-object-names`: the names `list-objects` found, read in pages. */
export class StreamObjectNames {
  readonly #names: string[];
  #position = 0;

  constructor(names: string[]) {
    this.#names = names;
  }

  readStreamObjectNames(len: bigint): [string[], boolean] {
    const page = this.#names.slice(this.#position, this.#position + this.#take(len));
    this.#position += page.length;
    return [page, this.#position >= this.#names.length];
  }

  skipStreamObjectNames(num: bigint): [bigint, boolean] {
    const skipped = this.#take(num);
    this.#position += skipped;
    return [BigInt(skipped), this.#position >= this.#names.length];
  }

  #take(n: bigint): number {
    const remaining = this.#names.length - this.#position;
    return n > BigInt(remaining) ? remaining : Number(n);
  }
}
