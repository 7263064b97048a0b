/**
 * Covers known to be on a remote (under `.cratesync/covers/`): they are
 * content-addressed, so one stored there never needs sending again, and
 * this table spares asking the remote after every song of an album.
 */
import { cached, type Db } from './state-db.js';

export class CoverUploads {
  constructor(
    private readonly db: Db,
    /** Canonical URL of the remote. */
    readonly remote: string,
  ) {}

  /** has tells whether cover `name` is known to be on the remote. */
  has(name: string): boolean {
    return cached(this.db, 'SELECT 1 FROM cover_uploads WHERE remote = ? AND name = ?').get(this.remote, name) !== undefined;
  }

  /** add notes that cover `name` is on the remote. */
  add(name: string): void {
    cached(this.db, 'INSERT OR IGNORE INTO cover_uploads (remote, name, at) VALUES (?, ?, ?)').run(this.remote, name, Date.now());
  }
}
