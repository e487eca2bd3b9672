// createOutgoingHttpImports, the public way to give a component outgoing wasi:http with the engine
// alone: a command component (http-get) sends a request where allowedHosts lets it, and is refused
// (HTTP-request-denied) where it does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOutgoingHttpImports, createWasiImports, Engine, WasiContext } from '../../src/index.ts';
import { fixturePath } from '../fixtures/index.ts';

const component = await new Engine({ cacheDir: false }).compile(fixturePath('http-get'));

async function get(url: string, allowedHosts: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const wasi = new WasiContext({ args: ['http-get', url], stdout: 'capture', stderr: 'capture' });
  const http = createOutgoingHttpImports({ allowedHosts });
  try {
    const instance = await component.instantiate({ ...createWasiImports(wasi), ...http.imports }, { onClose: () => wasi.dispose() });
    const code = await instance.run();
    return { code, stdout: wasi.capturedStdout().toString(), stderr: wasi.capturedStderr().toString() };
  } finally {
    wasi.dispose();
    await http.close();
  }
}

test('createOutgoingHttpImports: requests go where allowedHosts lets them, and are denied elsewhere', async () => {
  const server = createServer((req, res) => res.end(`pong ${req.url}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping`;
  try {
    assert.deepEqual(await get(url, ['127.0.0.1']), { code: 0, stdout: '200\npong /ping', stderr: '' });
    const denied = await get(url, ['example.com']);
    assert.equal(denied.code, 1);
    assert.equal(denied.stderr, 'error: HTTP-request-denied\n');
  } finally {
    server.close();
  }
});
