/**
 * `wasi:webgpu/webgpu@0.0.1` and `wasi:graphics-context/graphics-context@0.0.1` over Dawn (the
 * `webgpu` npm package, loaded at the first bind that needs it): WebGPU compute and offscreen
 * rendering for the workloads that declare `wasi:webgpu` in their host interfaces. Surfaces,
 * canvases and presentation are refused (see `errors.ts`): a host has no display.
 */
import { pluginInterface, type Implementations, type Plugin } from '../../plugin/plugin.ts';
import { hostInterfaceConfig } from '../../plugin/config.ts';
import { Gpu, GpuAdapter, GpuAdapterInfo, GpuSupportedFeatures, GpuSupportedLimits, WgslLanguageFeatures } from './adapter.ts';
import { GpuBuffer } from './buffer.ts';
import { type Dawn } from './dawn.ts';
import { GpuDevice, GpuDeviceLostInfo, GpuError, GpuQueue, GpuUncapturedErrorEvent } from './device.ts';
import { GpuCommandEncoder, GpuComputePassEncoder, GpuRenderBundleEncoder, GpuRenderPassEncoder } from './encoders.ts';
import { GpuBufferUsage, GpuColorWrite, GpuMapMode, GpuShaderStage, GpuTextureUsage } from './flags.ts';
import { AbstractBuffer, Context } from './graphics-context.ts';
import { loadGpu, type GpuLoadOptions, type LoadedGpu } from './load.ts';
import {
  GpuBindGroup, GpuBindGroupLayout, GpuCanvasContext, GpuCommandBuffer, GpuCompilationInfo, GpuCompilationMessage, GpuComputePipeline,
  GpuPipelineLayout, GpuQuerySet, GpuRenderBundle, GpuRenderPipeline, GpuSampler, GpuShaderModule, GpuTexture, GpuTextureView,
} from './objects.ts';
import { RecordGpuPipelineConstantValue, RecordOptionGpuSize64 } from './records.ts';
import { DEFAULT_LIMITS, GpuScope, type WebGpuLimits } from './scope.ts';

export interface WebGpuPluginOptions extends GpuLoadOptions, Partial<WebGpuLimits> {
  /** Default `wasi-webgpu` (the reference's id). */
  id?: string;
  /** A WebGPU entry point of your own (a `navigator.gpu`: `GPU` of @webgpu/types); default Dawn's, loaded on first use. */
  gpu?: Dawn | (() => Promise<Dawn>);
}

const WEBGPU = 'wasi:webgpu/webgpu@0.0.1';
const GRAPHICS_CONTEXT = 'wasi:graphics-context/graphics-context@0.0.1';

/** The resource classes of `wasi:webgpu/webgpu`, under jco's names. */
const WEBGPU_CLASSES = {
  Gpu, GpuAdapter, GpuAdapterInfo, GpuSupportedFeatures, GpuSupportedLimits, WgslLanguageFeatures,
  GpuDevice, GpuQueue, GpuDeviceLostInfo, GpuError, GpuUncapturedErrorEvent, GpuBuffer,
  GpuBufferUsage, GpuMapMode, GpuTextureUsage, GpuShaderStage, GpuColorWrite,
  GpuTexture, GpuTextureView, GpuSampler, GpuBindGroupLayout, GpuBindGroup, GpuPipelineLayout, GpuShaderModule,
  GpuCompilationInfo, GpuCompilationMessage, GpuComputePipeline, GpuRenderPipeline, GpuCommandBuffer, GpuCommandEncoder,
  GpuComputePassEncoder, GpuRenderPassEncoder, GpuRenderBundle, GpuRenderBundleEncoder, GpuQuerySet, GpuCanvasContext,
  RecordOptionGpuSize64, RecordGpuPipelineConstantValue,
};

/** Per workload: the scopes of its components, closed when it stops. */
interface WebGpuState {
  scopes: GpuScope[];
}

export interface WebGpuPlugin extends Plugin<WebGpuState> {
  /** Loads the GPU now (rather than at the first bind): what it runs on, or why there is none. */
  probe(): Promise<LoadedGpu>;
}

export function webgpuPlugin(options: WebGpuPluginOptions = {}): WebGpuPlugin {
  const id = options.id ?? 'wasi-webgpu';
  const limits: WebGpuLimits = {
    maxBufferSize: options.maxBufferSize ?? DEFAULT_LIMITS.maxBufferSize,
    maxBytes: options.maxBytes ?? DEFAULT_LIMITS.maxBytes,
    maxDevices: options.maxDevices ?? DEFAULT_LIMITS.maxDevices,
  };
  let loading: Promise<LoadedGpu> | undefined;
  const load = (): Promise<LoadedGpu> => {
    if (!loading) {
      const given = options.gpu;
      loading = given
        ? (async () => ({ gpu: typeof given === 'function' ? await given() : given, description: 'given by the embedder', software: false }))()
        : loadGpu(options);
      // A failed load is tried again at the next bind (a driver may appear; the error stays explained).
      loading.catch(() => (loading = undefined));
    }
    return loading;
  };

  return {
    id,
    imports: [pluginInterface(WEBGPU), pluginInterface(GRAPHICS_CONTEXT)],
    probe: load,

    async onWorkloadBind(workload): Promise<WebGpuState> {
      hostInterfaceConfig(id, workload.interfaces, { namespace: 'wasi', package: 'webgpu' }, []);
      // Fails the start, with the reason, when this host has no WebGPU at all.
      const loaded = await load();
      workload.logger.debug({ adapter: loaded.description }, 'wasi:webgpu bound');
      return { scopes: [] };
    },

    async onComponentBind(component, state): Promise<Implementations> {
      const { gpu } = await load();
      const scope = new GpuScope(async () => gpu as Dawn, limits, component.logger);
      state.scopes.push(scope);
      return {
        [WEBGPU]: { ...WEBGPU_CLASSES, getGpu: () => new Gpu(scope, gpu) },
        [GRAPHICS_CONTEXT]: { Context, AbstractBuffer },
      };
    },

    onWorkloadUnbind(_workload, state) {
      for (const scope of state.scopes) scope.close();
    },

    stop() {
      // Dawn's instance keeps the process alive while referenced.
      loading = undefined;
    },
  };
}
