/** `gpu-buffer`: its bytes reach the guest only by copy (`get-mapped-range-get-with-copy`, `...-set-with-copy`). */
import { Labelled, REAL, args, type Dawn } from './dawn.ts';
import { attempt, withResult, withResultSync, KINDS } from './errors.ts';
import type { GpuScope } from './scope.ts';

export class GpuBuffer extends Labelled {
  readonly #bytes: number;

  /** Made before its Dawn buffer, so that its bytes are counted first (`attach` follows). */
  constructor(scope: GpuScope, real: Dawn, bytes: number) {
    super(scope, real);
    this.#bytes = bytes;
  }
  attach(real: Dawn): void {
    this[REAL] = real;
  }

  size(): bigint {
    return BigInt(this[REAL].size);
  }
  usage(): number {
    return this[REAL].usage;
  }
  mapState(): string {
    return this[REAL].mapState;
  }
  async mapAsync(mode: number, offset?: bigint, size?: bigint): Promise<void> {
    this.scope.check('gpu-buffer.map-async');
    await withResult(KINDS, 'operation-error', () => this[REAL].mapAsync(...args(mode, offset, size)));
  }
  getMappedRangeGetWithCopy(offset?: bigint, size?: bigint): Uint8Array {
    return withResultSync(KINDS, 'operation-error', () => new Uint8Array(this[REAL].getMappedRange(...args(offset, size)).slice(0)));
  }
  getMappedRangeSetWithCopy(data: Uint8Array, offset?: bigint, size?: bigint): void {
    withResultSync(KINDS, 'operation-error', () => {
      const range = new Uint8Array(this[REAL].getMappedRange(...args(offset, size)));
      if (data.byteLength > range.byteLength) {
        throw Object.assign(new Error(`${data.byteLength} bytes do not fit the mapped range of ${range.byteLength} bytes`), { name: 'RangeError' });
      }
      range.set(data);
    });
  }
  unmap(): void {
    withResultSync(KINDS, 'abort-error', () => this[REAL].unmap());
  }
  destroy(): void {
    attempt('gpu-buffer.destroy', () => this[REAL].destroy());
    this.scope.release(this, this.#bytes);
  }
}
