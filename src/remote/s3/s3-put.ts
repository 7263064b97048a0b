/**
 * Single-request uploads: one PutObject with the file streamed from disk (no
 * buffering) and hashed on its way out, plus measuring what is about to be
 * uploaded. The server gets the Content-MD5 of the bytes on disk and its ETag
 * answer is compared with it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ABORTABLE_SIZE, asBody } from './s3-body.js';
import { ChecksumError, FileError } from '../../errors.js';
import { md5Base64, parseEtag } from '../../core/etag.js';
import { fileError, md5File, READ_CHUNK, type Progress } from '../local-io.js';
import type { PutBody, TransferResult } from '../remote.js';
import type { S3Connection } from './s3-client.js';
import { CLEANUP_MS, unquote } from './s3-multipart.js';

/**
 * measure gives the size and MD5 of what is about to be uploaded: `expectMd5`
 * when the caller knows it (it hashed those bytes), else the MD5 of a first
 * read. Either way the server checks the bytes it receives against it, and
 * the ETag it answers is compared too (see putSingle).
 */
export async function measure(body: PutBody, expectMd5: string | undefined, signal?: AbortSignal): Promise<{ size: number; md5: string }> {
  if ('data' in body) {
    // The caller hashed these very bytes; hashing them again would cost a pass
    // over every upload and prove nothing the server's check does not.
    return { size: body.data.length, md5: expectMd5?.toLowerCase() ?? createHash('md5').update(body.data).digest('hex') };
  }
  if (!expectMd5) return md5File(body.path, signal);
  let st;
  try {
    st = statSync(body.path); // synchronous: microseconds, against a thread-pool round trip
  } catch (err) {
    throw fileError(body.path, err);
  }
  if (!st.isFile()) throw new FileError(body.path, 'not a regular file');
  return { size: st.size, md5: expectMd5.toLowerCase() };
}

export interface SinglePutJob {
  conn: S3Connection;
  bucket: string;
  /** Full object key (prefix included). */
  key: string;
  /** The object's URL, for messages. */
  label: string;
  body: PutBody;
  size: number;
  /** MD5 the bytes must have (sent as Content-MD5 and stored as `x-amz-meta-md5`). */
  md5: string;
  progress: Progress;
  signal?: AbortSignal;
  /** Store only when no object is at the key (If-None-Match: *; see Remote.put). */
  ifAbsent?: boolean;
}

/**
 * putSingle uploads with one PutObject carrying `md5` as Content-MD5, which
 * S3 checks against the bytes it receives (BadDigest). Servers that do not
 * check it still answer with the MD5 of what they stored as the ETag: if that
 * differs from `md5` (bytes changed on disk or in transit) the object is
 * deleted and ChecksumError thrown. Errors reading the file are FileError;
 * SDK errors are thrown unmapped.
 *
 * A file streamed from disk must be what its stat said: one that grew,
 * shrank or failed to read while it was sent never gives the server a body
 * hashing to `md5` (see guardedFile); whatever the server stored of it is
 * deleted, and the FileError saying why is thrown. What stood at the key
 * before is then gone too: the caller keeps it first when it matters (see
 * Remote.put).
 */
export async function putSingle(job: SinglePutJob): Promise<TransferResult> {
  const { client, sdk } = job.conn;
  const { body, size, md5 } = job;
  let readError: unknown;
  const stream = 'path' in body ? Readable.from(guardedFile(body.path, size, job.progress, (err) => (readError ??= err)), { objectMode: false }) : undefined;
  let out;
  try {
    out = await client.send(
      new sdk.PutObjectCommand({
        Bucket: job.bucket,
        Key: job.key,
        Body: stream ?? ('data' in body ? asBody(body.data) : undefined),
        ContentLength: size,
        ContentMD5: md5Base64(md5),
        Metadata: { md5 },
        ...(job.ifAbsent ? { IfNoneMatch: '*' } : {}),
      }),
      // Only large bodies and streams take options: passing options turns off
      // the SDK's middleware cache (cacheMiddleware), whose rebuild per request
      // is most of the client-side cost of a small upload; a small PUT ends
      // soon anyway. A large body has no deadline (requestTimeout 0): how long
      // it takes depends on the uplink, and the client's idle timeout guards it.
      stream || size > ABORTABLE_SIZE ? { ...(job.signal ? { abortSignal: job.signal } : {}), requestTimeout: 0 } : undefined,
    );
  } catch (err) {
    // A server that checks Content-MD5 refused the spoilt body (BadDigest): nothing was stored.
    if (readError && 'path' in body) throw fileError(body.path, readError);
    throw err;
  } finally {
    stream?.destroy();
  }
  if (readError && 'path' in body) {
    // The server stored the spoilt body (it does not check Content-MD5): remove it.
    await deleteStored(job);
    throw fileError(body.path, readError);
  }
  if ('data' in body) job.progress.add(size);
  const etag = unquote(out.ETag);
  const stored = parseEtag(etag).md5;
  if (stored && stored !== md5) {
    await deleteStored(job);
    throw new ChecksumError(`${job.label}: expected MD5 ${md5}, the server stored ${stored}; the object was deleted`);
  }
  return { size, md5, etag };
}

/** deleteStored removes the object a PUT stored at the key; best effort, bounded in time. */
async function deleteStored(job: SinglePutJob): Promise<void> {
  const { client, sdk } = job.conn;
  await client.send(new sdk.DeleteObjectCommand({ Bucket: job.bucket, Key: job.key }), { abortSignal: AbortSignal.timeout(CLEANUP_MS) }).catch(() => {});
}

/**
 * guardedFile streams the first `size` bytes of the file at `path` as the
 * body of a request that declared `size` bytes and their MD5, reporting
 * progress, and makes sure that a file that is not what its stat said never
 * gives the server a body hashing to that MD5: the last chunk is held back
 * until the file has ended there (a file still being written may grow, and
 * its first `size` bytes may hash just right). When the file grew, shrank
 * or cannot be read, `onFail` hears why and the body is completed to `size`
 * with spoilt bytes — the complement of what the file holds there, or zeros
 * past its end — rather than cut off: a server then either refuses it
 * (Content-MD5) or stores it whole and answers, after which it is deleted.
 * A request cut off mid-body would leave a server that writes bodies in
 * place (s3rver) holding part of it, with no answer to wait for.
 */
async function* guardedFile(path: string, size: number, progress: Progress, onFail: (err: unknown) => void): AsyncGenerator<Buffer> {
  let sent = 0;
  let held: Buffer | undefined;
  let spoilt: Buffer | undefined;
  try {
    for await (const c of createReadStream(path, { highWaterMark: READ_CHUNK })) {
      const chunk = c as Buffer;
      if (held || sent + chunk.length > size) {
        spoilt = complement(held ?? chunk.subarray(0, size - sent));
        throw new FileError(path, 'the file grew while it was being uploaded');
      }
      if (sent + chunk.length === size) {
        held = chunk;
        continue;
      }
      sent += chunk.length;
      progress.add(chunk.length);
      yield chunk;
    }
    if (!held && sent < size) throw new FileError(path, 'the file shrank while it was being uploaded');
  } catch (err) {
    onFail(err);
    if (spoilt) yield spoilt;
    else if (held) yield complement(held);
    else for (let left = size - sent; left > 0; left -= READ_CHUNK) yield Buffer.alloc(Math.min(left, READ_CHUNK));
    return;
  }
  if (held) {
    progress.add(held.length);
    yield held;
  }
}

function complement(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(b.length);
  for (let i = 0; i < b.length; i++) out[i] = ~(b[i] as number) & 0xff;
  return out;
}
