/**
 * Sync records: for one remote, what each library path was when it was last
 * uploaded, downloaded or confirmed identical. They let a re-run trust an
 * object whose ETag is not a plain MD5 (multipart uploads) without reading
 * it again, and let an interrupted run continue where it stopped.
 *
 * Writes are batched (see Batcher). A record lost to a crash costs nothing
 * but a comparison: the next run finds the object on the remote with the
 * same content and records it then.
 */
import { cached, type Db } from './state-db.js';
import { fingerprintSql } from './fingerprint.js';
import type Database from 'better-sqlite3';
import { Batcher } from './batcher.js';

export interface SyncRecord {
  path: string;
  key: string;
  size: number;
  md5: string;
  etag?: string;
  /** Audio hash of what was synced, when known: tells a later tag-only edit apart. */
  audioHash?: string;
  /** Set when a run began moving this path to another one (see plan.ts): lets the next run finish the move. */
  movedTo?: string;
}

/** Read access to sync records by path: a Map, or SyncRecords itself (looked up in SQLite). */
export interface SyncedLookup {
  get(path: string): SyncRecord | undefined;
  has(path: string): boolean;
}

interface Row {
  path: string;
  key: string;
  size: number;
  md5: string;
  etag: string | null;
  audio_hash: string | null;
  moved_to: string | null;
}

function fromRow(r: Row): SyncRecord {
  return {
    path: r.path,
    key: r.key,
    size: r.size,
    md5: r.md5,
    ...(r.etag ? { etag: r.etag } : {}),
    ...(r.audio_hash ? { audioHash: r.audio_hash } : {}),
    ...(r.moved_to ? { movedTo: r.moved_to } : {}),
  };
}

export class SyncRecords implements SyncedLookup {
  private readonly upsert: Database.Statement;
  private readonly one: Database.Statement;
  private readonly del: Database.Statement;
  private readonly writes = new Batcher<{ put?: SyncRecord; remove?: string }>((batch) => this.commit(batch));

  constructor(
    private readonly db: Db,
    /** Canonical URL of the remote these records are about. */
    readonly remote: string,
  ) {
    this.upsert = db.prepare(
      `INSERT INTO synced (remote, path, key, size, md5, etag, audio_hash, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(remote, path) DO UPDATE SET key = excluded.key, size = excluded.size, md5 = excluded.md5,
         etag = excluded.etag, audio_hash = excluded.audio_hash, synced_at = excluded.synced_at`,
    );
    this.del = db.prepare('DELETE FROM synced WHERE remote = ? AND path = ?');
    this.one = db.prepare('SELECT path, key, size, md5, etag, audio_hash, moved_to FROM synced WHERE remote = ? AND path = ?');
  }

  /**
   * The record of `path`, read from the database (pending writes included).
   * Looking records up one by one, when needed, keeps a run over a large
   * library from holding all of them: most paths are identical on both sides
   * and never need theirs.
   */
  get(path: string): SyncRecord | undefined {
    this.flush();
    const r = this.one.get(this.remote, path) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  /**
   * Notes, durably and at once, that `path` is being moved to `to`: written
   * before the move's copy, so that a run killed between the copy and the
   * trashing of the old key leaves the next run what it needs to finish.
   */
  markMoving(path: string, to: string): void {
    this.flush();
    cached(this.db, 'UPDATE synced SET moved_to = ? WHERE remote = ? AND path = ?').run(to, this.remote, path);
  }

  /**
   * unconfirmed returns the mirrored keys of this remote whose record does not
   * vouch for them as the mirror knows them (no record, or another MD5 or
   * ETag): a run that finds a pair identical needs to record only those. The
   * comparison runs inside SQLite, so a no-op run reads no record at all,
   * however large the library.
   */
  unconfirmed(): Set<string> {
    this.flush();
    const rows = cached(
      this.db,
        `SELECT o.key FROM remote_objects o LEFT JOIN synced s INDEXED BY synced_key ON s.remote = o.remote AND s.key = o.key
         WHERE o.remote = ? AND (s.key IS NULL OR o.md5 IS NULL OR s.md5 IS NOT o.md5 OR s.etag IS NOT ${fingerprintSql('o')})`,
    )
      .pluck()
      .all(this.remote) as string[];
    return new Set(rows);
  }

  /**
   * recordIdentical writes, inside SQLite, the record of every path whose
   * indexed content is what the mirror says its object (`<prefix><path>`) holds,
   * unless the record already says so; `except` are library paths whose file
   * changed since it was indexed.
   */
  recordIdentical(prefix: string, except: readonly string[]): void {
    this.flush();
    cached(
      this.db,
      `INSERT INTO synced (remote, path, key, size, md5, etag, audio_hash, synced_at)
         SELECT o.remote, f.path, o.key, f.size, f.md5,
           ${fingerprintSql('o')},
           f.audio_hash, @now
         FROM remote_objects o JOIN files f ON f.path = substr(o.key, length(@prefix) + 1)
         WHERE o.remote = @remote AND substr(o.key, 1, length(@prefix)) = @prefix AND o.md5 = f.md5 AND o.size = f.size
           AND f.path NOT IN (SELECT value FROM json_each(@except))
           AND NOT EXISTS (SELECT 1 FROM synced s WHERE s.remote = o.remote AND s.path = f.path AND s.key = o.key AND s.md5 = o.md5
             AND s.etag IS ${fingerprintSql('o')})
         ON CONFLICT(remote, path) DO UPDATE SET key = excluded.key, size = excluded.size, md5 = excluded.md5,
           etag = excluded.etag, audio_hash = excluded.audio_hash, synced_at = excluded.synced_at, moved_to = NULL`,
    ).run({ now: Date.now(), remote: this.remote, prefix, except: JSON.stringify(except) });
  }

  /** Records (or replaces) the synced state of `records`; committed within moments (see Batcher). */
  put(...records: SyncRecord[]): void {
    this.writes.add(...records.map((r) => ({ put: r })));
  }

  /** Forgets `paths` (after they went to trash); committed within moments. */
  remove(...paths: string[]): void {
    this.writes.add(...paths.map((p) => ({ remove: p })));
  }

  /** Commits pending writes now. */
  flush(): void {
    this.writes.flush();
  }

  private commit(batch: Array<{ put?: SyncRecord; remove?: string }>): void {
    const now = Date.now();
    this.db.transaction(() => {
      for (const w of batch) {
        if (w.put) this.upsert.run(this.remote, w.put.path, w.put.key, w.put.size, w.put.md5, w.put.etag ?? null, w.put.audioHash ?? null, now);
        else if (w.remove !== undefined) this.del.run(this.remote, w.remove);
      }
    })();
  }
}

/** everSynced tells whether this library's state holds a sync record for any remote: it was synced before. */
export function everSynced(db: Db): boolean {
  return cached(db, 'SELECT 1 FROM synced LIMIT 1').get() !== undefined;
}
