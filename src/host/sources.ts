/**
 * Where a component's bytes come from: a file, bytes given in code, or an OCI image through an
 * `ImageFetcher` the host is given (the `oci` part provides one; the host never imports it).
 */
import { readFile } from 'node:fs/promises';
import { WasmhostError } from '../errors.ts';
import type { ComponentSource, ImagePullPolicy, ImagePullSecret } from '../workload/types.ts';

export interface ImageFetcher {
  fetch(image: string, options: { pullSecret?: ImagePullSecret; pullPolicy: ImagePullPolicy }): Promise<Uint8Array>;
}

export async function loadSource(
  source: ComponentSource & { imagePullSecret?: ImagePullSecret; imagePullPolicy: ImagePullPolicy },
  fetcher: ImageFetcher | undefined,
): Promise<Uint8Array> {
  if (source.bytes) return source.bytes;
  if (source.file !== undefined) {
    try {
      return await readFile(source.file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
      throw new WasmhostError(`cannot read ${source.file}: ${why}`, { cause: err });
    }
  }
  if (!fetcher) {
    throw new WasmhostError(`cannot pull image ${source.image}: this host has no OCI client`, {
      hint: 'give the host an image fetcher (HostBuilder.withImageFetcher), or use a file source',
    });
  }
  return fetcher.fetch(source.image!, { pullSecret: source.imagePullSecret, pullPolicy: source.imagePullPolicy });
}
