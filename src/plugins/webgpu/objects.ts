/** The device's objects that only carry a label, or a little more: textures, pipelines, shaders, queries. */
import { Counted, Labelled, REAL, Wrapped, fromDawnDimension, toDawn, type Dawn } from './dawn.ts';
import { attempt, refused } from './errors.ts';

/**
 * Bytes a texture may take, counted against the budget: 16 bytes a texel (the widest format) for
 * every layer, mip level and sample; an upper bound, not Dawn's exact allocation.
 */
export function textureBytes(d: { size?: { width?: number; height?: number; depthOrArrayLayers?: number }; mipLevelCount?: number; sampleCount?: number }): number {
  const s = d.size ?? {};
  const texels = (s.width ?? 1) * (s.height ?? 1) * (s.depthOrArrayLayers ?? 1);
  return texels * 16 * Math.max(1, d.sampleCount ?? 1) * (d.mipLevelCount && d.mipLevelCount > 1 ? 2 : 1);
}

export class GpuTexture extends Counted {
  static fromGraphicsBuffer(): never {
    refused('gpu-texture.from-graphics-buffer');
  }
  createView(descriptor?: Record<string, unknown>): GpuTextureView {
    return new GpuTextureView(this.scope, attempt('gpu-texture.create-view', () => this[REAL].createView(toDawn(descriptor ?? {}))));
  }
  destroy(): void {
    this.destroyCounted('gpu-texture.destroy');
  }
  width(): number {
    return this[REAL].width;
  }
  height(): number {
    return this[REAL].height;
  }
  depthOrArrayLayers(): number {
    return this[REAL].depthOrArrayLayers;
  }
  mipLevelCount(): number {
    return this[REAL].mipLevelCount;
  }
  sampleCount(): number {
    return this[REAL].sampleCount;
  }
  dimension(): string {
    return fromDawnDimension(this[REAL].dimension);
  }
  format(): string {
    return this[REAL].format;
  }
  usage(): number {
    return this[REAL].usage;
  }
}

export class GpuTextureView extends Labelled {}
export class GpuSampler extends Labelled {}
export class GpuBindGroupLayout extends Labelled {}
export class GpuBindGroup extends Labelled {}
export class GpuPipelineLayout extends Labelled {}
export class GpuCommandBuffer extends Labelled {}
export class GpuRenderBundle extends Labelled {}

export class GpuShaderModule extends Labelled {
  /** The compiler's messages: how a guest learns why its WGSL is wrong. */
  async getCompilationInfo(): Promise<GpuCompilationInfo> {
    return new GpuCompilationInfo(this.scope, await this[REAL].getCompilationInfo());
  }
}

export class GpuCompilationInfo extends Wrapped {
  messages(): GpuCompilationMessage[] {
    return [...this[REAL].messages].map((m: Dawn) => new GpuCompilationMessage(this.scope, m));
  }
}

export class GpuCompilationMessage extends Wrapped {
  message(): string {
    return this[REAL].message;
  }
  type(): string {
    return this[REAL].type;
  }
  lineNum(): bigint {
    return BigInt(this[REAL].lineNum);
  }
  linePos(): bigint {
    return BigInt(this[REAL].linePos);
  }
  offset(): bigint {
    return BigInt(this[REAL].offset);
  }
  length(): bigint {
    return BigInt(this[REAL].length);
  }
}

class Pipeline extends Labelled {
  getBindGroupLayout(index: number): GpuBindGroupLayout {
    return new GpuBindGroupLayout(this.scope, attempt('get-bind-group-layout', () => this[REAL].getBindGroupLayout(index)));
  }
}
export class GpuComputePipeline extends Pipeline {}
export class GpuRenderPipeline extends Pipeline {}

export class GpuQuerySet extends Labelled {
  destroy(): void {
    attempt('gpu-query-set.destroy', () => this[REAL].destroy());
  }
  type(): string {
    return this[REAL].type;
  }
  count(): number {
    return this[REAL].count;
  }
}

/** A canvas needs a surface to present on: this host has none. */
export class GpuCanvasContext extends Wrapped {
  configure(): never {
    refused('gpu-canvas-context.configure');
  }
  unconfigure(): never {
    refused('gpu-canvas-context.unconfigure');
  }
  getConfiguration(): never {
    refused('gpu-canvas-context.get-configuration');
  }
  getCurrentTexture(): never {
    refused('gpu-canvas-context.get-current-texture');
  }
}
