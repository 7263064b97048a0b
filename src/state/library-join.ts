/**
 * The queries that read both sides for planning (see sync/sides.ts): walked
 * files joined with the file index and the remote mirror, inside SQLite. Each
 * statement is prepared once per database.
 */
import type Database from 'better-sqlite3';
import { cached, type Db } from './state-db.js';
import { LEAN_COLUMNS, mirrorObject, type MirrorObject, type MirrorRow } from './remote-mirror.js';
import type { FileRecord } from './file-index.js';

/**
 * One walked file joined: its index in the batch, the index's stat
 * fingerprint, whether the object at its key has the indexed content, whether
 * there is an object at all, (only when not identical) the hashes, and
 * whether its tags were read by a media reader older than the one asked about.
 */
export type JoinRow = [i: number, size: number, mtimeMs: number, inode: number, same: 0 | 1, held: 0 | 1, md5: string | null, audioHash: string | null, readBefore: 0 | 1];

type IndexRow = [path: string, size: number, mtimeMs: number, inode: number, md5: string, audioHash: string | null];

/** statChanged is the one rule for a file changed since it was hashed: another size, mtime or inode. */
export function statChanged(a: { size: number; mtimeMs: number; inode: number }, b: { size: number; mtimeMs: number; inode: number }): boolean {
  return a.size !== b.size || a.mtimeMs !== b.mtimeMs || a.inode !== b.inode;
}

export class LibraryJoin {
  private readonly join: Database.Statement;

  constructor(
    private readonly db: Db,
    /** The remote whose mirror is joined. */
    private readonly remote: string,
    /** Key prefix of library files on the remote (`music/`). */
    private readonly prefix: string,
  ) {
    // One statement per batch, its paths bound as one JSON array: a keyed
    // lookup per file would spend more on calls into SQLite than on the
    // lookups. Hashes are read only for the files not identical to their object.
    this.join = cached(
      db,
      `SELECT j.key, f.size, f.mtime_ms, f.inode, r.md5 IS f.md5 AS same, r.key IS NOT NULL,
         CASE WHEN r.md5 IS f.md5 THEN NULL ELSE f.md5 END, CASE WHEN r.md5 IS f.md5 THEN NULL ELSE f.audio_hash END,
         f.media_v IS NULL OR f.media_v < ?
       FROM json_each(?) j JOIN files f ON f.path = j.value
       LEFT JOIN remote_objects r ON r.remote = ? AND r.key = ? || f.path`,
    ).raw();
  }

  /**
   * pairs joins the library paths `paths` (a batch) with the index and the
   * mirror; rows of indexed paths only. `mediaVersion` is the media reader
   * whose elders `readBefore` tells.
   */
  pairs(paths: readonly string[], mediaVersion: number): Iterable<JoinRow> {
    return this.join.iterate(mediaVersion, JSON.stringify(paths), this.remote, this.prefix) as Iterable<JoinRow>;
  }

  /** indexedCount is how many files the index knows. */
  indexedCount(): number {
    return cached(this.db, 'SELECT COUNT(*) FROM files').pluck().get() as number;
  }

  /** mirroredCount is how many objects the mirror holds for the remote. */
  mirroredCount(): number {
    return cached(this.db, 'SELECT COUNT(*) FROM remote_objects WHERE remote = ?').pluck().get(this.remote) as number;
  }

  /** indexed streams the index's records (without tags); with `under`, only those at or below these library paths. */
  *indexed(under?: readonly string[]): Iterable<FileRecord> {
    const rows = under
      ? (cached(
          this.db,
          // json_each has `key` and `path` columns of its own: the table's are named in full.
          `SELECT path, size, mtime_ms, inode, md5, audio_hash FROM files WHERE EXISTS (SELECT 1 FROM json_each(?) u
           WHERE files.path = u.value OR substr(files.path, 1, length(u.value) + 1) = u.value || '/')`,
        )
          .raw()
          .iterate(JSON.stringify(under)) as Iterable<IndexRow>)
      : (cached(this.db, 'SELECT path, size, mtime_ms, inode, md5, audio_hash FROM files').raw().iterate() as Iterable<IndexRow>);
    for (const [path, size, mtimeMs, inode, md5, audioHash] of rows) yield { path, size, mtimeMs, inode, md5, ...(audioHash ? { audioHash } : {}) };
  }

  /** mirroredUnder lists (lean, see LEAN_COLUMNS) the objects at or below these library paths. */
  mirroredUnder(under: readonly string[]): MirrorObject[] {
    const rows = cached(
      this.db,
      `SELECT ${LEAN_COLUMNS} FROM remote_objects WHERE remote = ? AND EXISTS (SELECT 1 FROM json_each(?) u
       WHERE remote_objects.key = ? || u.value OR substr(remote_objects.key, 1, length(?) + length(u.value) + 1) = ? || u.value || '/')`,
    ).all(this.remote, JSON.stringify(under), this.prefix, this.prefix, this.prefix) as MirrorRow[];
    return rows.map(mirrorObject);
  }
}
