/**
 * The file index: per library path, the stat fingerprint (size, mtime, inode)
 * and the hashes and tags computed from the content. A file whose fingerprint
 * is unchanged is not hashed again. Writes are batched (see Batcher); one lost
 * to a crash only means hashing that file again.
 */
import type Database from 'better-sqlite3';
import { cached, type Db } from './state-db.js';
import type { Tags } from '../core/tags.js';
import { Batcher } from './batcher.js';

export interface FileRecord {
  path: string;
  size: number;
  mtimeMs: number;
  inode: number;
  md5: string;
  audioHash?: string;
  tags?: Tags;
  /**
   * The version of the media reader that read `tags` (library/tags.ts
   * MEDIA_VERSION); absent when an older cratesync did, which read less.
   */
  mediaV?: number;
}

interface Row {
  path: string;
  size: number;
  mtime_ms: number;
  inode: number;
  md5: string;
  audio_hash: string | null;
  tags: string | null;
  media_v: number | null;
}

function fromRow(r: Row): FileRecord {
  const rec: FileRecord = { path: r.path, size: r.size, mtimeMs: r.mtime_ms, inode: r.inode, md5: r.md5 };
  if (r.audio_hash) rec.audioHash = r.audio_hash;
  if (r.tags) rec.tags = JSON.parse(r.tags) as Tags;
  if (r.media_v !== null && r.media_v !== undefined) rec.mediaV = r.media_v;
  return rec;
}

type Write = { put: FileRecord } | { remove: string };

export class FileIndex {
  private readonly upsert: Database.Statement;
  private readonly del: Database.Statement;
  private readonly writes = new Batcher<Write>((batch) => this.commit(batch));

  constructor(readonly db: Db) {
    this.upsert = db.prepare(
      `INSERT INTO files (path, size, mtime_ms, inode, md5, audio_hash, tags, media_v, scanned_at)
       VALUES (@path, @size, @mtimeMs, @inode, @md5, @audioHash, @tags, @mediaV, @now)
       ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms,
         inode = excluded.inode, md5 = excluded.md5, audio_hash = excluded.audio_hash,
         tags = excluded.tags, media_v = excluded.media_v, scanned_at = excluded.scanned_at`,
    );
    this.del = db.prepare('DELETE FROM files WHERE path = ?');
  }

  /** Records whose content has MD5 `md5` (by the index on it). */
  withMd5(md5: string): FileRecord[] {
    this.flush();
    return (cached(this.db, 'SELECT path, size, mtime_ms, inode, md5, audio_hash, NULL AS tags, NULL AS media_v FROM files WHERE md5 = ?').all(md5) as Row[]).map(fromRow);
  }

  /**
   * The records (without tags) of those of `paths` whose tags a media reader
   * older than `version` read, or one that did not say (a row an older
   * cratesync wrote): one statement for the lot.
   */
  readBefore(paths: readonly string[], version: number): FileRecord[] {
    this.flush();
    return (
      cached(
        this.db,
        `SELECT path, size, mtime_ms, inode, md5, audio_hash, NULL AS tags, media_v FROM files
         WHERE path IN (SELECT value FROM json_each(?)) AND (media_v IS NULL OR media_v < ?)`,
      ).all(JSON.stringify(paths), version) as Row[]
    ).map(fromRow);
  }

  /** Paths that hold `fragment` (a conflict copy's `.conflict-`): one pass over the index, no file read. */
  pathsContaining(fragment: string): string[] {
    this.flush();
    return cached(this.db, 'SELECT path FROM files WHERE instr(path, ?) > 0 ORDER BY path').pluck().all(fragment) as string[];
  }

  get(path: string): FileRecord | undefined {
    this.flush();
    const r = cached(this.db, 'SELECT * FROM files WHERE path = ?').get(path) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  /** Records (or replaces) what is known of `records`. Only their FileRecord fields are stored. */
  put(...records: FileRecord[]): void {
    this.writes.add(...records.map((put) => ({ put })));
  }

  /** Forgets `paths`: files gone from the library. */
  remove(...paths: string[]): void {
    this.writes.add(...paths.map((remove) => ({ remove })));
  }

  /** Commits pending writes now. */
  flush(): void {
    this.writes.flush();
  }

  private commit(batch: Write[]): void {
    const now = Date.now();
    this.db.transaction(() => {
      for (const w of batch) {
        if ('remove' in w) {
          this.del.run(w.remove);
          continue;
        }
        const r = w.put;
        this.upsert.run({
          path: r.path,
          size: r.size,
          mtimeMs: r.mtimeMs,
          inode: r.inode,
          md5: r.md5,
          audioHash: r.audioHash ?? null,
          tags: r.tags ? JSON.stringify(r.tags) : null,
          mediaV: r.mediaV ?? null,
          now,
        });
      }
    })();
  }
}
