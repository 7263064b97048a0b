/**
 * A listing sweep: a full listing of a remote compared with a mirror table a
 * page at a time. The keys the listing showed are kept in a temporary table
 * of this connection, not in memory, so that comparing a listing of any size
 * holds one page of it; what the listing lacks is asked of SQLite at the end.
 */
import { cached, type Db } from './state-db.js';

/** The mirror tables a listing is compared with (one per kind of object). */
export type SweptTable = 'remote_objects' | 'remote_playlists';

/** What a mirror row says that a listing can confirm or contradict. */
export interface SweptRow {
  key: string;
  size: number;
  etag?: string;
  mtime?: Date;
  /** The MD5 the catalog claims: a plain ETag must not contradict it. */
  md5?: string;
  /** When cratesync wrote it (ms), when the catalog says. */
  writtenAt?: number;
}

interface Row {
  key: string;
  size: number;
  etag: string | null;
  mtime_ms: number | null;
  md5: string | null;
  written_at: number | null;
}

function fromRow(r: Row): SweptRow {
  const o: SweptRow = { key: r.key, size: r.size };
  if (r.etag) o.etag = r.etag;
  if (r.mtime_ms !== null) o.mtime = new Date(r.mtime_ms);
  if (r.md5) o.md5 = r.md5;
  if (r.written_at !== null) o.writtenAt = r.written_at;
  return o;
}

/** Sweeps under way on any connection get distinct ids: two remotes of one state may be listed at once. */
let nextSweep = 1;

/**
 * ListingSweep follows one full listing of `remote` against `table`. Call
 * known() for each page of the listing, seen() once the page is applied,
 * unseen() after the last page, and close() in every case (it forgets the
 * page keys; the temporary table itself lives as long as the connection).
 */
export class ListingSweep {
  private readonly id = nextSweep++;

  constructor(
    private readonly db: Db,
    private readonly table: SweptTable,
    private readonly remote: string,
  ) {
    db.exec('CREATE TEMP TABLE IF NOT EXISTS swept_keys (sweep INTEGER NOT NULL, key TEXT NOT NULL, PRIMARY KEY (sweep, key)) WITHOUT ROWID');
  }

  /** The rows the mirror holds for `keys` (one statement per page), by key. */
  known(keys: readonly string[]): Map<string, SweptRow> {
    const rows = cached(
      this.db,
      `SELECT key, size, etag, mtime_ms, md5, written_at FROM ${this.table} WHERE remote = ? AND key IN (SELECT value FROM json_each(?))`,
    ).all(this.remote, JSON.stringify(keys)) as Row[];
    return new Map(rows.map((r) => [r.key, fromRow(r)]));
  }

  /** Notes that the listing showed `keys`. */
  seen(keys: readonly string[]): void {
    cached(this.db, 'INSERT OR IGNORE INTO temp.swept_keys (sweep, key) SELECT ?, value FROM json_each(?)').run(this.id, JSON.stringify(keys));
  }

  /** The mirror's rows the listing has not shown (key and when cratesync wrote them). */
  unseen(): SweptRow[] {
    const rows = cached(
      this.db,
      `SELECT key, size, NULL AS etag, NULL AS mtime_ms, NULL AS md5, written_at FROM ${this.table} AS t WHERE remote = ?
         AND NOT EXISTS (SELECT 1 FROM temp.swept_keys AS s WHERE s.sweep = ? AND s.key = t.key)`,
    ).all(this.remote, this.id) as Row[];
    return rows.map(fromRow);
  }

  /** Forgets the keys this sweep noted. */
  close(): void {
    cached(this.db, 'DELETE FROM temp.swept_keys WHERE sweep = ?').run(this.id);
  }
}
