/** Command encoders and passes: each call is Dawn's, with wrapped arguments unwrapped. */
import { Labelled, REAL, args, toDawn, type Dawn } from './dawn.ts';
import { attempt, withResultSync, KINDS } from './errors.ts';
import { GpuCommandBuffer, GpuRenderBundle } from './objects.ts';

type Method = (this: Labelled, ...a: unknown[]) => unknown;

/** Installs methods that pass their arguments to Dawn's method of the same name; a throw traps naming it. */
function forward(cls: { prototype: object; name: string }, names: string[]): void {
  const proto = cls.prototype as Record<string, Method>;
  for (const name of names) {
    proto[name] = function (...a: unknown[]) {
      this.scope.check(name);
      return attempt(`${cls.name}.${name}`, () => void this[REAL][name](...args(...a)));
    };
  }
}

const DEBUG = ['pushDebugGroup', 'popDebugGroup', 'insertDebugMarker'];
const DRAW = ['setPipeline', 'setIndexBuffer', 'setVertexBuffer', 'draw', 'drawIndexed', 'drawIndirect', 'drawIndexedIndirect'];

/** `set-bind-group` with WebGPU's optional dynamic offsets (a Uint32Array slice, as the WIT passes them). */
function setBindGroup(this: Labelled, index: number, bindGroup?: Labelled, data?: number[], start?: bigint, length?: number): void {
  withResultSync(KINDS, 'range-error', () => {
    const group = bindGroup?.[REAL] ?? null;
    if (data === undefined) this[REAL].setBindGroup(index, group);
    else this[REAL].setBindGroup(index, group, Uint32Array.from(data), Number(start ?? 0n), length ?? data.length);
  });
}

export class GpuCommandEncoder extends Labelled {
  beginRenderPass(descriptor: Record<string, unknown>): GpuRenderPassEncoder {
    return new GpuRenderPassEncoder(this.scope, attempt('gpu-command-encoder.begin-render-pass', () => this[REAL].beginRenderPass(toDawn(descriptor))));
  }
  beginComputePass(descriptor?: Record<string, unknown>): GpuComputePassEncoder {
    return new GpuComputePassEncoder(this.scope, attempt('gpu-command-encoder.begin-compute-pass', () => this[REAL].beginComputePass(toDawn(descriptor ?? {}))));
  }
  finish(descriptor?: Record<string, unknown>): GpuCommandBuffer {
    return new GpuCommandBuffer(this.scope, attempt('gpu-command-encoder.finish', () => this[REAL].finish(toDawn(descriptor ?? {}))));
  }
}
forward(GpuCommandEncoder, ['copyBufferToBuffer', 'copyBufferToTexture', 'copyTextureToBuffer', 'copyTextureToTexture', 'clearBuffer', 'resolveQuerySet', ...DEBUG]);

export class GpuComputePassEncoder extends Labelled {
  setBindGroup = setBindGroup;
}
forward(GpuComputePassEncoder, ['setPipeline', 'dispatchWorkgroups', 'dispatchWorkgroupsIndirect', 'end', ...DEBUG]);

export class GpuRenderPassEncoder extends Labelled {
  setBindGroup = setBindGroup;
  executeBundles(bundles: Labelled[]): void {
    attempt('gpu-render-pass-encoder.execute-bundles', () => this[REAL].executeBundles(bundles.map((b) => b[REAL])));
  }
}
forward(GpuRenderPassEncoder, ['setViewport', 'setScissorRect', 'setBlendConstant', 'setStencilReference', 'beginOcclusionQuery', 'endOcclusionQuery', 'end', ...DEBUG, ...DRAW]);

export class GpuRenderBundleEncoder extends Labelled {
  setBindGroup = setBindGroup;
  finish(descriptor?: Record<string, unknown>): GpuRenderBundle {
    return new GpuRenderBundle(this.scope, attempt('gpu-render-bundle-encoder.finish', () => this[REAL].finish(toDawn(descriptor ?? {}) as Dawn)));
  }
}
forward(GpuRenderBundleEncoder, [...DEBUG, ...DRAW]);
