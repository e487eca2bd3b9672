/**
 * Shared setup for the wasi:filesystem tests: a temporary host tree with a preopened `root`
 * and a sibling `outside` the guest must never reach, and the import object called the way
 * jco's glue calls it (camelCase methods, flags as objects of booleans, errors thrown as strings).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WasiContext } from '../../src/wasi/context.ts';
import { NO_FLAGS, type Descriptor, type DescriptorFlags } from '../../src/wasi/filesystem/descriptor.ts';
import { closeFilesystem, filesystemImports } from '../../src/wasi/filesystem/index.ts';
import type { IoError } from '../../src/wasi/io/error.ts';
import type { InputStream } from '../../src/wasi/io/streams.ts';

export const READ: DescriptorFlags = { ...NO_FLAGS, read: true };
export const WRITE: DescriptorFlags = { ...NO_FLAGS, write: true };
export const READ_WRITE: DescriptorFlags = { ...NO_FLAGS, read: true, write: true };

const NO_OPEN = { create: false, directory: false, exclusive: false, truncate: false };
export const OPEN = NO_OPEN;
export const CREATE = { ...NO_OPEN, create: true };
export const TRUNCATE = { ...NO_OPEN, truncate: true };
export const DIRECTORY = { ...NO_OPEN, directory: true };

export const FOLLOW = { symlinkFollow: true };
export const NOFOLLOW = { symlinkFollow: false };

export interface Sandbox {
  /** Host path of the preopened directory. */
  root: string;
  /** Host path of a directory next to it, holding `secret.txt`. */
  outside: string;
  /** The preopen as the guest gets it. */
  dir: Descriptor;
  guestPath: string;
  filesystemErrorCode: (err: IoError) => string | undefined;
  ctx: WasiContext;
  cleanup(): void;
}

export const SECRET = 'host secret\n';

export async function sandbox(options: { readOnly?: boolean } = {}): Promise<Sandbox> {
  const base = mkdtempSync(join(tmpdir(), 'wasmhost-fs-'));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  const ctx = new WasiContext({ preopens: [{ hostPath: root, guestPath: '/data', readOnly: options.readOnly }] });
  const imports = filesystemImports(ctx);
  const preopens = imports['wasi:filesystem/preopens'] as { getDirectories(): Promise<[Descriptor, string][]> };
  const types = imports['wasi:filesystem/types'] as { filesystemErrorCode: Sandbox['filesystemErrorCode'] };
  const [[dir, guestPath]] = await preopens.getDirectories();
  return {
    root,
    outside,
    dir,
    guestPath,
    filesystemErrorCode: types.filesystemErrorCode,
    ctx,
    cleanup() {
      closeFilesystem(ctx);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** The error-code a call fails with (thrown synchronously or as a rejection). */
export async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to fail');
}

/** Reads a stream to its end, as a guest looping on `blocking-read` would. */
export async function readAll(stream: InputStream): Promise<string> {
  const chunks: Uint8Array[] = [];
  for (;;) {
    try {
      chunks.push(await stream.blockingRead(65536n));
    } catch (err) {
      assert.deepEqual(err, { tag: 'closed' });
      return Buffer.concat(chunks).toString();
    }
  }
}

export async function writeFile(dir: Descriptor, path: string, text: string): Promise<void> {
  const file = await dir.openAt(NOFOLLOW, path, { ...CREATE, truncate: true }, WRITE);
  const out = file.writeViaStream(0n);
  await out.blockingWriteAndFlush(Buffer.from(text));
  out[Symbol.dispose]();
  file[Symbol.dispose]();
}

export async function readFile(dir: Descriptor, path: string): Promise<string> {
  const file = await dir.openAt(FOLLOW, path, OPEN, READ);
  const stream = file.readViaStream(0n);
  try {
    return await readAll(stream);
  } finally {
    stream[Symbol.dispose]();
    file[Symbol.dispose]();
  }
}
