/**
 * The wasi:io stream resources, for plugins that hand streams to guests (a blobstore value, a
 * message body). They are WASI's own classes, so a guest's `wasi:io/streams` import (served by
 * WASI) accepts them: plugins build them over a source or a sink and never subclass them.
 */
export { InputStream, OutputStream, StreamClosed, type InputSource, type OutputSink } from '../wasi/io/streams.ts';
export { BytesSource } from '../wasi/io/pipes.ts';
export { ALWAYS_READY, type Readiness } from '../wasi/io/poll.ts';
