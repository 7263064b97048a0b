/**
 * Totals of the library as the file index (table files) holds it at the last
 * scan: files and bytes, in all and by format, for the dashboard's library page.
 */
import { cached, type Db } from './state-db.js';

export interface FormatTotal {
  /** The name's extension after its last dot, lowercase, without the dot; '' for none. */
  ext: string;
  files: number;
  bytes: number;
}

export interface LibraryTotals {
  files: number;
  bytes: number;
  /** Most bytes first. */
  formats: FormatTotal[];
}

/**
 * libraryTotals counts the indexed files by extension, in one pass in SQLite.
 * A name's last segment is what follows its last '/' (rtrim by every other
 * character stops at the separator); its extension likewise after its last
 * '.', none for a name whose only dot leads it (`.DS_Store`).
 */
export function libraryTotals(db: Db): LibraryTotals {
  const rows = cached(
    db,
    `WITH n AS (SELECT size, replace(path, rtrim(path, replace(path, '/', '')), '') AS name FROM files)
     SELECT lower(CASE WHEN instr(name, '.') > 1 OR (instr(name, '.') = 1 AND instr(substr(name, 2), '.') > 0)
                       THEN replace(name, rtrim(name, replace(name, '.', '')), '') ELSE '' END) AS ext,
            COUNT(*) AS files, TOTAL(size) AS bytes
     FROM n GROUP BY ext ORDER BY bytes DESC, ext`,
  ).all() as FormatTotal[];
  let files = 0;
  let bytes = 0;
  for (const r of rows) {
    files += r.files;
    bytes += r.bytes;
  }
  return { files, bytes, formats: rows };
}
