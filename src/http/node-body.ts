import type { Readable } from 'node:stream';
import { ReadableSource } from '../wasi/io/pipes.ts';
import { HttpError } from './types/error-code.ts';
import type { IncomingBodySource } from './types/body.ts';
import { Fields } from './types/fields.ts';

type TrailerRecord = Record<string, string | string[] | undefined>;

/**
 * An incoming body read from a Node stream (a server request, an undici response body): bytes as
 * the guest asks for them, and trailers once it has ended. A stream that closes before its end
 * (the peer went away) fails the trailers with `connection-terminated`.
 */
export function readableBody(stream: Readable, trailers: () => TrailerRecord | undefined): IncomingBodySource {
  const ended = new Promise<Fields | undefined>((resolve, reject) => {
    stream.once('end', () => {
      const t = trailers();
      resolve(t && Object.keys(t).length > 0 ? Fields.fromRecord(t) : undefined);
    });
    stream.once('error', reject);
    stream.once('close', () => {
      if (!stream.readableEnded) reject(new HttpError({ tag: 'connection-terminated' }, 'the body ended before it was complete'));
    });
  });
  ended.catch(() => {}); // a body the guest never finishes may fail unobserved (the client went away)
  return {
    source: new ReadableSource(stream),
    trailers: ended,
    drain: () => void stream.resume(),
  };
}
