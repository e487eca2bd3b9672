import type { WitInterface } from '../../plugin/plugin.ts';

/** The host interface config key naming the backend a workload's messages go through. */
const BACKEND_KEY = 'backend';

/**
 * The backend type (`memory`, `nats`) the workload's `wasmcloud:messaging` host interfaces name
 * in config `backend`, or undefined for the host's own. Other keys are left alone, as before
 * (`subscriptions` is read per component, `subscriptions.ts`).
 */
export function backendSetting(interfaces: readonly WitInterface[]): string | undefined {
  let type: string | undefined;
  for (const iface of interfaces) {
    if (iface.namespace === 'wasmcloud' && iface.package === 'messaging' && iface.config[BACKEND_KEY] !== undefined) type = iface.config[BACKEND_KEY];
  }
  return type?.trim() || undefined;
}
