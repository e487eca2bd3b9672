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
    const end = () => {
      const t = trailers();
      resolve(t && Object.keys(t).length > 0 ? Fields.fromRecord(t) : undefined);
    };
    const cut = () => reject(new HttpError({ tag: 'connection-terminated' }, 'the body ended before it was complete'));
    // Made when the guest first asks for the body, which may be after it ended (or broke off).
    if (stream.readableEnded) return end();
    if (stream.destroyed) return cut();
    stream.once('end', end);
    stream.once('error', reject);
    stream.once('close', () => {
      if (!stream.readableEnded) cut();
    });
  });
  ended.catch(() => {}); // a body the guest never finishes may fail unobserved (the client went away)
  return {
    source: new ReadableSource(stream),
    trailers: ended,
    drain: () => void stream.resume(),
  };
}
