import type { WasiContext } from '../context.ts';

export interface Closable {
  close(): void;
}

/**
 * The sockets an instance holds open, so that ending the instance (exit, trap) releases its ports
 * even when the guest never dropped its handles.
 */
export class OpenSockets {
  readonly #open = new Set<Closable>();

  add(socket: Closable): void {
    this.#open.add(socket);
  }

  delete(socket: Closable): void {
    this.#open.delete(socket);
  }

  closeAll(): void {
    for (const socket of [...this.#open]) socket.close();
    this.#open.clear();
  }

  get size(): number {
    return this.#open.size;
  }
}

const byContext = new WeakMap<WasiContext, OpenSockets>();

export function openSockets(ctx: WasiContext): OpenSockets {
  let open = byContext.get(ctx);
  if (!open) byContext.set(ctx, (open = new OpenSockets()));
  return open;
}
