import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * wasmhost's cache folder, shared by the parts that cache (the engine's prepared components, the
 * OCI image cache): `$WASMHOST_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmhost`, else `~/.cache/wasmhost`.
 */
export function defaultCacheDir(): string {
  if (process.env.WASMHOST_CACHE_DIR) return process.env.WASMHOST_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'wasmhost');
}
