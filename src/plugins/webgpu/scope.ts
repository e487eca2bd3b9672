/**
 * What one component's WebGPU objects share: the host's GPU, the limits a guest may not pass, and
 * the devices it opened. Guests cannot hurt the host through it: buffers and textures count
 * against a byte budget, devices against a count, and the workload's devices are destroyed when it
 * stops. Objects a guest dropped, or that its ended instance held, are released by the garbage
 * collector (Dawn frees the native object with its JavaScript one), which also gives their bytes
 * back to the budget: their destruction is not forced, as a dropped buffer may still be used by a
 * command buffer the guest submits later.
 */
import type { Logger } from '../../plugin/plugin.ts';
import type { Dawn } from './dawn.ts';
import { trap } from './errors.ts';

export interface WebGpuLimits {
  /** The largest buffer a guest may create, in bytes. */
  maxBufferSize: number;
  /** Bytes of buffers and textures a component may hold at once (all its instances together). */
  maxBytes: number;
  /** Devices a component may hold at once. */
  maxDevices: number;
}

export const DEFAULT_LIMITS: WebGpuLimits = { maxBufferSize: 64 * 1024 * 1024, maxBytes: 256 * 1024 * 1024, maxDevices: 8 };

/** Bytes given back when a counted object is collected. */
const collected = new FinalizationRegistry<{ scope: GpuScope; bytes: number }>(({ scope, bytes }) => scope.giveBack(bytes));

export class GpuScope {
  readonly gpu: () => Promise<Dawn>;
  readonly limits: WebGpuLimits;
  readonly logger: Logger;
  #bytes = 0;
  readonly #devices = new Set<WeakRef<Dawn>>();
  #live = true;

  constructor(gpu: () => Promise<Dawn>, limits: WebGpuLimits, logger: Logger) {
    this.gpu = gpu;
    this.limits = limits;
    this.logger = logger;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Refuses calls once the workload has stopped. */
  check(fn: string): void {
    if (!this.#live) trap(fn, 'the workload is no longer running');
  }

  /** Counts `bytes` for `owner` until it is destroyed or collected; refuses past the budget. */
  reserve(fn: string, owner: object, bytes: number): void {
    this.check(fn);
    if (bytes > this.limits.maxBufferSize && fn.endsWith('create-buffer')) {
      trap(fn, `a buffer of ${bytes} bytes is larger than this host allows (${this.limits.maxBufferSize} bytes, plugin option maxBufferSize)`);
    }
    if (this.#bytes + bytes > this.limits.maxBytes) {
      trap(fn, `${bytes} more bytes would pass the component's GPU memory budget (${this.#bytes} of ${this.limits.maxBytes} bytes in use, plugin option maxBytes)`);
    }
    this.#bytes += bytes;
    collected.register(owner, { scope: this, bytes }, owner);
  }

  /** `owner` was destroyed: its bytes are free again (once). */
  release(owner: object, bytes: number): void {
    if (collected.unregister(owner)) this.giveBack(bytes);
  }

  giveBack(bytes: number): void {
    this.#bytes = Math.max(0, this.#bytes - bytes);
  }

  /** Records a new device; refuses past `maxDevices` live ones. */
  addDevice(fn: string, device: Dawn): void {
    this.check(fn);
    if (this.liveDevices().length >= this.limits.maxDevices) {
      device.destroy();
      trap(fn, `the component already holds ${this.limits.maxDevices} devices, the most this host allows (plugin option maxDevices)`);
    }
    this.#devices.add(new WeakRef(device));
  }

  liveDevices(): Dawn[] {
    const live: Dawn[] = [];
    for (const ref of this.#devices) {
      const d = ref.deref();
      if (d === undefined || destroyed.has(d)) this.#devices.delete(ref);
      else live.push(d);
    }
    return live;
  }

  /** The workload stopped: every device goes (and with it its buffers, textures and work). */
  close(): void {
    this.#live = false;
    for (const device of this.liveDevices()) destroyDevice(device);
    this.#devices.clear();
  }
}

/** Devices destroyed by the guest or the host (Dawn keeps no readable flag for it). */
const destroyed = new WeakSet<object>();

export function destroyDevice(device: Dawn): void {
  if (destroyed.has(device)) return;
  destroyed.add(device);
  try {
    device.destroy();
  } catch {
    // Already lost: nothing left to free.
  }
}
