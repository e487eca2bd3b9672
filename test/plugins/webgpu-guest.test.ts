/**
 * wasi:webgpu end to end: the gpu-compute component (componentize-js) through the host, running
 * WGSL compute shaders on whatever adapter this machine has (SwiftShader, the CPU, in CI). Without
 * any adapter the suite is skipped, or fails under WASMHOST_REQUIRE_SERVICES=1.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { webgpuPlugin } from '../../src/plugins/webgpu/index.ts';
import { servicesRequired } from '../services.ts';
import { component, startedHost } from '../host/helpers.ts';

const WEBGPU = { namespace: 'wasi', package: 'webgpu', interfaces: ['webgpu'], version: '0.0.1' };
const plugin = webgpuPlugin({ maxBufferSize: 1024 * 1024 });

async function gpuSkip(): Promise<false | string> {
  try {
    const loaded = await plugin.probe();
    console.log(`# wasi:webgpu adapter: ${loaded.description}`);
    return false;
  } catch (err) {
    const why = `no WebGPU adapter: ${(err as Error).message}`;
    if (servicesRequired) throw new Error(`${why}, and WASMHOST_REQUIRE_SERVICES=1 requires it`, { cause: err });
    console.log(`# skipped: ${why}`);
    return why;
  }
}

const skip = await gpuSkip();

describe('wasi:webgpu through the host', { skip }, async () => {
  const { host, entries } = await startedHost(plugin);
  after(() => host.stop());

  const started = await host.workloadStart({
    workloadId: 'gpu',
    workload: { namespace: 'test', name: 'gpu', witWorld: { components: [component('gpu', 'gpu-compute')], hostInterfaces: [WEBGPU] } },
  });

  async function call(target: string, ...args: unknown[]): Promise<unknown> {
    const invocation = host.workload('gpu')!.invocation('gpu');
    try {
      const result = await invocation.call(target, ...args);
      return result instanceof Float32Array ? [...result] : result;
    } finally {
      await invocation.close();
    }
  }

  /** The guest's `err(...)` string. */
  async function guestError(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (err) {
      const payload = (err as { payload?: unknown }).payload;
      if (typeof payload === 'string') return payload;
      return String((err as Error).message);
    }
    assert.fail('expected an error');
  }

  test('the workload starts', () => {
    assert.equal(started.workloadStatus.workloadState, 'WORKLOAD_STATE_RUNNING', started.workloadStatus.message);
  });

  test('a compute shader doubles [1, 2, 3]', async () => {
    assert.deepEqual(await call('double', new Float32Array([1, 2, 3])), [2, 4, 6]);
  });

  test('many values, several workgroups, again and again on fresh instances', async () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => i - 500.5);
    for (let round = 0; round < 3; round++) {
      assert.deepEqual(await call('double', values), [...values].map((v) => v * 2));
    }
  });

  test('a shader that does not compile: the compiler\'s message reaches the guest; the host goes on', async () => {
    const message = await guestError(call('run-shader', '@compute @workgroup_size(1) fn main() { let x: f32 = nope; }', new Float32Array([1])));
    assert.match(message, /^shader: 1:\d+: .*nope/);
    assert.deepEqual(await call('double', new Float32Array([5])), [10]);
  });

  test('a buffer past maxBufferSize is refused, naming the function and the option', async () => {
    assert.equal(await call('make-buffer', 1024n), 1024n);
    const message = await guestError(call('make-buffer', 1024n * 1024n * 1024n));
    assert.match(message, /create-buffer: .*1073741824 bytes is larger than this host allows \(1048576 bytes, plugin option maxBufferSize\)/);
    assert.deepEqual(await call('double', new Float32Array([1.5])), [3]);
  });

  test('the adapter is named', async () => {
    assert.match(String(await call('adapter')), /\S/);
    assert.ok(entries.every((e) => e.level < 50), 'no error logged');
  });

  test('a workload that does not declare wasi:webgpu cannot start it', async () => {
    const status = await host.workloadStart({
      workloadId: 'undeclared',
      workload: { namespace: 'test', name: 'undeclared', witWorld: { components: [component('gpu', 'gpu-compute')], hostInterfaces: [] } },
    });
    assert.equal(status.workloadStatus.workloadState, 'WORKLOAD_STATE_ERROR');
    // The first import nothing serves is named (the component imports both packages).
    assert.match(status.workloadStatus.message, /imports wasi:(webgpu\/webgpu|graphics-context\/graphics-context)@0\.0\.1, which nothing serves/);
    assert.match(status.workloadStatus.message, /plugin "wasi-webgpu" serves it: declare .* in witWorld\.hostInterfaces/);
  });
});
