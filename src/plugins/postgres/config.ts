import { UsageError } from '../../errors.ts';
import type { WitInterface } from '../../plugin/plugin.ts';
import { hostInterfaceConfig } from '../../plugin/config.ts';
import { checkDatabaseName } from './connection.ts';

/**
 * Per-workload settings, from the `config` map of the workload's `wasmcloud:postgres` host
 * interface:
 *   database  the database on the plugin's server that the workload's queries run in (as in the
 *             reference); absent = the database of the plugin's URL, and an error when that
 *             names none
 */
export function postgresDatabase(pluginId: string, interfaces: readonly WitInterface[], defaultDatabase: string | undefined): string {
  const merged = hostInterfaceConfig(pluginId, interfaces, { namespace: 'wasmcloud', package: 'postgres' }, ['database']);
  const database = merged.database ?? defaultDatabase;
  if (database === undefined) {
    throw new UsageError(`${pluginId}: wasmcloud:postgres needs a "database" config key`, {
      hint: 'set config database on the wasmcloud:postgres host interface, or put a database in the plugin URL',
    });
  }
  return checkDatabaseName(pluginId, database);
}
