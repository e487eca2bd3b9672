import type { PluginComponent } from '../../plugin/plugin.ts';
import { listSetting } from '../../plugin/config.ts';
import { ManifestError } from '../../errors.ts';
import { InvalidSubjectError } from './errors.ts';
import { patternTokens } from './subjects.ts';

/** The host interface config key listing the subjects a handler subscribes to. */
export const SUBSCRIPTIONS_KEY = 'subscriptions';

/** Whether the component exports `wasmcloud:messaging/handler` (any version). */
export function exportsHandler(component: PluginComponent): boolean {
  return component.exports.some((e) => e === 'wasmcloud:messaging/handler' || e.startsWith('wasmcloud:messaging/handler@'));
}

/**
 * The subjects a component subscribes to: `subscriptions` of its `wasmcloud:messaging` host
 * interfaces, comma-separated, whitespace trimmed, empty entries and repeats ignored. A subject
 * NATS would refuse fails the workload, naming the component.
 */
export function subscriptionSubjects(component: PluginComponent): string[] {
  const subjects = new Set<string>();
  for (const iface of component.interfaces) {
    if (iface.namespace !== 'wasmcloud' || iface.package !== 'messaging') continue;
    for (const subject of listSetting(iface.config[SUBSCRIPTIONS_KEY] ?? '')) subjects.add(subject);
  }
  for (const subject of subjects) {
    try {
      patternTokens(subject);
    } catch (error) {
      if (!(error instanceof InvalidSubjectError)) throw error;
      throw new ManifestError(
        [{ path: `hostInterfaces[wasmcloud:messaging].config.${SUBSCRIPTIONS_KEY}`, message: `component "${component.name}": ${error.message}` }],
        { cause: error },
      );
    }
  }
  return [...subjects];
}
