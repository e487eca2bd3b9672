// http-counter: answers every request with `<greeting>, visitor #<n> of <path>`, where n counts
// the requests to that path (wasi:keyvalue, bucket "default", key = the path) and the greeting is
// the config value `greeting` (wasi:config; "Hello" when unset). Each request is logged through
// wasi:logging.
//
// It implements wasi:http/incoming-handler directly against the wasi:http/types bindings that
// componentize-js generates: resources are classes, WIT errors are thrown (the WIT value is the
// exception's `payload`), handles are released with Symbol.dispose.

import { Fields, OutgoingBody, OutgoingResponse, ResponseOutparam } from 'wasi:http/types@0.2.12';
import { open } from 'wasi:keyvalue/store@0.2.0-draft';
import { increment } from 'wasi:keyvalue/atomics@0.2.0-draft';
import { get as getConfig } from 'wasi:config/store@0.2.0-rc.1';
import { log } from 'wasi:logging/logging@0.1.0-draft';

const dispose = Symbol.dispose || Symbol.for('dispose');
const encoder = new TextEncoder();

function methodName(method) {
  return method.tag === 'other' ? method.val : method.tag.toUpperCase();
}

/** A host error as text: `<tag>: <detail>` for a WIT variant, else the message. */
function describe(err) {
  const e = err && typeof err === 'object' && 'payload' in err ? err.payload : err;
  if (e && typeof e === 'object' && 'tag' in e) return e.val === undefined ? e.tag : `${e.tag}: ${e.val}`;
  return e instanceof Error ? e.message : String(e);
}

/** Counts this visit to `path` (key `path` in bucket "default"): the new count. */
function countVisit(path) {
  const bucket = open('default');
  try {
    return increment(bucket, path, 1n);
  } finally {
    bucket[dispose]();
  }
}

function send(responseOut, status, text) {
  const headers = Fields.fromList([['content-type', encoder.encode('text/plain')]]);
  const response = new OutgoingResponse(headers);
  response.setStatusCode(status);
  const body = response.body();
  ResponseOutparam.set(responseOut, { tag: 'ok', val: response });
  const stream = body.write();
  stream.blockingWriteAndFlush(encoder.encode(text)); // short text: one call (at most 4096 bytes)
  stream[dispose]();
  OutgoingBody.finish(body, undefined);
}

export const incomingHandler = {
  handle(request, responseOut) {
    const path = (request.pathWithQuery() ?? '/').split('?')[0];
    const method = methodName(request.method());
    request[dispose]();
    let status = 200;
    let text;
    try {
      const greeting = getConfig('greeting') ?? 'Hello';
      const n = countVisit(path);
      text = `${greeting}, visitor #${n} of ${path}\n`;
      log('info', 'http-counter', `${method} ${path}: visitor #${n}`);
    } catch (err) {
      status = 500;
      text = `error: ${describe(err)}\n`;
      log('error', 'http-counter', `${method} ${path}: ${describe(err)}`);
    }
    send(responseOut, status, text);
  },
};
