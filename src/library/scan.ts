/**
 * Library files and their hashes. Files that are new or changed since they
 * were hashed ("fresh") have none (see sync/sides.ts): hashing is left to
 * whoever needs them, at the latest moment, so that a push reads a new file
 * once (to hash and send it together) and a re-run of an unchanged library
 * reads no file.
 */
import { extname } from 'node:path';
import type { FileIndex, FileRecord } from '../state/file-index.js';
import type { WalkedFile } from './walk.js';
import type { Problem } from '../core/problem.js';
import { hashBytes, hashFile } from './audio-hash.js';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Tags } from '../core/tags.js';
import { hasTags, MEDIA_VERSION, readMedia, type MediaInfo } from './tags.js';
import { storeCover } from './cover-store.js';
import { describe } from '../errors.js';
import { forEachLimit } from '../core/concurrency.js';

/**
 * A library file. `md5` (and the audio hash) are absent while the file is
 * fresh and not yet hashed. Its tags are in the index (see FileIndex).
 */
export interface LocalFile extends WalkedFile {
  md5?: string;
  audioHash?: string;
}

/**
 * hashFiles hashes the fresh ones of `files` in place and records them in the
 * index. A file that cannot be read is reported in `problems` and left
 * without an md5. Returns how many were hashed; rejects with the signal's
 * reason once `signal` is aborted (no new file is started after it).
 */
export async function hashFiles(
  files: LocalFile[],
  index: FileIndex,
  problems: Problem[],
  opts: { concurrency?: number; signal?: AbortSignal; coversDir?: string | undefined } = {},
): Promise<number> {
  let n = 0;
  await forEachLimit(files.filter((f) => !f.md5), opts.concurrency ?? 4, async (f) => {
    try {
      const rec = await describeFile(f, undefined, opts);
      // The hashes stay with the file for planning; the tags go to the index
      // only: kept on every file, they would outweigh everything else a large
      // run holds per file.
      f.size = rec.size;
      f.md5 = rec.md5;
      if (rec.audioHash) f.audioHash = rec.audioHash;
      index.put(rec);
      n++;
    } catch (err) {
      problems.push({ path: f.path, message: describe(err) });
    }
  }, opts.signal);
  // Stopped: the files not hashed yet would be planned as unknown content.
  opts.signal?.throwIfAborted();
  return n;
}

/** Files up to this size are read whole into memory once: hashing and tag parsing share the read. */
export const WHOLE_READ = 256 * 1024;

/**
 * describeFile hashes the file `w` and reads its tags; `data`, when given, is
 * its whole content, already read. `w` carries the stat taken before reading,
 * so a change made while hashing shows as a new fingerprint on the next scan.
 * Throws when the file cannot be read; tags that cannot be parsed are simply
 * absent (corrupt or tagless audio is still synced as a file).
 *
 * The record carries MEDIA_VERSION, also when the file has no tags: what
 * this reader could read of it, it did.
 *
 * With `coversDir`, an embedded cover goes to that cover store (see
 * cover-store.ts) under the name its tags give it; only the name goes to
 * the record. A cover that cannot be stored is left out of the store, not a
 * failure: its upload reports it missing.
 */
export async function describeFile(w: WalkedFile, data?: Buffer, opts: { coversDir?: string | undefined } = {}): Promise<FileRecord> {
  // A synchronous read of a small file saves a dozen thread-pool round trips.
  const bytes = data ?? (w.size <= WHOLE_READ ? readFileSync(w.abs) : undefined);
  const h = bytes ? await hashBytes(bytes) : await hashFile(w.abs);
  const rec: FileRecord = { path: w.path, size: h.size, mtimeMs: w.mtimeMs, inode: w.inode, md5: h.md5, mediaV: MEDIA_VERSION };
  if (h.audioHash) rec.audioHash = h.audioHash;
  const tags = await tagsOf(w.path, w.abs, bytes, opts.coversDir, false);
  if (tags) rec.tags = tags;
  return rec;
}

/**
 * rereadMedia reads again the tags (and cover, into `coversDir`) of library
 * file `rec` at `abs`, whose hashes the index knows: the file is not hashed
 * again. Returns `rec` with the new tags (none when they cannot be parsed)
 * and MEDIA_VERSION. Throws when the file cannot be read (gone, unreadable).
 */
export async function rereadMedia(rec: FileRecord, abs: string, opts: { coversDir?: string | undefined } = {}): Promise<FileRecord> {
  const bytes = rec.size <= WHOLE_READ ? await readFile(abs) : undefined;
  const tags = await tagsOf(rec.path, abs, bytes, opts.coversDir, true);
  const { tags: _old, ...kept } = rec;
  return { ...kept, ...(tags ? { tags } : {}), mediaV: MEDIA_VERSION };
}

/**
 * tagsOf reads the tags of the file at `abs` (from `bytes` when they are its
 * whole content), storing its cover in `coversDir`. Tags that cannot be parsed
 * are undefined; a file that cannot be read is too, or with `throwUnread`
 * its error is thrown.
 */
async function tagsOf(path: string, abs: string, bytes: Buffer | undefined, coversDir: string | undefined, throwUnread: boolean): Promise<Tags | undefined> {
  if (!hasTags(extname(path))) return undefined;
  let media: MediaInfo;
  try {
    media = await readMedia(abs, bytes);
  } catch (err) {
    // A system call's error is the file's; any other, its content's (no tags: the file is still synced).
    if (throwUnread && typeof (err as NodeJS.ErrnoException).syscall === 'string') throw err;
    return undefined;
  }
  if (media.cover && coversDir !== undefined) await storeCover(coversDir, media.cover.name, media.cover.data).catch(() => {});
  return media.tags;
}
