/** `gpu-device`, its queue, and what it reports about errors and loss. */
import { GpuAdapterInfo, GpuSupportedFeatures, GpuSupportedLimits } from './adapter.ts';
import { GpuBuffer } from './buffer.ts';
import { Labelled, REAL, Wrapped, args, toDawn, type Dawn } from './dawn.ts';
import { GpuCommandEncoder, GpuRenderBundleEncoder } from './encoders.ts';
import { attempt, describe, refused, trap, withResult, withResultSync, KINDS } from './errors.ts';
import {
  GpuBindGroup, GpuBindGroupLayout, GpuComputePipeline, GpuPipelineLayout, GpuQuerySet, GpuRenderPipeline, GpuSampler,
  GpuShaderModule, GpuTexture, textureBytes,
} from './objects.ts';
import { destroyDevice } from './scope.ts';

export class GpuDevice extends Labelled {
  features(): GpuSupportedFeatures {
    return new GpuSupportedFeatures(this.scope, this[REAL].features);
  }
  limits(): GpuSupportedLimits {
    return new GpuSupportedLimits(this.scope, this[REAL].limits);
  }
  adapterInfo(): GpuAdapterInfo {
    return new GpuAdapterInfo(this.scope, this[REAL].adapterInfo);
  }
  queue(): GpuQueue {
    return new GpuQueue(this.scope, this[REAL].queue);
  }
  destroy(): void {
    destroyDevice(this[REAL]);
  }

  createBuffer(descriptor: { size: bigint }): GpuBuffer {
    const fn = 'gpu-device.create-buffer';
    const size = Number(descriptor.size);
    const buffer = new GpuBuffer(this.scope, undefined, size);
    this.scope.reserve(fn, buffer, size);
    buffer.attach(this.#create(fn, 'createBuffer', descriptor));
    return buffer;
  }
  createTexture(descriptor: Record<string, unknown>): GpuTexture {
    const fn = 'gpu-device.create-texture';
    const d = toDawn(descriptor) as Dawn;
    const bytes = textureBytes(d);
    const texture = new GpuTexture(this.scope, undefined, bytes);
    this.scope.reserve(fn, texture, bytes);
    texture.attach(attempt(fn, () => this[REAL].createTexture(d)));
    return texture;
  }
  createSampler(descriptor?: Record<string, unknown>): GpuSampler {
    return new GpuSampler(this.scope, this.#create('gpu-device.create-sampler', 'createSampler', descriptor));
  }
  createBindGroupLayout(descriptor: Record<string, unknown>): GpuBindGroupLayout {
    return new GpuBindGroupLayout(this.scope, this.#create('gpu-device.create-bind-group-layout', 'createBindGroupLayout', descriptor));
  }
  createPipelineLayout(descriptor: Record<string, unknown>): GpuPipelineLayout {
    return new GpuPipelineLayout(this.scope, this.#create('gpu-device.create-pipeline-layout', 'createPipelineLayout', descriptor));
  }
  createBindGroup(descriptor: Record<string, unknown>): GpuBindGroup {
    return new GpuBindGroup(this.scope, this.#create('gpu-device.create-bind-group', 'createBindGroup', descriptor));
  }
  createShaderModule(descriptor: Record<string, unknown>): GpuShaderModule {
    return new GpuShaderModule(this.scope, this.#create('gpu-device.create-shader-module', 'createShaderModule', descriptor));
  }
  createComputePipeline(descriptor: Record<string, unknown>): GpuComputePipeline {
    return new GpuComputePipeline(this.scope, this.#create('gpu-device.create-compute-pipeline', 'createComputePipeline', descriptor));
  }
  createRenderPipeline(descriptor: Record<string, unknown>): GpuRenderPipeline {
    return new GpuRenderPipeline(this.scope, this.#create('gpu-device.create-render-pipeline', 'createRenderPipeline', descriptor));
  }
  async createComputePipelineAsync(descriptor: Record<string, unknown>): Promise<GpuComputePipeline> {
    this.scope.check('gpu-device.create-compute-pipeline-async');
    return new GpuComputePipeline(this.scope, await pipeline(() => this[REAL].createComputePipelineAsync(toDawn(descriptor))));
  }
  async createRenderPipelineAsync(descriptor: Record<string, unknown>): Promise<GpuRenderPipeline> {
    this.scope.check('gpu-device.create-render-pipeline-async');
    return new GpuRenderPipeline(this.scope, await pipeline(() => this[REAL].createRenderPipelineAsync(toDawn(descriptor))));
  }
  createCommandEncoder(descriptor?: Record<string, unknown>): GpuCommandEncoder {
    return new GpuCommandEncoder(this.scope, this.#create('gpu-device.create-command-encoder', 'createCommandEncoder', descriptor));
  }
  createRenderBundleEncoder(descriptor: Record<string, unknown>): GpuRenderBundleEncoder {
    return new GpuRenderBundleEncoder(this.scope, this.#create('gpu-device.create-render-bundle-encoder', 'createRenderBundleEncoder', descriptor));
  }
  createQuerySet(descriptor: Record<string, unknown>): GpuQuerySet {
    this.scope.check('gpu-device.create-query-set');
    return new GpuQuerySet(this.scope, withResultSync(KINDS, 'type-error', () => this[REAL].createQuerySet(toDawn(descriptor))));
  }
  /** Blocks until the device is lost (destroyed, or the GPU failed), as WebGPU's `lost` promise. */
  async lost(): Promise<GpuDeviceLostInfo> {
    return new GpuDeviceLostInfo(this.scope, await this[REAL].lost);
  }
  pushErrorScope(filter: string): void {
    attempt('gpu-device.push-error-scope', () => this[REAL].pushErrorScope(filter));
  }
  async popErrorScope(): Promise<GpuError | undefined> {
    const error = await withResult(KINDS, 'operation-error', () => this[REAL].popErrorScope());
    return error ? new GpuError(this.scope, error) : undefined;
  }
  onuncapturederrorSubscribe(): never {
    // Uncaptured errors are logged by the host; error scopes are how a guest catches them.
    refused('gpu-device.onuncapturederror-subscribe');
  }
  connectGraphicsContext(): never {
    refused('gpu-device.connect-graphics-context');
  }

  #create(fn: string, method: string, descriptor: unknown): Dawn {
    this.scope.check(fn);
    return attempt(fn, () => this[REAL][method](toDawn(descriptor ?? {})));
  }
}

/** A pipeline made asynchronously; a failure is the WIT's `create-pipeline-error` (GPUPipelineError's reason). */
async function pipeline(make: () => Promise<Dawn>): Promise<Dawn> {
  try {
    return await make();
  } catch (err) {
    const reason = (err as { reason?: string }).reason === 'internal' ? 'internal' : 'validation';
    throw { kind: { tag: 'gpu-pipeline-error', val: reason }, message: describe(err) };
  }
}

export class GpuQueue extends Labelled {
  submit(commandBuffers: Wrapped[]): void {
    this.scope.check('gpu-queue.submit');
    attempt('gpu-queue.submit', () => this[REAL].submit(commandBuffers.map((c) => c[REAL])));
  }
  async onSubmittedWorkDone(): Promise<void> {
    await this[REAL].onSubmittedWorkDone();
  }
  writeBufferWithCopy(buffer: GpuBuffer, bufferOffset: bigint, data: Uint8Array, dataOffset?: bigint, size?: bigint): void {
    this.scope.check('gpu-queue.write-buffer-with-copy');
    withResultSync(KINDS, 'operation-error', () => this[REAL].writeBuffer(...args(buffer, bufferOffset, data, dataOffset, size)));
  }
  writeTextureWithCopy(destination: unknown, data: Uint8Array, dataLayout: unknown, size: unknown): void {
    this.scope.check('gpu-queue.write-texture-with-copy');
    attempt('gpu-queue.write-texture-with-copy', () => this[REAL].writeTexture(...args(destination, data, dataLayout, size)));
  }
}

export class GpuDeviceLostInfo extends Wrapped {
  reason(): string {
    return this[REAL].reason === 'destroyed' ? 'destroyed' : 'unknown';
  }
  message(): string {
    return this[REAL].message ?? '';
  }
}

export class GpuError extends Wrapped {
  message(): string {
    return this[REAL].message ?? '';
  }
  kind(): { tag: string } {
    const name = this[REAL].constructor?.name ?? '';
    if (/OutOfMemory/.test(name)) return { tag: 'out-of-memory-error' };
    if (/Internal/.test(name)) return { tag: 'internal-error' };
    return { tag: 'validation-error' };
  }
}

export class GpuUncapturedErrorEvent extends Wrapped {
  error(): GpuError {
    return new GpuError(this.scope, this[REAL].error);
  }
}

export { trap };
