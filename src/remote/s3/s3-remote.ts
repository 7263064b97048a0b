/**
 * S3Remote: a bucket (and key prefix) on AWS S3 or any S3-compatible server.
 * Uploads are verified end to end: the server gets the Content-MD5 of the
 * bytes read from disk, and the ETag it answers is compared with what was
 * sent; a mismatching object is deleted rather than left behind. Downloads are
 * hashed as they are written and checked against the ETag (single- or
 * multipart) or the `md5` metadata our uploads store.
 *
 * Retries: list pages and the pieces of a multipart upload are retried here
 * (a caller could only restart them from the start); whole single-request
 * operations (put below the multipart threshold, get, stat, delete, copy)
 * are retried by the caller, which sees TransientError / ChecksumError.
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ChecksumError, CratesyncError, FileError, NotFoundError, RangeNotSatisfiableError, TransientError, UnreachableError, UsageError } from '../../errors.js';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from '../../core/retry.js';
import { fileError, Progress, writeAll } from '../local-io.js';
import type { ByteRange, CopyOptions, ListOptions, NameRules, OpenedRead, PutBody, Remote, TransferOptions, TransferResult } from '../remote.js';
import { Readable as NodeReadable } from 'node:stream';
import { rangeWithin } from '../byte-range.js';
import type { RemoteObject } from '../../core/remote-object.js';
import { BufferPool } from '../buffer-pool.js';
import { ByteBudget } from '../byte-budget.js';
import { readFileSync } from 'node:fs';
import { chooseEndpoint, connectS3, describeEndpoint, endpointProblem, timeoutsFrom, type S3Connection, type S3Timeouts } from './s3-client.js';
import { isClientTimeout, mapS3Error } from './s3-errors.js';
import { choosePartSize, dataSource, fileSource, unquote, uploadMultipart } from './s3-multipart.js';
import { measure, putSingle } from './s3-put.js';
import { checkS3Key } from './s3-names.js';
import { s3Url } from './s3-url.js';
import { downloadHasher, downloadMismatch } from './s3-verify.js';

const MiB = 1024 * 1024;
/** CopyObject copies at most 5 GiB; bigger objects need UploadPartCopy. */
const MAX_COPY_BYTES = 5 * 1024 * MiB;

export const S3_DEFAULTS = {
  /**
   * Below this a file goes in one PutObject, streamed from disk (no buffer)
   * and with a plain-MD5 ETag that any tool can check. 64 MiB covers nearly
   * every track (a 10-minute CD-quality FLAC is ~50 MB); a failed request
   * re-sends at most that much.
   */
  multipartThreshold: 64 * MiB,
  /** Part size (doubled while a file would need more than 10,000 parts). */
  partSize: 16 * MiB,
  /** Parts of one file in flight at once. */
  partsInFlight: 4,
  /** Remote-wide bound on part buffers held in memory. */
  partBudgetBytes: 128 * MiB,
  /** Files the engine transfers at once; sizes the connection pool. */
  transfers: 4,
};

export interface S3RemoteOptions {
  bucket: string;
  /** Key prefix, '' for the whole bucket; a missing trailing '/' is added (see parseS3Url). */
  prefix: string;
  endpoint?: string;
  /** Where `endpoint` was given, for the message when it is malformed: `--endpoint`, `endpoint in <config file>`. Default `endpoint`. */
  endpointFrom?: string;
  region?: string;
  profile?: string;
  transfers?: number;
  multipartThreshold?: number;
  partSize?: number;
  partsInFlight?: number;
  partBudgetBytes?: number;
  /** Retry policy for list pages and multipart pieces. */
  retry?: RetryPolicy;
  /** How long to wait on the server; default from CRATESYNC_S3_TIMEOUT, else DEFAULT_TIMEOUTS (see s3-client.ts). */
  timeouts?: S3Timeouts;
}

/**
 * After this many requests in a row time out with no answer from the server
 * in between, the endpoint is given up on: every further timeout is an
 * UnreachableError, which stops the run, instead of a TransientError retried
 * file after file. Requests in flight at once time out together, so the run
 * ends after about two rounds of timeouts.
 */
const SILENT_REQUESTS = 5;

/** Files up to this size are uploaded from one in-memory buffer rather than streamed. */
const IN_MEMORY_MAX = 1024 * 1024;

export class S3Remote implements Remote {
  readonly kind = 's3' as const;
  readonly url: string;
  readonly names: NameRules;
  readonly bucket: string;
  readonly prefix: string;
  private conn: Promise<S3Connection> | undefined;
  private readonly buffers: BufferPool;
  private readonly endpointLabel: string;
  private readonly timeouts: S3Timeouts;
  /** Requests timed out since the server last answered one. */
  private unanswered = 0;
  private readonly o: Required<Omit<S3RemoteOptions, 'endpoint' | 'endpointFrom' | 'region' | 'profile' | 'timeouts'>> & Pick<S3RemoteOptions, 'endpoint' | 'region' | 'profile'>;

  /**
   * Throws UsageError when the endpoint (given, or from the environment) is
   * not an http(s) URL, naming where it came from, or when CRATESYNC_S3_TIMEOUT
   * is not a number of seconds.
   */
  constructor(options: S3RemoteOptions) {
    const endpoint = chooseEndpoint(options.endpoint, options.endpointFrom);
    const bad = endpoint && endpointProblem(endpoint.url);
    if (endpoint && bad) throw new UsageError(`${endpoint.from} ${JSON.stringify(endpoint.url)} ${bad}: expected a URL like http://127.0.0.1:9000`);
    // Same normal form as parseS3Url gives: no leading '/', a trailing one unless empty.
    const prefix = options.prefix.replace(/^\/+/, '').replace(/([^/])$/, '$1/');
    this.o = { ...S3_DEFAULTS, retry: DEFAULT_RETRY, ...stripUndefined(options), bucket: options.bucket, prefix };
    this.bucket = options.bucket;
    this.prefix = prefix;
    this.url = s3Url({ bucket: this.bucket, prefix });
    this.endpointLabel = describeEndpoint(endpoint?.url);
    this.timeouts = options.timeouts ?? timeoutsFrom();
    this.buffers = new BufferPool(new ByteBudget(this.o.partBudgetBytes));
    this.names = { check: (key) => checkS3Key(this.prefix, key) };
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<RemoteObject> {
    const { client, sdk } = await this.connection();
    const signal = options.signal;
    let token: string | undefined;
    do {
      const page = await withRetry(
        () =>
          client
            .send(
              new sdk.ListObjectsV2Command({
                Bucket: this.bucket,
                Prefix: this.prefix + prefix,
                MaxKeys: 1000,
                ContinuationToken: token,
                ...(options.startAfter !== undefined && !token ? { StartAfter: this.prefix + options.startAfter } : {}),
              }),
              { abortSignal: signal },
            )
            .catch((err: unknown) => Promise.reject(this.mapError(err, 'ListObjectsV2'))),
        { policy: this.o.retry, ...(signal ? { signal } : {}) },
      );
      for (const obj of page.Contents ?? []) {
        // Keys ending in '/' are "folder markers" made by consoles and other tools, not files.
        if (!obj.Key || obj.Key.endsWith('/') || !obj.Key.startsWith(this.prefix)) continue;
        yield { key: obj.Key.slice(this.prefix.length), size: obj.Size ?? 0, etag: unquote(obj.ETag), mtime: obj.LastModified };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async stat(key: string): Promise<RemoteObject> {
    const out = await this.call('HeadObject', key, ({ client, sdk }) =>
      client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key })),
    );
    return { key, size: out.ContentLength ?? 0, etag: unquote(out.ETag), mtime: out.LastModified };
  }

  async put(key: string, body: PutBody, options: TransferOptions = {}): Promise<TransferResult> {
    const progress = new Progress(options.onProgress);
    try {
      const { size, md5 } = await measure(body, options.expectMd5, options.signal);
      if (size >= this.o.multipartThreshold) return await this.putMultipart(key, body, size, md5, progress, options.signal, options.ifAbsent);
      const conn = await this.connection();
      const job = { conn, bucket: this.bucket, key: this.prefix + key, label: this.objectUrl(key), body, size, md5, progress, ...(options.ifAbsent ? { ifAbsent: true } : {}) };
      if ('path' in body && size <= IN_MEMORY_MAX) {
        // Small files go as one buffer, read synchronously, within the memory budget:
        // a stream costs a dozen thread-pool round trips and socket writes per file,
        // which is most of the time of a push of many small files.
        const release = await this.buffers.budget.acquire(size, options.signal);
        try {
          const data = readFileSync(body.path);
          if (data.length !== size) throw new FileError(body.path, 'file changed while being uploaded');
          const inMemory = { ...job, body: { data } };
          return await putSingle(options.signal ? { ...inMemory, signal: options.signal } : inMemory);
        } finally {
          release();
        }
      }
      return await putSingle(options.signal ? { ...job, signal: options.signal } : job);
    } catch (err) {
      progress.rollback();
      throw this.mapError(err, 'PutObject', key);
    }
  }

  private async putMultipart(key: string, body: PutBody, size: number, md5: string, progress: Progress, signal?: AbortSignal, ifAbsent?: boolean): Promise<TransferResult> {
    const conn = await this.connection();
    const source = 'data' in body ? dataSource(body.data) : await fileSource(body.path, size);
    try {
      const { etag } = await uploadMultipart({
        conn,
        bucket: this.bucket,
        key: this.prefix + key,
        label: this.objectUrl(key),
        source,
        partSize: choosePartSize(size, this.o.partSize),
        md5,
        buffers: this.buffers,
        partsInFlight: this.o.partsInFlight,
        retry: this.o.retry,
        ...(signal ? { signal } : {}),
        progress,
        ...(ifAbsent ? { ifAbsent } : {}),
        mapError: (err, op) => this.mapError(err, op, key),
      });
      return { size, md5, etag };
    } finally {
      await source.close().catch(() => {});
    }
  }

  /**
   * Streams the object into `dest` (removed again on failure), then checks the
   * bytes (see downloadMismatch): against `expectMd5` when given, else against
   * the ETag (plain or multipart) and the `md5` metadata.
   */
  async get(key: string, dest: string, options: TransferOptions = {}): Promise<TransferResult> {
    const progress = new Progress(options.onProgress);
    let body: Readable | undefined;
    let fh: FileHandle | undefined;
    let opened = false;
    try {
      const { client, sdk } = await this.connection();
      const out = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }), { abortSignal: options.signal });
      body = out.Body as Readable | undefined;
      const etag = unquote(out.ETag);
      const hasher = downloadHasher(etag, out.ContentLength);
      const file = await open(dest, 'w').catch((err: unknown) => Promise.reject(fileError(dest, err)));
      fh = file;
      opened = true;
      const n = body ? await writeAll(body, file, dest, (c) => (hasher.update(c), progress.add(c.length)), options.signal) : 0;
      await file.sync();
      await file.close();
      fh = undefined;
      if (out.ContentLength !== undefined && n !== out.ContentLength) {
        throw new TransientError(`GetObject ${this.objectUrl(key)}: received ${n} of ${out.ContentLength} bytes`);
      }
      const sums = hasher.digest();
      const want = downloadMismatch(sums, { expectMd5: options.expectMd5, etag, metaMd5: out.Metadata?.md5 });
      if (want) throw new ChecksumError(`${this.objectUrl(key)}: downloaded bytes have MD5 ${sums.md5}, expected ${want}`);
      return { size: n, md5: sums.md5, etag };
    } catch (err) {
      body?.destroy();
      await fh?.close().catch(() => {});
      if (opened) await rm(dest, { force: true }).catch(() => {});
      progress.rollback();
      throw this.mapError(err, 'GetObject', key);
    }
  }

  async read(key: string, options: { signal?: AbortSignal } = {}): Promise<Buffer> {
    const out = await this.call('GetObject', key, ({ client, sdk }) =>
      client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }), options.signal ? { abortSignal: options.signal } : {}),
    );
    try {
      return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
    } catch (err) {
      throw this.mapError(err, 'GetObject', key);
    }
  }

  /**
   * One GetObject, with `Range: bytes=a-b` for a range: the size comes from
   * Content-Range (or Content-Length for a whole object). A range past the
   * end is answered 416 by S3, which knows no size to tell: a HEAD then gives
   * it for the RangeNotSatisfiableError.
   */
  async openRead(key: string, range?: ByteRange, options: { signal?: AbortSignal } = {}): Promise<OpenedRead> {
    if (range) rangeWithin(key, Number.MAX_SAFE_INTEGER, range); // offsets in order, before anything is sent
    const header = range ? `bytes=${range.start}-${range.end ?? ''}` : undefined;
    let out;
    try {
      out = await this.call('GetObject', key, ({ client, sdk }) =>
        client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, ...(header ? { Range: header } : {}) }), options.signal ? { abortSignal: options.signal } : {}),
      );
    } catch (err) {
      if (!range || !isInvalidRange(err)) throw err;
      throw new RangeNotSatisfiableError(key, (await this.stat(key)).size);
    }
    const body = (out.Body as NodeReadable | undefined) ?? NodeReadable.from([]);
    const length = out.ContentLength ?? 0;
    const parsed = parseContentRange(out.ContentRange);
    if (parsed) return { body, ...parsed };
    // No Content-Range: the whole object (a server that ignores Range sends it whole too).
    return { body, size: length, start: 0, end: length - 1 };
  }

  /** DeleteObject; S3 answers success for a missing key, and so do we. */
  async delete(key: string): Promise<void> {
    try {
      await this.call('DeleteObject', key, ({ client, sdk }) => client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key })));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  /** Server-side CopyObject (metadata kept). Objects over 5 GiB are refused with a clear error. */
  async copy(from: string, to: string, options: CopyOptions = {}): Promise<RemoteObject> {
    const src = options.size !== undefined ? { size: options.size } : await this.stat(from);
    if (src.size > MAX_COPY_BYTES) {
      throw new CratesyncError(`cannot copy ${this.objectUrl(from)} on the server: objects over 5 GiB need a multipart copy, which cratesync does not do; upload it instead`);
    }
    const copySource = `${this.bucket}/${(this.prefix + from).split('/').map(encodeURIComponent).join('/')}`;
    const out = await this.call('CopyObject', from, ({ client, sdk }) =>
      client.send(new sdk.CopyObjectCommand({ Bucket: this.bucket, Key: this.prefix + to, CopySource: copySource, MetadataDirective: 'COPY' })),
    );
    return { key: to, size: src.size, etag: unquote(out.CopyObjectResult?.ETag), mtime: out.CopyObjectResult?.LastModified };
  }

  /** S3 has no rename: copy, then delete the source. */
  async move(from: string, to: string, options: CopyOptions = {}): Promise<RemoteObject> {
    const moved = await this.copy(from, to, options);
    await this.delete(from);
    return moved;
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    if (conn) (await conn.catch(() => undefined))?.client.destroy();
  }

  private connection(): Promise<S3Connection> {
    this.conn ??= connectS3({
      endpoint: this.o.endpoint,
      region: this.o.region,
      profile: this.o.profile,
      maxSockets: this.o.transfers * this.o.partsInFlight + 4,
      timeouts: this.timeouts,
      onAnswer: () => (this.unanswered = 0),
    });
    return this.conn;
  }

  /** Runs one SDK call about `key`, mapping its errors. */
  private async call<T>(op: string, key: string, fn: (conn: S3Connection) => Promise<T>): Promise<T> {
    const conn = await this.connection();
    try {
      return await fn(conn);
    } catch (err) {
      throw this.mapError(err, op, key);
    }
  }

  private mapError(err: unknown, op: string, key?: string): unknown {
    const mapped = this.mapErrorOnce(err, op, key);
    if (isClientTimeout(err) && mapped instanceof TransientError && ++this.unanswered >= SILENT_REQUESTS) {
      return new UnreachableError(`${mapped.message}; ${this.unanswered} requests in a row went unanswered: check the endpoint and your network`, { cause: err });
    }
    return mapped;
  }

  private mapErrorOnce(err: unknown, op: string, key?: string): unknown {
    return mapS3Error(err, {
      timeouts: this.timeouts,
      op,
      bucket: this.bucket,
      endpoint: this.endpointLabel,
      where: key === undefined ? this.url : this.objectUrl(key),
      ...(key !== undefined ? { key } : {}),
      ...(this.o.profile ? { profile: this.o.profile } : {}),
    });
  }

  private objectUrl(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }
}

/** parseContentRange reads `bytes a-b/size`; undefined for anything else (an unsatisfied range, an unknown size). */
export function parseContentRange(header: string | undefined): { start: number; end: number; size: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header?.trim() ?? '');
  if (!m) return undefined;
  const [start, end, size] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return start <= end && end < size ? { start, end, size } : undefined;
}

/** isInvalidRange tells S3's answer to a range past the end (HTTP 416 InvalidRange), as mapped or raw. */
function isInvalidRange(err: unknown): boolean {
  const cause = err instanceof CratesyncError ? err.cause : err;
  const e = (cause ?? {}) as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'InvalidRange' || e.Code === 'InvalidRange' || e.$metadata?.httpStatusCode === 416;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
