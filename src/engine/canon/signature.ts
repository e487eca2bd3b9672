import type { Codec } from './values.ts';

/** At most this many flat parameters travel as core arguments; more go through memory. */
export const MAX_FLAT_PARAMS = 16;

/** How one function's values cross: its codecs and where they travel. */
export interface Signature {
  /** The params as one tuple: its layout is the canonical ABI's for params, flat or in memory. */
  params: Codec;
  result: Codec | undefined;
  /** The params travel in memory: more than 16 flat values. */
  paramsInMemory: boolean;
  /** The result travels in memory: more than one flat value. */
  resultInMemory: boolean;
  /** The top-level result is a `result`: host functions throw its error. */
  resultType: boolean;
}
