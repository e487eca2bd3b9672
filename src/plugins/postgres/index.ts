export { postgresPlugin, type PostgresPlugin, type PostgresPluginOptions } from './plugin.ts';
export type { PoolInfo } from './pools.ts';
/** `hashable-f64` from and to numbers, exactly as Rust's `integer_decode` (for building float pg-values). */
export { encodeF64, encodeF32, decodeFloat } from './values/floats.ts';
export type * from './types.ts';
