import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { WasiContext } from '../context.ts';
import { IoError } from '../io/error.ts';
import { Descriptor } from './descriptor.ts';
import { DirectoryEntryStream } from './directory.ts';
import { isErrorCode, type ErrorCode } from './errors.ts';
import { OpenResources } from './resources.ts';

export { Descriptor } from './descriptor.ts';
export { DirectoryEntryStream } from './directory.ts';
export type { ErrorCode } from './errors.ts';

/** Each context's open files and directories, for `closeFilesystem`. */
const open = new WeakMap<WasiContext, OpenResources>();

/** `filesystem-error-code`: the code a file stream's error stands for, if it came from one. */
function filesystemErrorCode(err: IoError): ErrorCode | undefined {
  return err instanceof IoError && isErrorCode(err.code) ? err.code : undefined;
}

/**
 * `wasi:filesystem/types` and `wasi:filesystem/preopens` for one instance. Preopens are
 * checked here, before the guest starts, so a missing host directory fails loudly instead of
 * surfacing later as a guest-visible `no-entry`.
 */
export function filesystemImports(ctx: WasiContext): Record<string, Record<string, unknown>> {
  const preopens = ctx.preopens.map((p) => ({ hostPath: realDirectory(p.hostPath), guestPath: p.guestPath, readOnly: p.readOnly === true }));
  let resources = open.get(ctx);
  if (!resources) {
    const created = new OpenResources();
    open.set(ctx, created);
    ctx.onDispose(() => created.closeAll());
    resources = created;
  }
  return {
    'wasi:filesystem/types': { Descriptor, DirectoryEntryStream, filesystemErrorCode },
    'wasi:filesystem/preopens': {
      getDirectories: (): Promise<[Descriptor, string][]> =>
        Promise.all(preopens.map(async (p) => [await Descriptor.preopen(p.hostPath, p.readOnly, resources), p.guestPath] as [Descriptor, string])),
    },
  };
}

/**
 * Closes every file and directory the instance of `ctx` still holds: a guest that exits or
 * traps never drops its handles. Call it once the instance has ended.
 */
export function closeFilesystem(ctx: WasiContext): void {
  open.get(ctx)?.closeAll();
}

/** The preopen's real path: its symlinks are the host's choice, and confinement starts below it. */
function realDirectory(hostPath: string): string {
  let real: string;
  try {
    real = realpathSync(resolve(hostPath));
  } catch (err) {
    throw new Error(`preopen ${hostPath}: ${(err as Error).message}`, { cause: err });
  }
  if (!statSync(real).isDirectory()) throw new Error(`preopen ${hostPath} is not a directory`);
  return real;
}
