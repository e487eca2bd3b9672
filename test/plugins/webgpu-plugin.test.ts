/**
 * The wasi:webgpu plugin without a component: every function of the WIT has an implementation
 * (read from the WIT copies in wit/), refused ones trap naming themselves, and a stopped workload's
 * devices are destroyed. Needs no GPU except the last test (skipped, or failed under
 * WASMHOST_REQUIRE_SERVICES=1, when there is none).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { pascal, camel } from '../../src/engine/interface-name.ts';
import type { PluginWorkload } from '../../src/plugin/plugin.ts';
import { webgpuPlugin, WebGpuCallError } from '../../src/plugins/webgpu/index.ts';
import { servicesRequired } from '../services.ts';

const WIT = resolve(import.meta.dirname, '../../wit');
const silent = pino({ level: 'silent' });

/** Resource -> its functions (`[static]name`, `[constructor]`, methods), and free functions, of one interface. */
function witFunctions(file: string, iface: string): { resources: Map<string, string[]>; functions: string[] } {
  const text = readFileSync(file, 'utf8');
  const body = text.slice(text.indexOf(`interface ${iface} {`));
  const resources = new Map<string, string[]>();
  const functions: string[] = [];
  let current: string | undefined;
  for (const line of body.split('\n').slice(1)) {
    const open = /^  resource ([a-z0-9-]+) \{/.exec(line);
    if (open) current = open[1];
    else if (/^  resource ([a-z0-9-]+) *\{ *\}/.test(line) || /^  resource ([a-z0-9-]+);/.test(line)) resources.set(/resource ([a-z0-9-]+)/.exec(line)![1], []);
    else if (/^  \}/.test(line)) current = undefined;
    else if (/^\}/.test(line)) break;
    if (open) {
      resources.set(open[1], []);
      if (/\{ *\}/.test(line)) current = undefined;
      continue;
    }
    const fn = /^ {4}(%?[A-Za-z0-9-]+): (static )?func/.exec(line);
    if (current && fn) resources.get(current)!.push(`${fn[2] ? '[static]' : ''}${fn[1].replace('%', '')}`);
    if (current && /^ {4}constructor\(/.test(line)) resources.get(current)!.push('[constructor]');
    const free = /^  ([a-z0-9-]+): func/.exec(line);
    if (!current && free) functions.push(free[1]);
  }
  return { resources, functions };
}

async function bound(plugin = webgpuPlugin({ gpu: {} })) {
  const interfaces = [{ namespace: 'wasi', package: 'webgpu', interfaces: ['webgpu'], version: '0.0.1', config: {} }];
  const workload: PluginWorkload = { id: 'w', namespace: 'test', name: 'w', annotations: {}, interfaces, logger: silent };
  const state = await plugin.onWorkloadBind!(workload);
  const implementations = await plugin.onComponentBind!(
    { workload, name: 'c', config: {}, environment: {}, allowedHosts: [], interfaces, imports: [], exports: [], logger: silent },
    state,
  );
  return { plugin, workload, state, implementations: implementations as Record<string, Record<string, unknown>> };
}

for (const [pkg, file, iface, key] of [
  ['wasi:webgpu', 'wasi-webgpu@0.0.1/webgpu.wit', 'webgpu', 'wasi:webgpu/webgpu@0.0.1'],
  ['wasi:graphics-context', 'wasi-graphics-context@0.0.1/graphics-context.wit', 'graphics-context', 'wasi:graphics-context/graphics-context@0.0.1'],
] as const) {
  test(`${pkg}: every function of the WIT has an implementation`, async () => {
    const { resources, functions } = witFunctions(resolve(WIT, file), iface);
    assert.ok(resources.size >= (iface === 'webgpu' ? 38 : 2), 'the WIT was read');
    const { implementations } = await bound();
    const impl = implementations[key];
    const missing: string[] = [];
    for (const fn of functions) if (typeof impl[camel(fn)] !== 'function') missing.push(fn);
    for (const [resource, fns] of resources) {
      const cls = impl[pascal(resource)] as (Function & Record<string, unknown>) | undefined;
      if (typeof cls !== 'function') {
        missing.push(resource);
        continue;
      }
      for (const fn of fns) {
        if (fn === '[constructor]') continue;
        const isStatic = fn.startsWith('[static]');
        const name = camel(fn.replace('[static]', ''));
        const target = isStatic ? cls : (cls.prototype as Record<string, unknown>);
        // Instance fields (set-bind-group) are checked on an instance.
        const onInstance = !isStatic && typeof target[name] !== 'function' && Object.hasOwn(new (cls as unknown as new (...a: unknown[]) => object)({}, {}), name);
        if (typeof target[name] !== 'function' && !onInstance) missing.push(`${resource}.${fn}`);
      }
    }
    assert.deepEqual(missing, []);
  });
}

test('refused functions trap with a WebGpuCallError naming the function, never crash the host', async () => {
  const { implementations } = await bound();
  const gc = implementations['wasi:graphics-context/graphics-context@0.0.1'];
  const context = new (gc.Context as new () => { present(): void; getCurrentBuffer(): void })();
  assert.throws(() => context.present(), (err: Error) => err instanceof WebGpuCallError && /graphics-context\.context\.present: not supported/.test(err.message));
  const webgpu = implementations['wasi:webgpu/webgpu@0.0.1'];
  const Texture = webgpu.GpuTexture as unknown as { fromGraphicsBuffer(): void };
  assert.throws(() => Texture.fromGraphicsBuffer(), /gpu-texture\.from-graphics-buffer: not supported/);
  const flags = webgpu.GpuBufferUsage as Record<string, () => number>;
  assert.equal(flags['MAP-READ'](), 1);
  assert.equal(flags.STORAGE(), 0x80);
});

test('a stopped workload\'s devices are destroyed, and its scope refuses further calls', async (t) => {
  const plugin = webgpuPlugin();
  try {
    await plugin.probe();
  } catch (err) {
    if (servicesRequired) throw err;
    t.skip(`no WebGPU adapter: ${(err as Error).message}`);
    return;
  }
  const { workload, state, implementations } = await bound(plugin);
  const webgpu = implementations['wasi:webgpu/webgpu@0.0.1'];
  type Device = { lost(): Promise<{ reason(): string }>; createBuffer(d: object): unknown };
  const gpu = (webgpu.getGpu as () => { requestAdapter(): Promise<{ requestDevice(): Promise<Device> }> })();
  const device = await (await gpu.requestAdapter()).requestDevice();
  const lost = device.lost();
  await plugin.onWorkloadUnbind!({ ...workload, lastReplica: true }, state);
  assert.equal((await lost).reason(), 'destroyed');
  assert.throws(() => device.createBuffer({ size: 4n, usage: 0x80 }), /create-buffer: the workload is no longer running/);
  await plugin.stop?.();
});
