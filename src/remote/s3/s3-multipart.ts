/**
 * Multipart upload of one large body. Parts are read in order (so the
 * whole-content MD5 is computed on the way), each from a buffer paid for from
 * the remote-wide ByteBudget, sent with the Content-MD5 of exactly that
 * buffer, and retried on their own; a few parts of a file are in flight at
 * once. Any failure aborts the upload, so no parts are left billed on the
 * server.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { ChecksumError, CratesyncError, FileError } from '../../errors.js';
import { multipartEtag, parseEtag } from '../../core/etag.js';
import { withRetry, type RetryPolicy } from '../../core/retry.js';
import { fileError, type Progress } from '../local-io.js';
import type { BufferPool } from '../buffer-pool.js';
import { asBody } from './s3-body.js';
import type { S3Connection } from './s3-client.js';

/** How long clean-up requests (abort, delete) may take before we give up on them. */
export const CLEANUP_MS = 10_000;

/** S3 allows at most this many parts per upload. */
export const MAX_PARTS = 10_000;

/** Random access to the bytes being uploaded. */
export interface PartSource {
  readonly size: number;
  /**
   * Reads exactly `length` bytes at `offset` (FileError when the file is
   * unreadable or shrank), into `into` when the source copies (a file) or as a
   * view of what it already holds (memory).
   */
  read(offset: number, length: number, into: Buffer): Promise<Buffer>;
  /**
   * Optional: throws FileError when the source no longer has `size` bytes (a
   * file that grew or shrank while it was read), checked once every part is
   * read and before the upload is completed.
   */
  check?(): Promise<void>;
  close(): Promise<void>;
}

export interface MultipartJob {
  conn: S3Connection;
  bucket: string;
  /** Full object key (prefix included). */
  key: string;
  /** The object's URL, for messages. */
  label: string;
  source: PartSource;
  partSize: number;
  /** MD5 the content must have; stored as `x-amz-meta-md5` and checked against the bytes read. */
  md5: string;
  /** Part buffers come from here, which bounds the memory they hold. */
  buffers: BufferPool;
  partsInFlight: number;
  retry: RetryPolicy;
  signal?: AbortSignal;
  progress: Progress;
  /** Complete only when no object is at the key (If-None-Match: *; see Remote.put). */
  ifAbsent?: boolean;
  /** Maps an SDK error of operation `op` to ours (see s3-errors.ts). */
  mapError: (err: unknown, op: string) => unknown;
}

/** choosePartSize doubles `base` until `size` fits in MAX_PARTS parts (doubling keeps sizes ETag guessers try first). */
export function choosePartSize(size: number, base: number): number {
  let p = base;
  while (Math.ceil(size / p) > MAX_PARTS) p *= 2;
  return p;
}

/** unquote strips the quotes S3 puts around ETags. */
export function unquote(etag: string | undefined): string | undefined {
  return etag === undefined ? undefined : etag.replace(/"/g, '');
}

export function fileSource(path: string, size: number): Promise<PartSource> {
  return open(path, 'r').then(
    (fh) => ({
      size,
      async read(offset, length, into) {
        const buf = into.subarray(0, length);
        for (let got = 0; got < length; ) {
          const { bytesRead } = await fh.read(buf, got, length - got, offset + got).catch((err: unknown) => Promise.reject(fileError(path, err)));
          if (bytesRead === 0) throw new FileError(path, 'the file shrank while it was being uploaded');
          got += bytesRead;
        }
        return buf;
      },
      async check() {
        const now = (await fh.stat().catch((err: unknown) => Promise.reject(fileError(path, err)))).size;
        // Its first `size` bytes may hash as expected, but they are not the file: a file still being written.
        if (now !== size) throw new FileError(path, `the file ${now > size ? 'grew' : 'shrank'} while it was being uploaded`);
      },
      close: () => fh.close(),
    }),
    (err: unknown) => Promise.reject(fileError(path, err)),
  );
}

export function dataSource(data: Uint8Array): PartSource {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { size: buf.length, read: async (offset, length) => buf.subarray(offset, offset + length), close: async () => {} };
}

/**
 * uploadMultipart uploads `job.source` and verifies the result: each part's
 * ETag must be the MD5 of the buffer sent (else that part is retried), the
 * bytes read must hash to `job.md5` (else the file changed: abort), and the
 * final ETag must be either the whole MD5 (s3rver, some S3-compatible servers)
 * or the multipart ETag of the part digests (AWS); otherwise the object is
 * deleted and ChecksumError thrown. A source that no longer has its size
 * once read (a file that grew: see PartSource.check) is not completed.
 */
export async function uploadMultipart(job: MultipartJob): Promise<{ etag: string; md5: string }> {
  const { sdk, client } = job.conn;
  const abortSignal = job.signal;
  const created = await retried(job, 'CreateMultipartUpload', () =>
    client.send(new sdk.CreateMultipartUploadCommand({ Bucket: job.bucket, Key: job.key, Metadata: { md5: job.md5 } }), { abortSignal }),
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new CratesyncError(`CreateMultipartUpload ${job.label}: the server returned no upload id`);
  let etag: string;
  let parts: { digests: Buffer[]; md5: string };
  try {
    const sent = await uploadParts(job, uploadId);
    parts = sent;
    await job.source.check?.();
    if (sent.md5 !== job.md5) {
      throw new ChecksumError(`${job.label}: read bytes with MD5 ${sent.md5}, expected ${job.md5} (did the file change during the upload?)`);
    }
    etag = await complete(job, uploadId, sent.etags);
  } catch (err) {
    // Best effort, and bounded in time (we may be here because of Ctrl-C or a
    // dead server); a bucket lifecycle rule cleans up what is missed.
    await client
      .send(new sdk.AbortMultipartUploadCommand({ Bucket: job.bucket, Key: job.key, UploadId: uploadId }), { abortSignal: AbortSignal.timeout(CLEANUP_MS) })
      .catch(() => {});
    throw err;
  }
  if (etag !== parts.md5 && etag !== multipartEtag(parts.digests)) {
    await client.send(new sdk.DeleteObjectCommand({ Bucket: job.bucket, Key: job.key }), { abortSignal: AbortSignal.timeout(CLEANUP_MS) }).catch(() => {});
    throw new ChecksumError(`${job.label}: the server reports ETag ${etag} for an upload of MD5 ${parts.md5}; the object was deleted`);
  }
  return { etag, md5: parts.md5 };
}

/** Reads and uploads all parts, at most `partsInFlight` at a time; stops reading at the first failure. */
async function uploadParts(job: MultipartJob, uploadId: string): Promise<{ digests: Buffer[]; etags: string[]; md5: string }> {
  const { size } = job.source;
  const count = Math.max(1, Math.ceil(size / job.partSize));
  const whole = createHash('md5');
  const digests: Buffer[] = [];
  const etags: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: { err: unknown } | undefined;
  for (let i = 0; i < count && !failure; i++) {
    while (inFlight.size >= job.partsInFlight) await Promise.race(inFlight);
    if (failure) break;
    const offset = i * job.partSize;
    const length = Math.min(job.partSize, size - offset);
    let release: (() => void) | undefined;
    let buf: Buffer;
    try {
      const lease = await job.buffers.lease(length, job.signal);
      release = lease.release;
      buf = await job.source.read(offset, length, lease.buf);
    } catch (err) {
      release?.();
      failure = { err };
      break;
    }
    whole.update(buf);
    const digest = createHash('md5').update(buf).digest();
    digests.push(digest);
    const partNumber = i + 1;
    const task: Promise<void> = uploadPart(job, uploadId, partNumber, buf, digest)
      .then(
        (etag) => {
          etags[partNumber - 1] = etag;
          job.progress.add(length);
        },
        (err: unknown) => {
          failure ??= { err };
        },
      )
      .finally(() => {
        release?.();
        inFlight.delete(task);
      });
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  if (failure) throw failure.err;
  return { digests, etags, md5: whole.digest('hex') };
}

function uploadPart(job: MultipartJob, uploadId: string, partNumber: number, body: Buffer, digest: Buffer): Promise<string> {
  const { sdk, client } = job.conn;
  const md5 = digest.toString('hex');
  return retried(job, 'UploadPart', async () => {
    const out = await client.send(
      new sdk.UploadPartCommand({
        Bucket: job.bucket,
        Key: job.key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: asBody(body),
        ContentLength: body.length,
        ContentMD5: digest.toString('base64'),
      }),
      // No deadline for a part: its length depends on the uplink; the client's idle timeout guards it.
      { abortSignal: job.signal, requestTimeout: 0 },
    );
    const got = parseEtag(out.ETag).md5;
    // A part ETag that is an MD5 must be ours; a different one means the bytes changed on the way.
    if (got && got !== md5) throw new ChecksumError(`${job.label} part ${partNumber}: the server stored MD5 ${got}, we sent ${md5}`);
    return out.ETag ?? `"${md5}"`;
  });
}

/**
 * Completes the upload and returns the object's ETag (unquoted). A retried
 * Complete whose first attempt did succeed answers NoSuchUpload: then the
 * object is there, and its ETag is read with HeadObject.
 */
async function complete(job: MultipartJob, uploadId: string, etags: string[]): Promise<string> {
  const { sdk, client } = job.conn;
  const head = () => client.send(new sdk.HeadObjectCommand({ Bucket: job.bucket, Key: job.key }), { abortSignal: job.signal });
  const etag = await withRetry(
    async (attempt) => {
      try {
        const out = await client.send(
          new sdk.CompleteMultipartUploadCommand({
            Bucket: job.bucket,
            Key: job.key,
            UploadId: uploadId,
            MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
            ...(job.ifAbsent ? { IfNoneMatch: '*' } : {}),
          }),
          { abortSignal: job.signal },
        );
        return out.ETag ?? (await head()).ETag;
      } catch (err) {
        if (attempt === 1 || (err as { name?: string }).name !== 'NoSuchUpload') throw job.mapError(err, 'CompleteMultipartUpload');
        return (await head().catch((e: unknown) => Promise.reject(job.mapError(e, 'HeadObject')))).ETag;
      }
    },
    { policy: job.retry, ...(job.signal ? { signal: job.signal } : {}) },
  );
  return unquote(etag)?.toLowerCase() ?? '';
}

/** Runs one SDK call with our retry policy, mapping its errors first so classify() can judge them. */
function retried<T>(job: MultipartJob, op: string, fn: () => Promise<T>): Promise<T> {
  return withRetry(
    async () => {
      try {
        return await fn();
      } catch (err) {
        throw job.mapError(err, op);
      }
    },
    { policy: job.retry, ...(job.signal ? { signal: job.signal } : {}) },
  );
}
