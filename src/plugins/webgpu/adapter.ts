/** `gpu`, `gpu-adapter` and what they describe: limits, features, adapter info. */
import { REAL, Wrapped, toDawn } from './dawn.ts';
import { trap, withResult, KINDS } from './errors.ts';
import { GpuDevice } from './device.ts';

export class Gpu extends Wrapped {
  async requestAdapter(options?: Record<string, unknown>): Promise<GpuAdapter | undefined> {
    this.scope.check('gpu.request-adapter');
    const adapter = await this[REAL].requestAdapter(toDawn(options ?? {}));
    return adapter ? new GpuAdapter(this.scope, adapter) : undefined;
  }
  getPreferredCanvasFormat(): string {
    return this[REAL].getPreferredCanvasFormat();
  }
  wgslLanguageFeatures(): WgslLanguageFeatures {
    return new WgslLanguageFeatures(this.scope, this[REAL].wgslLanguageFeatures ?? new Set());
  }
}

export class GpuAdapter extends Wrapped {
  features(): GpuSupportedFeatures {
    return new GpuSupportedFeatures(this.scope, this[REAL].features);
  }
  limits(): GpuSupportedLimits {
    return new GpuSupportedLimits(this.scope, this[REAL].limits);
  }
  info(): GpuAdapterInfo {
    return new GpuAdapterInfo(this.scope, this[REAL].info);
  }
  isFallbackAdapter(): boolean {
    return Boolean(this[REAL].isFallbackAdapter ?? this[REAL].info?.isFallbackAdapter);
  }
  async requestDevice(descriptor?: Record<string, unknown>): Promise<GpuDevice> {
    const fn = 'gpu-adapter.request-device';
    this.scope.check(fn);
    const device = await withResult(KINDS, 'operation-error', () => this[REAL].requestDevice(toDawn(descriptor ?? {})));
    this.scope.addDevice(fn, device);
    // Errors nobody captured are the guest's bugs: logged, never thrown at the host.
    device.onuncapturederror = (event: { error?: { message?: string } }) =>
      this.scope.logger.warn({ error: event.error?.message }, 'wasi:webgpu uncaptured error');
    return new GpuDevice(this.scope, device);
  }
}

export class GpuSupportedFeatures extends Wrapped {
  has(value: string): boolean {
    return this[REAL].has(value);
  }
}

export class WgslLanguageFeatures extends Wrapped {
  has(value: string): boolean {
    return this[REAL].has(value);
  }
}

export class GpuAdapterInfo extends Wrapped {
  vendor(): string {
    return this[REAL].vendor ?? '';
  }
  architecture(): string {
    return this[REAL].architecture ?? '';
  }
  device(): string {
    return this[REAL].device ?? '';
  }
  description(): string {
    return this[REAL].description ?? '';
  }
  subgroupMinSize(): number {
    return this[REAL].subgroupMinSize ?? 0;
  }
  subgroupMaxSize(): number {
    return this[REAL].subgroupMaxSize ?? 0;
  }
}

/** The WIT's limit functions: WebGPU's limit names in camelCase; `u64` ones as bigints. */
const U32_LIMITS = [
  'maxTextureDimension1D', 'maxTextureDimension2D', 'maxTextureDimension3D', 'maxTextureArrayLayers', 'maxBindGroups',
  'maxBindGroupsPlusVertexBuffers', 'maxBindingsPerBindGroup', 'maxDynamicUniformBuffersPerPipelineLayout',
  'maxDynamicStorageBuffersPerPipelineLayout', 'maxSampledTexturesPerShaderStage', 'maxSamplersPerShaderStage',
  'maxStorageBuffersPerShaderStage', 'maxStorageTexturesPerShaderStage', 'maxUniformBuffersPerShaderStage',
  'minUniformBufferOffsetAlignment', 'minStorageBufferOffsetAlignment', 'maxVertexBuffers', 'maxVertexAttributes',
  'maxVertexBufferArrayStride', 'maxInterStageShaderVariables', 'maxColorAttachments', 'maxColorAttachmentBytesPerSample',
  'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ', 'maxComputeWorkgroupsPerDimension',
];
const U64_LIMITS = ['maxUniformBufferBindingSize', 'maxStorageBufferBindingSize', 'maxBufferSize'];

export class GpuSupportedLimits extends Wrapped {}
const limitsProto = GpuSupportedLimits.prototype as unknown as Record<string, () => unknown>;
for (const name of [...U32_LIMITS, ...U64_LIMITS]) {
  const wide = U64_LIMITS.includes(name);
  limitsProto[name] = function (this: GpuSupportedLimits) {
    const v = this[REAL][name];
    if (typeof v !== 'number') trap(`gpu-supported-limits.${name}`, 'this host\'s WebGPU does not report this limit');
    return wide ? BigInt(v) : v;
  };
}
