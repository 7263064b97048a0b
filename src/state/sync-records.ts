/**
 * Sync records: for one remote, what each library path was when it was last
 * uploaded, downloaded or confirmed identical. They let a re-run trust an
 * object whose ETag is not a plain MD5 (multipart uploads) without reading
 * it again, and let an interrupted run continue where it stopped: each record
 * is written the moment its transfer finishes.
 */
import type { Db } from './state-db.js';

export interface SyncRecord {
  path: string;
  key: string;
  size: number;
  md5: string;
  etag?: string;
}

interface Row {
  path: string;
  key: string;
  size: number;
  md5: string;
  etag: string | null;
}

export class SyncRecords {
  constructor(
    private readonly db: Db,
    /** Canonical URL of the remote these records are about. */
    readonly remote: string,
  ) {}

  /** All records of this remote, keyed by path. */
  all(): Map<string, SyncRecord> {
    const rows = this.db.prepare('SELECT path, key, size, md5, etag FROM synced WHERE remote = ?').all(this.remote) as Row[];
    return new Map(rows.map((r) => [r.path, { path: r.path, key: r.key, size: r.size, md5: r.md5, ...(r.etag ? { etag: r.etag } : {}) }]));
  }

  /** Records (or replaces) the synced state of `records`, in one transaction. */
  put(...records: SyncRecord[]): void {
    const stmt = this.db.prepare(
      `INSERT INTO synced (remote, path, key, size, md5, etag, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(remote, path) DO UPDATE SET key = excluded.key, size = excluded.size, md5 = excluded.md5,
         etag = excluded.etag, synced_at = excluded.synced_at`,
    );
    const now = Date.now();
    this.db.transaction(() => {
      for (const r of records) stmt.run(this.remote, r.path, r.key, r.size, r.md5, r.etag ?? null, now);
    })();
  }

  /** Forgets `paths` (after they were deleted on both sides). */
  remove(...paths: string[]): void {
    const stmt = this.db.prepare('DELETE FROM synced WHERE remote = ? AND path = ?');
    this.db.transaction(() => {
      for (const p of paths) stmt.run(this.remote, p);
    })();
  }
}
