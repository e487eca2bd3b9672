/** `gpu-buffer`: its bytes reach the guest only by copy (`get-mapped-range-get-with-copy`, `...-set-with-copy`). */
import { Counted, REAL, args } from './dawn.ts';
import { withResult, withResultSync, KINDS } from './errors.ts';

export class GpuBuffer extends Counted {

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
    this.destroyCounted('gpu-buffer.destroy');
  }
}
