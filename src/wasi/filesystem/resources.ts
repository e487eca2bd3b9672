/** Something an instance holds open on the host (a file, a directory, a directory listing). */
export interface Closable {
  close(): void;
}

/**
 * The open things themselves. Each removes itself when it closes; it refers to this set, never
 * to its `OpenResources` owner, so that the owner can be collected while they are still open.
 */
export type ResourceSet = Set<Closable>;

/** Closes what an instance forgot, once nothing can use it any more (before Node's own GC close warns). */
const finalizer = new FinalizationRegistry<ResourceSet>(closeEach);

/**
 * Everything one instance holds open. A guest that exits or traps never drops its handles:
 * the embedder calls `closeAll` when the instance ends, and a forgotten instance's files are
 * closed when it is garbage collected.
 */
export class OpenResources {
  readonly set: ResourceSet = new Set();

  constructor() {
    finalizer.register(this, this.set);
  }

  get size(): number {
    return this.set.size;
  }

  closeAll(): void {
    closeEach(this.set);
  }
}

function closeEach(set: ResourceSet): void {
  const all = [...set];
  set.clear();
  for (const r of all) r.close();
}
