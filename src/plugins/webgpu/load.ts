/**
 * Getting a WebGPU implementation: Dawn's Node bindings (the `webgpu` package, a native addon)
 * are imported only here and only when asked, so a host without the package, or without a GPU,
 * starts as before.
 *
 * Without a GPU, Dawn's Vulkan backend runs on SwiftShader, the CPU Vulkan driver that Chromium
 * ships (Debian's `chromium` package: `/usr/lib/chromium/vk_swiftshader_icd.json` next to its
 * own Vulkan loader `libvulkan.so.1`). When no adapter is found and `softwareFallback` is on, the
 * loader points `VK_ICD_FILENAMES` at that driver (unless already set) and, when the system has
 * no Vulkan loader, loads Chromium's, then asks a fresh Dawn instance again.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WasmhostError } from '../../errors.ts';
import type { Dawn } from './dawn.ts';

/** Where SwiftShader's Vulkan driver manifest is looked for (Debian's and Ubuntu's chromium). */
export const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];

export interface GpuLoadOptions {
  /** Options for Dawn's `create` (`backend=vulkan`, `adapter=...`, `enable-dawn-features=...`). */
  dawnFlags?: string[];
  /** Fall back to SwiftShader (CPU) when no adapter is found; default true. */
  softwareFallback?: boolean;
  /** SwiftShader ICD manifest; default the first of `SWIFTSHADER_ICDS` that exists. */
  swiftshaderIcd?: string;
}

export class WebGpuUnavailableError extends WasmhostError {
  override readonly code = 'WASMHOST_WEBGPU_UNAVAILABLE';
}

/** A WebGPU entry point that gave an adapter, and what it runs on. */
export interface LoadedGpu {
  gpu: Dawn;
  /** `SwiftShader (CPU)` or the adapter's vendor and description. */
  description: string;
  software: boolean;
}

type DawnModule = { create(flags: string[]): Dawn };

async function importDawn(): Promise<DawnModule> {
  try {
    // A variable specifier: type checking and bundlers do not need the optional package.
    const name = 'webgpu';
    return (await import(name)) as DawnModule;
  } catch (err) {
    throw new WebGpuUnavailableError('the webgpu package (Dawn for Node) is not installed', { cause: err, hint: 'npm install webgpu' });
  }
}

/** RTLD_NOW | RTLD_NODELETE (glibc): the library stays loaded after Node gives up on it as an addon. */
const PRELOAD_FLAGS = 0x2 | 0x1000;

/** Makes `libvulkan.so.1` resolvable for Dawn: the system's, else the one beside the ICD. */
function ensureVulkanLoader(icd: string): void {
  const attempt = (path: string): boolean => {
    try {
      process.dlopen({ exports: {} }, path, PRELOAD_FLAGS);
      return true;
    } catch (err) {
      // Loaded, but not a Node addon: exactly what we wanted.
      return /self-register/.test((err as Error).message);
    }
  };
  if (!attempt('libvulkan.so.1')) attempt(join(dirname(icd), 'libvulkan.so.1'));
}

async function firstAdapter(dawn: DawnModule, flags: string[]): Promise<{ gpu: Dawn; adapter: Dawn } | undefined> {
  const gpu = dawn.create(flags);
  const adapter = await gpu.requestAdapter();
  return adapter ? { gpu, adapter } : undefined;
}

function describe(adapter: Dawn): { description: string; software: boolean } {
  const { vendor, description } = adapter.info;
  const software = /swiftshader/i.test(description) || /swiftshader/i.test(vendor);
  return { description: software ? `SwiftShader (CPU): ${description}` : [vendor, description].filter(Boolean).join(' ') || 'unknown adapter', software };
}

/** Loads Dawn and finds an adapter, or throws `WebGpuUnavailableError` saying why not. */
export async function loadGpu(options: GpuLoadOptions = {}): Promise<LoadedGpu> {
  const dawn = await importDawn();
  const flags = options.dawnFlags ?? [];
  let found = await firstAdapter(dawn, flags);
  if (!found && (options.softwareFallback ?? true) && process.platform === 'linux') {
    const icd = options.swiftshaderIcd ?? SWIFTSHADER_ICDS.find((p) => existsSync(p));
    if (icd) {
      process.env.VK_ICD_FILENAMES ??= icd;
      ensureVulkanLoader(icd);
      // A Dawn instance that found no Vulkan does not look again: ask a new one.
      found = await firstAdapter(dawn, flags);
    }
  }
  if (!found) {
    throw new WebGpuUnavailableError('no WebGPU adapter: no GPU driver answered, and no SwiftShader fallback was found', {
      hint: 'install a GPU driver (Vulkan, Metal or D3D12), or Debian\'s chromium package for SwiftShader (CPU)',
    });
  }
  return { gpu: found.gpu, ...describe(found.adapter) };
}
