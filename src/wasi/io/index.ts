import { IoError } from './error.ts';
import { Pollable, poll } from './poll.ts';
import { InputStream, OutputStream } from './streams.ts';

/** `wasi:io/*`: the resource classes every other interface hands out. */
export const ioImports = {
  'wasi:io/error': { Error: IoError },
  'wasi:io/poll': { Pollable, poll },
  'wasi:io/streams': { InputStream, OutputStream },
};
