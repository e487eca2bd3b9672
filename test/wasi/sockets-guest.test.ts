/**
 * wasi:sockets under a real guest: a core module written against the canonical ABI, made a
 * component from WIT at test time, run through the engine (jco glue + JSPI). It connects to a
 * Node server on loopback and writes "hi".
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco';
import { Engine } from '../../src/engine/engine.ts';
import type { CompiledComponent } from '../../src/engine/component.ts';
import { WasiContext, type NetworkPolicy } from '../../src/wasi/context.ts';
import { ioImports } from '../../src/wasi/io/index.ts';
import { closeSockets, socketsImports } from '../../src/wasi/sockets/index.ts';
import { nodeServer } from './sockets-helpers.ts';

const WORLD = `
package test:sockets-guest;
world guest {
  import wasi:sockets/instance-network@0.2.12;
  import wasi:sockets/tcp-create-socket@0.2.12;
  import wasi:sockets/tcp@0.2.12;
  export run: func(a: u8, b: u8, c: u8, d: u8, port: u16) -> u32;
}
`;

/**
 * `run` answers 0 after writing "hi" to a.b.c.d:port, or where it stopped plus the error code:
 * 1000 + create-tcp-socket's, 2000 + start-connect's, 3000 + finish-connect's, 4000 for the write.
 */
const GUEST = `
(module
  (import "wasi:sockets/instance-network@0.2.12" "instance-network" (func $instance_network (result i32)))
  (import "wasi:sockets/tcp-create-socket@0.2.12" "create-tcp-socket" (func $create (param i32 i32)))
  (import "wasi:sockets/tcp@0.2.12" "[method]tcp-socket.start-connect"
    (func $start_connect (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:sockets/tcp@0.2.12" "[method]tcp-socket.subscribe" (func $subscribe (param i32) (result i32)))
  (import "wasi:sockets/tcp@0.2.12" "[method]tcp-socket.finish-connect" (func $finish_connect (param i32 i32)))
  (import "wasi:io/poll@0.2.12" "[method]pollable.block" (func $block (param i32)))
  (import "wasi:io/poll@0.2.12" "[resource-drop]pollable" (func $drop_pollable (param i32)))
  (import "wasi:io/streams@0.2.12" "[method]output-stream.blocking-write-and-flush" (func $write (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 512) "hi")
  (func (export "run") (param $a i32) (param $b i32) (param $c i32) (param $d i32) (param $port i32) (result i32)
    (local $net i32) (local $sock i32) (local $p i32)
    (local.set $net (call $instance_network))
    (call $create (i32.const 0) (i32.const 256))
    (if (i32.load8_u (i32.const 256)) (then (return (i32.add (i32.const 1000) (i32.load8_u (i32.const 260))))))
    (local.set $sock (i32.load (i32.const 260)))
    ;; ip-socket-address flattened: discriminant, then ipv4 (port, a, b, c, d) padded to eleven slots
    (call $start_connect (local.get $sock) (local.get $net)
      (i32.const 0) (local.get $port) (local.get $a) (local.get $b) (local.get $c) (local.get $d)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 256))
    (if (i32.load8_u (i32.const 256)) (then (return (i32.add (i32.const 2000) (i32.load8_u (i32.const 257))))))
    (block $connected
      (loop $wait
        (call $finish_connect (local.get $sock) (i32.const 256))
        (br_if $connected (i32.eqz (i32.load8_u (i32.const 256))))
        ;; 8 is would-block: poll the socket and try again
        (if (i32.ne (i32.load8_u (i32.const 260)) (i32.const 8))
          (then (return (i32.add (i32.const 3000) (i32.load8_u (i32.const 260))))))
        (local.set $p (call $subscribe (local.get $sock)))
        (call $block (local.get $p))
        (call $drop_pollable (local.get $p))
        (br $wait)))
    ;; finish-connect gave (input, output) at 260 and 264
    (call $write (i32.load (i32.const 264)) (i32.const 512) (i32.const 2) (i32.const 256))
    (if (i32.load8_u (i32.const 256)) (then (return (i32.const 4000))))
    (i32.const 0)))
`;

let component: CompiledComponent;

before(async () => {
  // jco's wasm-tools reads WIT through preview2-shim's filesystem (DESIGN.md).
  (_setPreopens as (preopens: Record<string, string>) => void)({ '/': '/' });
  const wit = join(dirname(fileURLToPath(import.meta.resolve('@bytecodealliance/jco'))), '../lib/wit/builtin/0.2.12');
  const dir = mkdtempSync(join(tmpdir(), 'wasmhost-sockets-guest-'));
  try {
    writeFileSync(join(dir, 'world.wit'), WORLD);
    for (const pkg of ['wasi-sockets', 'wasi-io', 'wasi-clocks']) cpSync(join(wit, pkg), join(dir, 'deps', pkg), { recursive: true });
    const core = await parse(GUEST);
    const embedded = await componentEmbed({ binary: core, witPath: dir, world: 'guest' } as never);
    component = await new Engine({ cacheDir: false }).compile(await componentNew(embedded, undefined));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function runGuest(network: NetworkPolicy, address: [number, number, number, number], port: number): Promise<unknown> {
  const ctx = new WasiContext({ network });
  const instance = await component.instantiate({ ...ioImports, ...socketsImports(ctx) });
  try {
    return await instance.call('run', ...address, port);
  } finally {
    closeSockets(ctx);
  }
}

test('guest: connects through the glue, polls while connecting, writes to a Node server', async (t) => {
  const received = Promise.withResolvers<string>();
  const { port } = await nodeServer(t, '127.0.0.1', (socket) => {
    socket.setEncoding('utf8').once('data', (data: string) => received.resolve(data));
  });
  assert.equal(await runGuest({ tcp: true }, [127, 0, 0, 1], port), 0);
  assert.equal(await received.promise, 'hi');
});

test('guest: sees policy denials and connect failures as error codes', async (t) => {
  const { port } = await nodeServer(t, '127.0.0.1', () => {});
  // access-denied is code 1, connection-refused 14.
  assert.equal(await runGuest({}, [127, 0, 0, 1], port), 1001);
  assert.equal(await runGuest({ tcp: true, allowedAddresses: ['10.0.0.0/8'] }, [127, 0, 0, 1], port), 2001);
  const closed = createServer().listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const closedPort = (closed.address() as { port: number }).port;
  await new Promise((resolve) => closed.close(resolve));
  assert.equal(await runGuest({ tcp: true }, [127, 0, 0, 1], closedPort), 3014);
});
