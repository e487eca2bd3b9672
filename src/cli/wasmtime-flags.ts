/**
 * wasmtime's `-S <key[=value]>` (WASI) and `-W <key[=value]>` (wasm) spellings, for what
 * wasmhost has, so that a `wasmtime run` command line works here too. Keys may be repeated or
 * comma-separated (`-S http,inherit-env`); a boolean key alone means yes, `=y|yes|true` and
 * `=n|no|false` say it explicitly. Any other key is an error naming the supported ones.
 */
import { UsageError } from '../errors.ts';
import { parseDuration } from '../duration.ts';
import { parseSize } from './limits.ts';

export interface WasmtimeFlags {
  /** `-S inherit-env`: the whole host environment (as `--env-inherit`). */
  inheritEnv?: boolean;
  /** `-S inherit-network`: TCP and UDP to any address (as `--net`, without name lookups). */
  inheritNetwork?: boolean;
  /** `-S allow-ip-name-lookup`: name lookups (`wasi:sockets/ip-name-lookup`). */
  allowIpNameLookup?: boolean;
  /** `-S http`: outgoing `wasi:http` to any host. */
  http?: boolean;
  /** `-W max-memory-size=<bytes>`: the guest's memory limit. */
  maxMemoryBytes?: number;
  /** `-W timeout=<duration>`: the guest's time limit (a bare number is seconds, as in wasmtime). */
  timeoutMs?: number;
}

type Key = keyof WasmtimeFlags;

const S_KEYS: Record<string, Key> = {
  'inherit-env': 'inheritEnv',
  'inherit-network': 'inheritNetwork',
  'allow-ip-name-lookup': 'allowIpNameLookup',
  http: 'http',
};
const W_KEYS: Record<string, Key> = { 'max-memory-size': 'maxMemoryBytes', timeout: 'timeoutMs' };

/**
 * Reads `-S` and `-W` values. `only` narrows the keys a command takes (`serve` has no network
 * switch, for instance); an unknown key names the ones this command supports.
 */
export function parseWasmtimeFlags(wasi: readonly string[], wasm: readonly string[], only?: { S?: string[]; W?: string[] }): WasmtimeFlags {
  const flags: WasmtimeFlags = {};
  const sKeys = only?.S ?? Object.keys(S_KEYS);
  const wKeys = only?.W ?? Object.keys(W_KEYS);
  for (const [flag, values, keys] of [['-S', wasi, sKeys], ['-W', wasm, wKeys]] as const) {
    for (const item of values.flatMap((v) => v.split(','))) {
      const eq = item.indexOf('=');
      const key = (eq === -1 ? item : item.slice(0, eq)).trim();
      const value = eq === -1 ? undefined : item.slice(eq + 1).trim();
      if (!keys.includes(key)) {
        throw new UsageError(`${flag} ${item}: ${key ? `unknown key "${key}"` : 'missing key'}`, {
          hint: `this command supports ${flag} ${keys.join(', ')}${keys.length ? '' : 'nothing'}`,
        });
      }
      if (flag === '-S') flags[S_KEYS[key] as 'http'] = yesNo(flag, key, value);
      else if (key === 'max-memory-size') flags.maxMemoryBytes = parseSize(need(flag, key, value), `-W max-memory-size`);
      else flags.timeoutMs = parseDuration(/^\d+$/.test(need(flag, key, value)) ? `${value}s` : value!, '-W timeout');
    }
  }
  return flags;
}

function yesNo(flag: string, key: string, value: string | undefined): boolean {
  if (value === undefined || /^(y|yes|true)$/i.test(value)) return true;
  if (/^(n|no|false)$/i.test(value)) return false;
  throw new UsageError(`${flag} ${key}=${value}: expected y or n`);
}

function need(flag: string, key: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} ${key} needs a value`, { hint: `write ${flag} ${key}=<value>, e.g. ${key === 'timeout' ? '-W timeout=10s' : '-W max-memory-size=67108864'}` });
  return value;
}
