/**
 * Backfilling what a newer media reader knows of files an older cratesync
 * described. A file's tags are read when it is hashed, and an unchanged file
 * is never hashed again: without this, the bitrate, lyrics and cover a newer
 * reader adds (library/tags.ts MEDIA_VERSION) would reach neither the file
 * index nor the catalog until each file changed.
 *
 * So a push or sync reads again the tags (not the hashes) of the files the
 * scan found described by an older reader, and for each one the remote holds
 * as it is (same MD5 at its key) whose catalog entry lacks what the new
 * reader adds, it restates that object in the catalog with the new tags (no
 * upload) and sends its cover. An entry that has them already (another
 * machine restated it) is left alone: restating changes the entry's writer,
 * and no machine should take over what another said just as well.
 */
import type { FileIndex, FileRecord } from '../state/file-index.js';
import type { MirrorObject, RemoteMirror } from '../state/remote-mirror.js';
import type { Problem } from '../core/problem.js';
import type { Tags } from '../core/tags.js';
import type { LocalFile } from '../library/scan.js';
import type { RemoteCatalog } from './catalog.js';
import type { CoverUploader } from './covers.js';
import { stat } from 'node:fs/promises';
import { rereadMedia } from '../library/scan.js';
import { MEDIA_VERSION } from '../library/tags.js';
import { statChanged } from '../state/library-join.js';
import { forEachLimit } from '../core/concurrency.js';
import { describe } from '../errors.js';
import { musicKey } from './layout.js';

/** Files looked up (in the index and the mirror) per statement. */
const CHUNK = 256;

export interface MediaRefreshContext {
  index: FileIndex;
  mirror: RemoteMirror;
  /** Where restated objects are recorded; none (a pull): the index alone learns the tags. */
  catalog?: RemoteCatalog | undefined;
  /** Sends the covers of restated objects; none: covers are not sent. */
  covers?: CoverUploader | undefined;
  /** The local cover store the covers read go to. */
  coversDir?: string | undefined;
  /** Hears each file that could not be read (the others go on). */
  report(p: Problem): void;
  concurrency?: number;
  signal?: AbortSignal;
}

export interface MediaRefreshed {
  /** Files whose tags were read again and recorded in the index. */
  refreshed: number;
  /** Of them, objects restated in the catalog with the new tags. */
  restated: number;
}

/**
 * refreshMedia reads again the tags of `files` (Sides.staleMedia: unchanged
 * since hashed, their tags read by an older media reader) that the index
 * still says so of, records them in the index with MEDIA_VERSION, and
 * restates in the catalog the objects that hold them as they are (see
 * {@link restatement}), sending their covers. A file that changed since the
 * scan is left to the next run (which hashes it); one that cannot be read is
 * reported and stays as it was. Only a few files' tags are held at a time.
 * Rejects with the signal's reason once `signal` is aborted (no new file is
 * started after it).
 */
export async function refreshMedia(files: readonly LocalFile[], ctx: MediaRefreshContext): Promise<MediaRefreshed> {
  const done: MediaRefreshed = { refreshed: 0, restated: 0 };
  for (let i = 0; i < files.length; i += CHUNK) {
    ctx.signal?.throwIfAborted();
    const chunk = files.slice(i, i + CHUNK);
    const known = new Map(ctx.index.readBefore(chunk.map((f) => f.path), MEDIA_VERSION).map((r) => [r.path, r]));
    const due = chunk.filter((f) => known.has(f.path));
    if (due.length === 0) continue;
    const rows = ctx.catalog ? ctx.mirror.getMany(due.map((f) => musicKey(f.path))) : [];
    await forEachLimit(due, ctx.concurrency ?? 4, async (f, j) => {
      const rec = known.get(f.path) as FileRecord;
      let next: FileRecord;
      try {
        // Read as the scan saw it, or not at all: a file changed since is hashed (and read) by the next run.
        if (statChanged(rec, await statOf(f.abs))) return;
        next = await rereadMedia(rec, f.abs, { coversDir: ctx.coversDir });
      } catch (err) {
        ctx.report({ path: f.path, message: `its tags could not be read again: ${describe(err)}` });
        return;
      }
      ctx.index.put(next);
      done.refreshed++;
      const entry = ctx.catalog && restatement(rows[j], next);
      if (!entry || !ctx.catalog) return;
      restate(ctx.catalog, ctx.mirror, entry);
      done.restated++;
      if (entry.tags.cover && ctx.covers) await ctx.covers.ensure(entry.tags.cover, f.path, ctx.signal);
    }, ctx.signal);
  }
  ctx.signal?.throwIfAborted();
  return done;
}

/**
 * restatement is the object `row` (the mirror's, at the file's key) restated
 * with the tags of `rec`, or undefined when it is not to be: when the object
 * is not the file's content (another MD5 or size: the plan deals with it),
 * when its entry already has what a newer reader adds (bitrate or cover),
 * or when the new tags have none of it either.
 */
export function restatement(row: MirrorObject | undefined, rec: FileRecord): (MirrorObject & { md5: string; tags: Tags }) | undefined {
  if (!row || row.md5 !== rec.md5 || row.size !== rec.size) return undefined;
  if (row.tags?.bitrate !== undefined || row.tags?.cover !== undefined) return undefined;
  const tags = rec.tags;
  if (!tags || (tags.bitrate === undefined && tags.cover === undefined && tags.lyrics === undefined)) return undefined;
  const audioHash = rec.audioHash ?? row.audioHash;
  return { ...row, md5: rec.md5, tags, ...(audioHash ? { audioHash } : {}) };
}

/**
 * restate records `o` in the catalog as a put of the very object the mirror
 * holds (same key, size, MD5 and ETag, with the player meta it has): no
 * upload. The mirror keeps the object's mtime, which the catalog's entry does
 * not carry and a folder remote's fingerprint is made of.
 */
function restate(catalog: RemoteCatalog, mirror: RemoteMirror, o: MirrorObject & { md5: string; tags: Tags }): void {
  const at = Date.now();
  catalog.record({
    op: 'put',
    key: o.key,
    size: o.size,
    md5: o.md5,
    ...(o.etag ? { etag: o.etag } : {}),
    ...(o.audioHash ? { audioHash: o.audioHash } : {}),
    tags: o.tags,
    ...(o.player ? { player: o.player } : {}),
    at,
  });
  if (o.mtime) {
    const { logKey: _pending, ...kept } = o;
    mirror.put({ ...kept, writer: catalog.writer, writtenAt: at });
  }
}

async function statOf(abs: string): Promise<{ size: number; mtimeMs: number; inode: number }> {
  const st = await stat(abs);
  return { size: st.size, mtimeMs: st.mtimeMs, inode: st.ino };
}
