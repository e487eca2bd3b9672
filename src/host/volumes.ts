/**
 * A workload's volumes on the host: a `hostPath` must be an existing directory; an `emptyDir`
 * is a fresh directory created at start and removed when the workload stops.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WasmhostError } from '../errors.ts';
import type { Preopen } from '../wasi/context.ts';
import type { Volume, VolumeMount } from '../workload/types.ts';

export class VolumeError extends WasmhostError {
  override readonly code = 'WASMHOST_VOLUME_ERROR';
}

export class PreparedVolumes {
  readonly #paths: Map<string, string>;
  readonly #temporary: string[];

  private constructor(paths: Map<string, string>, temporary: string[]) {
    this.#paths = paths;
    this.#temporary = temporary;
  }

  /** Checks host paths and creates empty dirs; on failure nothing is left behind. */
  static async prepare(volumes: readonly Volume[], workloadName: string): Promise<PreparedVolumes> {
    const paths = new Map<string, string>();
    const temporary: string[] = [];
    try {
      for (const volume of volumes) {
        if (volume.hostPath) {
          await checkDirectory(volume.name, volume.hostPath.localPath);
          paths.set(volume.name, volume.hostPath.localPath);
        } else {
          const dir = await mkdtemp(join(tmpdir(), `wasmhost-${safe(workloadName)}-${safe(volume.name)}-`));
          temporary.push(dir);
          paths.set(volume.name, dir);
        }
      }
    } catch (err) {
      await removeAll(temporary);
      throw err;
    }
    return new PreparedVolumes(paths, temporary);
  }

  /** The preopens for one component's mounts (names are checked when the workload is validated). */
  preopens(mounts: readonly VolumeMount[]): Preopen[] {
    return mounts.map((m) => {
      const hostPath = this.#paths.get(m.name);
      if (hostPath === undefined) throw new VolumeError(`volume mount "${m.name}" names no volume of the workload`);
      return { hostPath, guestPath: m.mountPath, readOnly: m.readOnly };
    });
  }

  /** Removes the empty dirs. Idempotent. */
  async release(): Promise<void> {
    await removeAll(this.#temporary.splice(0));
  }
}

async function checkDirectory(name: string, path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not accessible' : (err as Error).message;
    throw new VolumeError(`volume "${name}": host path ${path} ${why}`, { hint: 'a hostPath volume must name an existing directory' });
  }
  if (!info.isDirectory()) throw new VolumeError(`volume "${name}": host path ${path} is not a directory`);
}

async function removeAll(dirs: string[]): Promise<void> {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}

/** A name fragment safe in a directory name. */
function safe(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
}
