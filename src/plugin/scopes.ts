import type { PluginWorkload } from './plugin.ts';

/**
 * The storage scope of a workload: its stable identity `<namespace>/<name>`, not its id. An
 * operator restarts a workload under a new id, and its key-value and blob data must still be
 * there; replicas of one workload share their data; different workloads never see each other's.
 *
 * Tracks which running workloads hold each scope, so that a call still running after its
 * workload stopped cannot recreate a scope, and a scope is dropped only when its last workload
 * unbinds (backends that outlive workloads ignore the drop).
 */
export class WorkloadScopes {
  /** workload id -> scope, for the workloads bound and not yet unbound. */
  readonly #byWorkload = new Map<string, string>();
  /** scope -> how many bound workloads hold it. */
  readonly #holders = new Map<string, number>();

  static scopeOf(workload: Pick<PluginWorkload, 'namespace' | 'name'>): string {
    return `${workload.namespace}/${workload.name}`;
  }

  /** Idempotent per workload id; answers the workload's scope. */
  bind(workload: PluginWorkload): string {
    const scope = WorkloadScopes.scopeOf(workload);
    if (!this.#byWorkload.has(workload.id)) {
      this.#byWorkload.set(workload.id, scope);
      this.#holders.set(scope, (this.#holders.get(scope) ?? 0) + 1);
    }
    return scope;
  }

  isBound(scope: string): boolean {
    return this.#holders.has(scope);
  }

  /** Forgets the workload; answers its scope when no other running workload holds it any more. */
  unbind(workloadId: string): string | undefined {
    const scope = this.#byWorkload.get(workloadId);
    if (scope === undefined) return undefined;
    this.#byWorkload.delete(workloadId);
    const left = (this.#holders.get(scope) ?? 1) - 1;
    if (left > 0) {
      this.#holders.set(scope, left);
      return undefined;
    }
    this.#holders.delete(scope);
    return scope;
  }
}
