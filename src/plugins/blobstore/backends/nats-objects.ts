/**
 * How objects go into and come out of the JavaScript client's object store: names as the client
 * must be given them, data as a stream whose progress keeps a call alive, whole reads with the
 * digest checked. The backend (`nats.ts`) builds on these.
 */
// Types only: the client is loaded by the backend at its first call.
import type { ObjectInfo as NatsObjectInfo, ObjectStore } from '@nats-io/obj';
import { BlobstoreError, checkName } from '../backend.ts';
import { isStreamNotFound } from '../../shared/nats-calls.ts';

/** The object store's default chunk: one message per 128 KiB. */
const CHUNK_SIZE = 128 * 1024;

/**
 * An object name is base64url-encoded into a subject, and NATS closes the connection of a
 * client whose protocol line exceeds 4 KiB: 2 KiB of UTF-8 is 2732 characters once encoded.
 */
export const MAX_NATS_OBJECT_NAME_BYTES = 2048;

/**
 * A whole object through the client's chunk stream, its digest checked at the end. (Cancelling
 * that stream part way does not save much: the server has pushed further chunks by then, so
 * ranges are read chunk by chunk by the backend instead.)
 */
export async function readWhole(os: ObjectStore, container: string, name: string, alive: () => void, signal: AbortSignal): Promise<Uint8Array> {
  const result = await missingContainerAs(container, () => os.get(clientName(name)));
  if (!result) throw new BlobstoreError(`object ${quote(name)} does not exist in container ${quote(container)}`);
  // Settles when the stream ends or fails: read once the stream is done, never left unhandled.
  const outcome = result.error.then(
    (error) => error,
    (error: unknown) => error,
  );
  const reader = result.data.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  signal.addEventListener('abort', cancel, { once: true });
  const parts: Uint8Array[] = [];
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      alive();
      parts.push(next.value);
    }
  } finally {
    signal.removeEventListener('abort', cancel);
  }
  const error = await outcome;
  if (error) throw new BlobstoreError(`object ${quote(name)} of container ${quote(container)} could not be read: ${(error as Error).message}`, { cause: error });
  return new Uint8Array(Buffer.concat(parts));
}

/** Stores `data` as object `name`, replacing what was there (the client purges the old chunks). */
export async function putObject(os: ObjectStore, container: string, name: string, data: Uint8Array, alive: () => void, signal: AbortSignal): Promise<void> {
  const meta = { name: clientName(name), options: { max_chunk_size: CHUNK_SIZE }, metadata: isAscii(name) ? undefined : { [NAME_METADATA]: name } };
  await missingContainerAs(container, () => os.put(meta, chunks(data, alive, signal)));
}

/**
 * The name as the client must be given it: its UTF-8 bytes, one character each. The client
 * spells an object's subject as base64url of the name through `btoa`, which refuses characters
 * past U+00FF and would spell é as its Latin-1 byte; given the UTF-8 bytes it writes the subject
 * every other client (and ADR-20) computes. ASCII names are unchanged.
 */
export function clientName(name: string): string {
  return Buffer.from(name, 'utf8').toString('latin1');
}

/** Where the true name of a non-ASCII object is kept: its stored `name` is `clientName`'s bytes. */
const NAME_METADATA = 'wasmhost-name';

/** The name of a listed object as callers know it (an object written by another tool keeps its stored name). */
export function listedName(info: NatsObjectInfo): string {
  return isAscii(info.name) ? info.name : (info.metadata?.[NAME_METADATA] ?? info.name);
}

function isAscii(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}

/** `data` as a stream of chunk-sized views: each pull (the client asks after storing the previous chunk) is progress. */
function chunks(data: Uint8Array, alive: () => void, signal: AbortSignal): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (signal.aborted) {
        controller.error(signal.reason);
        return;
      }
      alive();
      if (offset >= data.length) {
        controller.close();
        return;
      }
      controller.enqueue(data.subarray(offset, offset + CHUNK_SIZE));
      offset += CHUNK_SIZE;
    },
  });
}

/** Runs `fn`; a missing stream means the container does not exist. */
export async function missingContainerAs<T>(container: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isStreamNotFound(err)) throw new BlobstoreError(`container ${quote(container)} does not exist`, { cause: err });
    throw err;
  }
}

export function checkObjectName(name: string): void {
  checkName('object', name);
  if (!name.isWellFormed()) throw new BlobstoreError(`invalid object name ${quote(name.slice(0, 64))}: it is not well-formed Unicode`);
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_NATS_OBJECT_NAME_BYTES) {
    throw new BlobstoreError(`invalid object name ${quote(name.slice(0, 64))}: too long for the NATS object store (${bytes} bytes of UTF-8, at most ${MAX_NATS_OBJECT_NAME_BYTES})`);
  }
}

function quote(text: string): string {
  return JSON.stringify(text);
}
