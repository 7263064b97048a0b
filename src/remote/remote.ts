/**
 * The Remote interface: where a library is synced to. A remote is a tree of
 * objects addressed by keys relative to its root ('/'-separated, no leading
 * slash). Implementations: the folder remote (a local or mounted directory)
 * and the S3 remote (any S3-compatible server).
 *
 * Required methods are few; optional capabilities (server-side copy, move)
 * are optional methods, and callers test for them (`if (remote.copy)`).
 * Every implementation passes the shared conformance suite in
 * remote-conformance.ts.
 *
 * Errors: methods throw NotFoundError for a missing key,
 * AccessDeniedError / UnreachableError when the remote as a
 * whole is unusable, TransientError for failures worth retrying and
 * ChecksumError when bytes do not hash to what was expected (all in
 * ../errors.ts).
 */

import type { Readable } from 'node:stream';
import type { RemoteObject } from '../core/remote-object.js';

/** What to upload: a local file (read by the remote, hashed as it is read) or bytes. */
export type PutBody = { path: string } | { data: Uint8Array };

/** Result of a verified upload or download. */
export interface TransferResult {
  /** Bytes transferred. */
  size: number;
  /** Hex MD5 of exactly the bytes transferred. */
  md5: string;
  /** Entity tag the remote reports for the object (S3), if any. */
  etag?: string;
}

export interface TransferOptions {
  signal?: AbortSignal;
  /**
   * Called with the number of bytes just moved (a delta, not a total). When
   * the transfer fails, the bytes it had reported are taken back with one
   * negative delta: summed over a transfer, the deltas give its size if it
   * succeeded and 0 if it failed, so retries are not counted twice.
   */
  onProgress?: (bytes: number) => void;
  /** Hex MD5 the content must have; a mismatch is a ChecksumError. */
  expectMd5?: string;
  /**
   * put only: store only when no object is at the key, atomically; when one
   * is, throw PreconditionError and leave it as it is. A server that ignores
   * conditional writes (s3rver, older MinIO) stores anyway: this narrows a
   * race between writers, it cannot close it everywhere.
   */
  ifAbsent?: boolean;
}

/** Names a remote cannot hold, checked before anything is sent. */
export interface ListOptions {
  signal?: AbortSignal;
  /**
   * Only keys that sort after this one (by UTF-8 bytes) are listed. S3 starts
   * the listing there, so reading what was appended to a time-ordered prefix
   * costs one request however long the prefix is.
   */
  startAfter?: string;
}

/** A byte range of an object: `start` and `end` are offsets, `end` inclusive (as in HTTP). */
export interface ByteRange {
  start: number;
  /** Absent: to the end of the object. */
  end?: number;
}

/** What Remote.openRead opened: the bytes `start`..`end` (inclusive) of an object of `size` bytes. */
export interface OpenedRead {
  body: Readable;
  /** The whole object's size. */
  size: number;
  start: number;
  end: number;
}

export interface CopyOptions {
  /** The source's size, when the caller knows it: spares a HEAD request. */
  size?: number;
}

export interface NameRules {
  /** Returns why `key` cannot be stored on this remote, or undefined when it can. */
  check(key: string): string | undefined;
}

export interface Remote {
  /** Canonical URL of the remote root, for messages (`s3://bucket/dj`, `file:///music`). */
  readonly url: string;
  /** What kind of backend this is. */
  readonly kind: 'folder' | 's3';
  readonly names: NameRules;

  /**
   * Lists every object whose key starts with `prefix` (usually a "directory"
   * ending in '/', or '' for all), recursively, in no particular order.
   * Streams: it never holds the whole listing in memory. A folder remote whose
   * root does not exist yet lists nothing.
   */
  list(prefix: string, options?: ListOptions): AsyncIterable<RemoteObject>;

  /**
   * Reads the whole object at `key` into memory: for cratesync's own small
   * metadata objects (catalog logs), never for audio. Throws NotFoundError
   * when there is none.
   */
  read(key: string, options?: { signal?: AbortSignal }): Promise<Buffer>;

  /** Returns the object at `key`; throws NotFoundError when there is none. */
  stat(key: string): Promise<RemoteObject>;

  /**
   * Stores `body` at `key`, replacing any object there. The upload is verified
   * end to end: the MD5 of the bytes read is sent for the server to check and
   * compared with what the server reports; on mismatch it throws ChecksumError
   * and leaves no corrupt object behind. Large bodies go in parts with bounded
   * memory.
   *
   * What is stored is exactly the bytes hashed, or nothing: a file that grows
   * (still being written), shrinks or fails to read while it is sent fails
   * the put (FileError or ChecksumError) and leaves no part of it at `key`.
   * Such a failure may remove what stood at `key` before (S3: a server that
   * does not store bodies atomically may have replaced it, so the key is
   * deleted); a caller that must keep the old version copies it first, as
   * the sync layer does (sync/trash.ts, keepRemoteVersion).
   */
  put(key: string, body: PutBody, options?: TransferOptions): Promise<TransferResult>;

  /**
   * Writes the object at `key` to the local file `dest` (created or
   * truncated, and fsynced; the caller picks a temporary name and renames it
   * into place). Verifies the bytes against `expectMd5` or, failing that,
   * against what the remote knows of the content (S3: the ETag when it is a
   * content MD5, single- or multipart, or the `md5` metadata our uploads
   * store). On any failure `dest` is removed.
   */
  get(key: string, dest: string, options?: TransferOptions): Promise<TransferResult>;

  /** Deletes `key`. Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;

  /** Optional: server-side copy of `from` to `to` without moving bytes through the client. */
  copy?(from: string, to: string, options?: CopyOptions): Promise<RemoteObject>;

  /**
   * Optional: the content MD5 of `key`, computed by reading it. Offered by
   * remotes whose listings carry no content hash (folders), so that a file
   * already present with the same content is recognised rather than re-sent.
   */
  md5?(key: string): Promise<string>;

  /**
   * Optional: opens the object at `key` for streaming, whole or a byte range
   * of it (`end` inclusive, clamped to the last byte; absent: to the end),
   * for serving audio without a local copy. Resolves once the remote
   * answered: `body` streams exactly bytes `start`..`end` (inclusive; `end`
   * is `start - 1` for an empty object read whole), `size` is the whole
   * object's. Throws NotFoundError when there is no object at `key`, and
   * RangeNotSatisfiableError (with the object's size) when `range.start` is
   * past its last byte. The bytes are not verified (a range cannot be); the
   * caller destroys `body` when it stops early, and `signal` aborts the
   * request and the stream.
   */
  openRead?(key: string, range?: ByteRange, options?: { signal?: AbortSignal }): Promise<OpenedRead>;

  /** Optional: server-side move (rename); falls back to copy+delete when absent. */
  move?(from: string, to: string, options?: CopyOptions): Promise<RemoteObject>;

  /** Releases connections and handles. */
  close(): Promise<void>;
}
