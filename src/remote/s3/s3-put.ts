/**
 * Single-request uploads: one PutObject with the file streamed from disk (no
 * buffering) and hashed on its way out, plus measuring what is about to be
 * uploaded. The server gets the Content-MD5 of the bytes on disk and its ETag
 * answer is compared with it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { pipeline, Transform, type Readable } from 'node:stream';
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
}

/**
 * putSingle uploads with one PutObject carrying `md5` as Content-MD5, which
 * S3 checks against the bytes it receives (BadDigest). Servers that do not
 * check it still answer with the MD5 of what they stored as the ETag: if that
 * differs from `md5` (bytes changed on disk or in transit) the object is
 * deleted and ChecksumError thrown. Errors reading the file are FileError;
 * SDK errors are thrown unmapped.
 */
export async function putSingle(job: SinglePutJob): Promise<TransferResult> {
  const { client, sdk } = job.conn;
  const { body, size, md5 } = job;
  let readError: unknown;
  let stream: Readable | undefined;
  if ('path' in body) {
    const file = createReadStream(body.path, { highWaterMark: READ_CHUNK });
    file.on('error', (err) => (readError ??= err));
    let count = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        count += chunk.length;
        // More bytes than Content-Length would spill into the next request on a kept-alive socket.
        if (count > size) return done((readError ??= new FileError(body.path, 'the file grew while it was being uploaded')) as Error);
        job.progress.add(chunk.length);
        done(null, chunk);
      },
      flush(done) {
        // Fewer bytes would leave the server waiting for the rest until the socket times out.
        done(count < size ? ((readError ??= new FileError(body.path, 'the file shrank while it was being uploaded')) as Error) : null);
      },
    });
    // pipeline, not pipe: a read error must end the request body, not leave it hanging.
    stream = pipeline(file, tap, () => {});
  }
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
      }),
      // Only large bodies take the abort signal: passing options turns off the
      // SDK's middleware cache (cacheMiddleware), whose rebuild per request is
      // most of the client-side cost of a small upload; a small PUT ends soon anyway.
      job.signal && size > ABORTABLE_SIZE ? { abortSignal: job.signal } : undefined,
    );
  } catch (err) {
    if (readError && 'path' in body) throw fileError(body.path, readError);
    throw err;
  } finally {
    stream?.destroy();
  }
  if ('data' in body) job.progress.add(size);
  const etag = unquote(out.ETag);
  const stored = parseEtag(etag).md5;
  if (stored && stored !== md5) {
    await client.send(new sdk.DeleteObjectCommand({ Bucket: job.bucket, Key: job.key }), { abortSignal: AbortSignal.timeout(CLEANUP_MS) }).catch(() => {});
    throw new ChecksumError(`${job.label}: expected MD5 ${md5}, the server stored ${stored}; the object was deleted`);
  }
  return { size, md5, etag };
}

