export { webgpuPlugin, type WebGpuPlugin, type WebGpuPluginOptions } from './plugin.ts';
export { loadGpu, WebGpuUnavailableError, SWIFTSHADER_ICDS, type GpuLoadOptions, type LoadedGpu } from './load.ts';
export { DEFAULT_LIMITS, type WebGpuLimits } from './scope.ts';
export { WebGpuCallError } from './errors.ts';
