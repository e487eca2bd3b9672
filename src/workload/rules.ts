/**
 * Workload rules that span fields, which a per-field schema cannot express. They run even
 * when some fields are invalid (so every problem is reported in one pass) and therefore read
 * the partly parsed value loosely: anything of the wrong type is skipped, its own field error
 * already says why.
 */
import type * as z from 'zod';
import { formatPath, isRecord } from './proto-json.ts';

type Path = (string | number)[];

function at(value: unknown, path: Path): unknown {
  let node = value;
  for (const key of path) node = isRecord(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[key] : undefined;
  return node;
}

const listAt = (value: unknown, path: Path): unknown[] => {
  const list = at(value, path);
  return Array.isArray(list) ? list : [];
};

const nameOf = (item: unknown): string | undefined => {
  const name = at(item, ['name']);
  return typeof name === 'string' && name !== '' ? name : undefined;
};

export function checkWorkloadRules(workload: unknown, ctx: z.RefinementCtx): void {
  const report = (path: Path, message: string) => ctx.addIssue({ code: 'custom', path, input: at(workload, path), message });

  // Names are how components are told apart (linking, logs, status): they must be unique.
  for (const listPath of [['witWorld', 'components'], ['volumes']] as Path[]) {
    const seen = new Map<string, number>();
    listAt(workload, listPath).forEach((item, i) => {
      const name = nameOf(item);
      if (name === undefined) return;
      const first = seen.get(name);
      if (first === undefined) seen.set(name, i);
      else report([...listPath, i, 'name'], `duplicate name "${name}" (also used by ${formatPath([...listPath, first])})`);
    });
  }

  // The service is called "service" in logs, plugin binds and link errors.
  if (isRecord(at(workload, ['service']))) {
    listAt(workload, ['witWorld', 'components']).forEach((item, i) => {
      if (nameOf(item) === 'service') report(['witWorld', 'components', i, 'name'], 'the name "service" is reserved for the workload\'s service');
    });
  }

  const declared = new Set(listAt(workload, ['volumes']).map(nameOf).filter((n) => n !== undefined));
  const users: Path[] = listAt(workload, ['witWorld', 'components']).map((_, i) => ['witWorld', 'components', i]);
  if (isRecord(at(workload, ['service']))) users.push(['service']);
  for (const user of users) {
    const mountsPath = [...user, 'localResources', 'volumeMounts'];
    const guestPaths = new Map<string, number>();
    listAt(workload, mountsPath).forEach((mount, j) => {
      const name = nameOf(mount);
      if (name !== undefined && !declared.has(name)) {
        const known = declared.size ? `declared: ${[...declared].map((n) => `"${n}"`).join(', ')}` : 'none is declared';
        report([...mountsPath, j, 'name'], `no volume named "${name}" in volumes (${known})`);
      }
      const guestPath = at(mount, ['mountPath']);
      if (typeof guestPath !== 'string') return;
      const first = guestPaths.get(guestPath);
      if (first === undefined) guestPaths.set(guestPath, j);
      else report([...mountsPath, j, 'mountPath'], `"${guestPath}" is already mounted by ${formatPath([...mountsPath, first])}`);
    });
  }

  // Reclaiming shrinks a pool: it needs one, and cannot keep more than the pool holds.
  listAt(workload, ['witWorld', 'components']).forEach((item, i) => {
    const poolSize = at(item, ['poolSize']);
    const window = at(item, ['reclaimWindowSeconds']);
    const min = at(item, ['reclaimMinInstances']);
    if (typeof poolSize !== 'number') return;
    if (typeof window === 'number' && window > 0 && poolSize === 0) {
      report(['witWorld', 'components', i, 'reclaimWindowSeconds'], 'reclaiming needs warm instances to reclaim: set poolSize too');
    }
    if (typeof min === 'number' && min > poolSize) {
      report(['witWorld', 'components', i, 'reclaimMinInstances'], `${min} is more than poolSize (${poolSize})`);
    }
  });

  const components = at(workload, ['witWorld', 'components']);
  if (Array.isArray(components) && components.length === 0 && at(workload, ['service']) === undefined) {
    report(['witWorld', 'components'], 'a workload needs at least one component or a service');
  }
}
