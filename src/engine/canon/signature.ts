import type { StringEncoding } from '../component/ast.ts';
import type { FuncType, ValType } from '../component/types.ts';
import type { Codec, CodecCache } from './values.ts';

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

/** One tuple type object per function type, so that its codec is built once. */
const paramTuples = new WeakMap<FuncType, ValType>();

export function signature(type: FuncType, encoding: StringEncoding, codecs: CodecCache): Signature {
  let tuple = paramTuples.get(type);
  if (!tuple) paramTuples.set(type, (tuple = { kind: 'tuple', types: type.params.map((p) => p.type) }));
  const params = codecs.codec(tuple, encoding);
  const result = type.result && codecs.codec(type.result, encoding);
  return {
    params,
    result,
    paramsInMemory: params.flat.length > MAX_FLAT_PARAMS,
    resultInMemory: (result?.flat.length ?? 0) > 1,
    resultType: type.result?.kind === 'result',
  };
}
