import type { WasiContext } from '../context.ts';

/**
 * The sockets an instance holds open, so that ending the instance (exit, trap) releases its ports
 * even when the guest never dropped its handles.
 */
export class OpenSockets {
  readonly #open = new Set<Disposable>();

  add(socket: Disposable): void {
    this.#open.add(socket);
  }

  delete(socket: Disposable): void {
    this.#open.delete(socket);
  }

  closeAll(): void {
    for (const socket of [...this.#open]) socket[Symbol.dispose]();
    this.#open.clear();
  }

  get size(): number {
    return this.#open.size;
  }
}

const byContext = new WeakMap<WasiContext, OpenSockets>();

/** The open sockets of the instance that owns `ctx`. */
export function openSockets(ctx: WasiContext): OpenSockets {
  let open = byContext.get(ctx);
  if (!open) byContext.set(ctx, (open = new OpenSockets()));
  return open;
}
