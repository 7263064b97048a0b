/**
 * Local-file plumbing shared by the remotes: hashing a file, writing a byte
 * stream into an open file, progress accounting that a failed transfer can
 * take back, and turning errors about a local file into FileError.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { describe, FileError } from '../errors.js';

/** Read size for local files: large enough that syscalls do not dominate. */
export const READ_CHUNK = 1024 * 1024;

/**
 * Progress forwards byte deltas to a TransferOptions.onProgress callback and
 * remembers their sum, so that a transfer that fails can report the bytes it
 * had announced as a negative delta (`rollback`). A caller that sums deltas
 * thus ends up with exactly the bytes of the transfers that succeeded, even
 * when a transfer is retried.
 */
export class Progress {
  private reported = 0;

  constructor(private readonly callback?: (bytes: number) => void) {}

  add(bytes: number): void {
    if (!this.callback || bytes === 0) return;
    this.reported += bytes;
    this.callback(bytes);
  }

  rollback(): void {
    if (!this.callback || this.reported === 0) return;
    const back = this.reported;
    this.reported = 0;
    this.callback(-back);
  }
}

/** fileError wraps an error about the local file `path` (unreadable, vanished) as a FileError. */
export function fileError(path: string, err: unknown): FileError {
  if (err instanceof FileError) return err;
  let message = describe(err);
  if (message.startsWith(`${path}: `)) message = message.slice(path.length + 2);
  return new FileError(path, message, { cause: err });
}

/**
 * readLocal streams the local file `path`; any error while opening or reading
 * it surfaces as a FileError naming that file (so that callers can tell a
 * vanished source file from a missing remote key).
 */
export async function* readLocal(path: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK, ...(signal ? { signal } : {}) });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    if (signal?.aborted) throw err;
    throw fileError(path, err);
  } finally {
    stream.destroy();
  }
}

/** md5File hashes the local file `path` (FileError when it cannot be read). */
export async function md5File(path: string, signal?: AbortSignal): Promise<{ md5: string; size: number }> {
  const hash = createHash('md5');
  let size = 0;
  for await (const chunk of readLocal(path, signal)) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { md5: hash.digest('hex'), size };
}

/**
 * writeAll writes every chunk of `source` to `fh` (the file `path`) from
 * offset 0, calling `onChunk` for each chunk first (to hash it and report
 * progress). Returns the number of bytes written. Errors of the source pass
 * through unchanged; errors writing become FileError naming `path`, so a full
 * local disk is not mistaken for a network failure. It does not fsync or
 * close `fh`.
 */
export async function writeAll(
  source: AsyncIterable<Uint8Array>,
  fh: FileHandle,
  path: string,
  onChunk: (chunk: Uint8Array) => void,
  signal?: AbortSignal,
): Promise<number> {
  let pos = 0;
  for await (const chunk of source) {
    signal?.throwIfAborted();
    onChunk(chunk);
    // FileHandle.write may write less than asked; loop until the chunk is on disk.
    for (let off = 0; off < chunk.length; ) {
      const { bytesWritten } = await fh.write(chunk, off, chunk.length - off, pos + off).catch((err: unknown) => Promise.reject(fileError(path, err)));
      off += bytesWritten;
    }
    pos += chunk.length;
  }
  return pos;
}

/** truncateUtf8 shortens `s` to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  let bytes = 0;
  let out = '';
  for (const ch of s) {
    bytes += Buffer.byteLength(ch);
    if (bytes > maxBytes) break;
    out += ch;
  }
  return out;
}

/** oneChunk presents bytes already in memory as a stream of one chunk. */
export async function* oneChunk(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

/** syncDir fsyncs a directory so a rename in it survives a crash; not possible everywhere (Windows), so best effort. */
export async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // best effort
  } finally {
    await fh?.close().catch(() => {});
  }
}

/**
 * readInto reads the local file `path` from its start into `buf` and returns
 * the part filled: the whole file, or undefined when the file did not fit
 * (it grew past `buf.length`), so that a caller can lease a buffer one byte
 * larger than the size it expects and tell a file that grew. One read call in
 * the thread pool for the common case, instead of one per 512 KiB chunk.
 */
export async function readInto(path: string, buf: Buffer): Promise<Buffer | undefined> {
  const fh = await open(path, 'r').catch((err: unknown) => Promise.reject(fileError(path, err)));
  try {
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got).catch((err: unknown) => Promise.reject(fileError(path, err)));
      if (bytesRead === 0) return buf.subarray(0, got);
      got += bytesRead;
    }
    return undefined;
  } finally {
    await fh.close().catch(() => {});
  }
}
