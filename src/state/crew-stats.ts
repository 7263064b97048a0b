/**
 * Queries for the crew view: what each writer put on the remote that this
 * library lacks (the mirror against the file index), and which of some
 * library paths the index holds.
 */
import { cached, type Db } from './state-db.js';

/** Per writer (`user@machine`, null when the catalog does not say), the objects under `prefix` the file index lacks. */
export interface Lacking {
  writer: string | null;
  files: number;
  bytes: number;
}

/**
 * lackingByWriter counts, per writer, the objects of `remote`'s mirror under
 * `prefix` (`music/`) whose library path (the key without the prefix) the
 * file index does not hold. One pass over the mirror's range, a keyed lookup
 * in the index per object.
 */
export function lackingByWriter(db: Db, remote: string, prefix: string): Lacking[] {
  // The range [prefix, prefix with its last character raised) holds exactly the keys that start with it, by the primary key.
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  return cached(
    db,
    `SELECT r.writer AS writer, COUNT(*) AS files, COALESCE(SUM(r.size), 0) AS bytes
     FROM remote_objects r LEFT JOIN files f ON f.path = substr(r.key, ?)
     WHERE r.remote = ? AND r.key >= ? AND r.key < ? AND f.path IS NULL
     GROUP BY r.writer`,
  ).all(prefix.length + 1, remote, prefix, end) as Lacking[];
}

/** indexedAmong is the subset of `paths` that the file index holds. */
export function indexedAmong(db: Db, paths: readonly string[]): Set<string> {
  if (paths.length === 0) return new Set();
  const rows = cached(db, 'SELECT j.value FROM json_each(?) j JOIN files f ON f.path = j.value').pluck().all(JSON.stringify(paths)) as string[];
  return new Set(rows);
}
