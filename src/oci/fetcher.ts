/**
 * The host's `ImageFetcher` (src/host/sources.ts) on an `OciClient`: a workload's `pullSecret`
 * becomes the credentials and its `imagePullPolicy` the pull policy. The types are restated
 * here rather than imported: `oci` may not import `host` or `workload`; the shapes match.
 */
import { OciClient, type OciClientOptions, type PullPolicy, type PullResult } from './client.ts';
import type { Credentials } from './credentials.ts';

/** The workload's policy names (proto enum); UNSPECIFIED means IF_NOT_PRESENT. */
export type WorkloadPullPolicy =
  | 'IMAGE_PULL_POLICY_UNSPECIFIED'
  | 'IMAGE_PULL_POLICY_ALWAYS'
  | 'IMAGE_PULL_POLICY_IF_NOT_PRESENT'
  | 'IMAGE_PULL_POLICY_NEVER';

const POLICIES: Record<WorkloadPullPolicy, PullPolicy> = {
  IMAGE_PULL_POLICY_UNSPECIFIED: 'IF_NOT_PRESENT',
  IMAGE_PULL_POLICY_ALWAYS: 'ALWAYS',
  IMAGE_PULL_POLICY_IF_NOT_PRESENT: 'IF_NOT_PRESENT',
  IMAGE_PULL_POLICY_NEVER: 'NEVER',
};

export function toPullPolicy(policy: WorkloadPullPolicy): PullPolicy {
  return POLICIES[policy] ?? 'IF_NOT_PRESENT';
}

export interface OciImageFetcherOptions extends OciClientOptions {
  /** Told about every image fetched (its digest, whether it came from the cache). */
  onPull?: (result: PullResult) => void;
}

export class OciImageFetcher {
  readonly client: OciClient;
  readonly #onPull?: (result: PullResult) => void;

  constructor(client: OciClient | OciImageFetcherOptions) {
    if (client instanceof OciClient) {
      this.client = client;
    } else {
      this.client = new OciClient(client);
      if (client.onPull) this.#onPull = client.onPull;
    }
  }

  async fetch(image: string, options: { pullSecret?: Credentials; pullPolicy: WorkloadPullPolicy }): Promise<Uint8Array> {
    const secret = options.pullSecret;
    const result = await this.client.pull(image, {
      policy: toPullPolicy(options.pullPolicy),
      // An empty secret (both fields blank) means none: the Docker config or anonymous.
      ...(secret && (secret.username || secret.password) ? { credentials: secret } : {}),
    });
    this.#onPull?.(result);
    return result.bytes;
  }
}
