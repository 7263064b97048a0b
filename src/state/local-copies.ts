/**
 * Which library file holds the content of a remote object: for the Subsonic
 * server, which streams a song from disk when this machine has it rather
 * than through the remote.
 */
import { cached, type Db } from './state-db.js';

/** A library file whose indexed content is an object's, with the stat the index saw it with. */
export interface LocalCopy {
  /** NFC library path, '/'-separated. */
  path: string;
  size: number;
  mtimeMs: number;
  inode: number;
}

/**
 * localCopyOf gives a library path last synced to `key` of remote `remote`
 * with content MD5 `md5`, whose file index entry still says that content,
 * or undefined. The caller checks the file's current size, mtime and inode against
 * the ones returned before trusting it: the index says what the file was
 * when last scanned, not what it is now.
 */
export function localCopyOf(db: Db, remote: string, key: string, md5: string): LocalCopy | undefined {
  const row = cached(
    db,
    `SELECT f.path, f.size, f.mtime_ms AS mtimeMs, f.inode FROM synced s INDEXED BY synced_key JOIN files f ON f.path = s.path
     WHERE s.remote = ? AND s.key = ? AND s.md5 = ? AND f.md5 = s.md5 AND f.size = s.size LIMIT 1`,
  ).get(remote, key, md5) as LocalCopy | undefined;
  return row;
}
