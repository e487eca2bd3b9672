/**
 * The queue group a component's handler subscriptions join: one per workload identity (namespace
 * and name, the same on every host that runs the workload, unlike its per-host id) and
 * component, so that hosts running the same workload share its messages instead of each handling
 * all of them, while two components of one workload still each get their own copy.
 *
 * Each part becomes one dot-separated token of `[A-Za-z0-9_-]`: any other character (the dot
 * included) is written `~` plus the hex of its UTF-8 bytes, and an empty part `~`, so distinct
 * identities never share a name and every name is valid for NATS.
 */
export function queueGroupName(namespace: string, workloadName: string, component: string): string {
  return ['wasmhost', namespace, workloadName, component].map(token).join('.');
}

const encoder = new TextEncoder();

function token(part: string): string {
  if (part === '') return '~';
  return part.replace(/[^A-Za-z0-9_-]/gu, (char) => [...encoder.encode(char)].map((b) => `~${b.toString(16).padStart(2, '0')}`).join(''));
}
