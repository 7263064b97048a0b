/** How request bodies are handed to the SDK. */
import { Readable } from 'node:stream';

/** Bodies above this size go as streams and can be aborted mid-request (see putSingle). */
export const ABORTABLE_SIZE = 1024 * 1024;

/**
 * asBody hands a buffer to the SDK. A large one goes as a stream: for buffers
 * the SDK signs a SHA-256 of the whole payload, one more pass over every byte,
 * while streams are sent as UNSIGNED-PAYLOAD — their integrity is already
 * guarded by Content-MD5 and the ETag check.
 */
export function asBody(data: Uint8Array): Uint8Array | Readable {
  return data.length > ABORTABLE_SIZE ? Readable.from([data], { objectMode: false }) : data;
}
