/**
 * Pulls a workload's OCI images before the host sees it, as the reference's washlet does: each
 * image with its own pull secret and policy, all at once. A failure names the component (or the
 * service) and the image, and since the host was never asked, nothing is reserved: the id stays
 * free and a corrected start under it needs no stop first.
 */
import { WasmhostError } from '../errors.ts';
import type { ImageFetcher } from '../host/sources.ts';
import type { Component, Service, Workload } from '../workload/types.ts';

/** One or more images of a start request could not be pulled. */
export class PullError extends WasmhostError {
  override readonly code = 'WASMHOST_PULL_FAILED';
}

type Source = Component | Service;

/** The workload with every `image` replaced by its pulled `bytes` (other sources untouched). */
export async function pullImages(workload: Workload, fetcher: ImageFetcher): Promise<Workload> {
  const pull = async <T extends Source>(source: T, who: string): Promise<T> => {
    if (source.image === undefined) return source;
    const image = source.image;
    try {
      const bytes = await fetcher.fetch(image, { pullSecret: source.imagePullSecret, pullPolicy: source.imagePullPolicy });
      const { image: _, ...rest } = source;
      return { ...rest, bytes } as T;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new PullError(`failed to pull image for ${who}: ${reason.includes(image) ? reason : `${image}: ${reason}`}`, { cause: err });
    }
  };
  const results = await Promise.allSettled([
    ...workload.witWorld.components.map((c) => pull(c, `component '${c.name}'`)),
    workload.service ? pull(workload.service, 'the workload service') : Promise.resolve(undefined),
  ]);
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  if (failures.length > 0) throw new PullError(failures.join('; '));
  const values = results.map((r) => (r as PromiseFulfilledResult<Source | undefined>).value);
  const service = values.pop() as Service | undefined;
  return { ...workload, ...(service && { service }), witWorld: { ...workload.witWorld, components: values as Component[] } };
}
