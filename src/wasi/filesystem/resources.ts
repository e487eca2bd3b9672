/** Something an instance holds open on the host (a file, a directory, a directory listing). */
export interface Closable {
  close(): void;
}

/**
 * Everything one instance holds open, so that all of it can be closed when the instance ends:
 * a guest that exits or traps never drops its handles, and Node only closes a forgotten
 * `FileHandle` at garbage collection (with a deprecation warning).
 */
export class OpenResources {
  readonly #open = new Set<Closable>();

  add<T extends Closable>(resource: T): T {
    this.#open.add(resource);
    return resource;
  }

  delete(resource: Closable): void {
    this.#open.delete(resource);
  }

  get size(): number {
    return this.#open.size;
  }

  closeAll(): void {
    const all = [...this.#open];
    this.#open.clear();
    for (const r of all) r.close();
  }
}
