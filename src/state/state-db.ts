/**
 * The embedded state database (better-sqlite3, WAL): what the last scan saw
 * of each library file and what was last synced where. One database per
 * library root, under the user data directory.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CratesyncError } from '../errors.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * cached is `db.prepare(sql)`, prepared once per database and kept. A
 * statement prepared per call holds its SQLite memory until the garbage
 * collector happens to finalize it, so a loop that prepares one per row (a
 * reconcile updating every object) holds memory in proportion to its rows
 * until a collection comes. A cached statement keeps the modes a
 * caller sets on it (pluck, raw), so each SQL text belongs to one caller.
 */
export function cached(db: Db, sql: string): Database.Statement {
  let byText = statements.get(db);
  if (!byText) statements.set(db, (byText = new Map()));
  let st = byText.get(sql);
  if (!st) byText.set(sql, (st = db.prepare(sql)));
  return st;
}

/**
 * openStateDb opens (creating) the database at `file` and applies pending
 * migrations. Throws CratesyncError when the file is not a database or was
 * written by a newer cratesync.
 */
export function openStateDb(file: string): Db {
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  } catch (err) {
    throw new CratesyncError(`${file}: cannot create the state folder: ${(err as Error).message}`, { cause: err });
  }
  let db: Db;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode is durable against application crashes, which is what a
    // kill -9 mid-run needs; only a power loss may drop the last transactions.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    // A small page cache, not better-sqlite3's larger default: a large
    // library's database outgrows any cache, the indexed lookups of a run
    // touch few pages, and the operating system's file cache holds the rest.
    db.pragma('cache_size = -4096');
  } catch (err) {
    throw new CratesyncError(`${file}: cannot open state database: ${(err as Error).message}`, { cause: err });
  }
  checkWritable(db, file);
  migrate(db, file);
  return db;
}

/**
 * joinStateDb opens a second connection to the state database at `file`,
 * which another connection (this process's main thread) opened with
 * {@link openStateDb} already: the same pragmas, but no migration and no
 * write check, so that opening it waits on no lock and does no work. Throws
 * CratesyncError naming the file when it is not there or its schema is not
 * this cratesync's.
 */
export function joinStateDb(file: string): Db {
  let db: Db;
  try {
    db = new Database(file, { fileMustExist: true });
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -4096');
  } catch (err) {
    throw new CratesyncError(`${file}: cannot open state database: ${(err as Error).message}`, { cause: err });
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
  if (version !== latest) {
    db.close();
    throw new CratesyncError(`${file}: state database has schema ${version}, this cratesync ${latest}`);
  }
  return db;
}

/**
 * checkWritable throws CratesyncError naming `file` when the database cannot
 * be written (SQLite opens a read-only file read-only without a word, and the
 * first write of a run would fail far from here, naming no file).
 */
function checkWritable(db: Db, file: string): void {
  try {
    if (db.readonly) throw new Error('opened read-only');
    db.exec('BEGIN IMMEDIATE; ROLLBACK');
  } catch (err) {
    // Busy (another process writing) is not a reason to refuse: only read-only is.
    if (!db.readonly && !String((err as { code?: unknown }).code ?? '').startsWith('SQLITE_READONLY')) return;
    db.close();
    throw new CratesyncError(`${file}: state database is not writable (${(err as Error).message}); check its permissions and those of its folder`, { cause: err });
  }
}

/**
 * openStateSnapshot opens an in-memory copy of the database at `file` (an
 * empty one when there is none yet), for runs that only read: whatever they
 * learn or fold in is dropped with the copy, and they need no lock, since a
 * run writing the file meanwhile changes nothing they see. Throws
 * CratesyncError naming the file when it cannot be read.
 */
export function openStateSnapshot(file: string): Db {
  if (file === ':memory:' || !existsSync(file)) return openStateDb(':memory:');
  let db: Db;
  try {
    // Read-write, though only read: a read-only connection to a WAL database cannot open when its shared-memory file is gone.
    const src = new Database(file, { fileMustExist: true });
    try {
      const image = src.serialize();
      // The header's read and write versions say WAL (2), which an in-memory
      // database cannot be: made a rollback-journal database (1) again.
      image[18] = 1;
      image[19] = 1;
      db = new Database(image);
    } finally {
      src.close();
    }
    db.pragma('cache_size = -4096');
  } catch (err) {
    throw new CratesyncError(`${file}: cannot read state database: ${(err as Error).message}`, { cause: err });
  }
  migrate(db, file);
  return db;
}

function migrate(db: Db, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
  if (current > latest) {
    throw new CratesyncError(`${file}: state database is from a newer cratesync (schema ${current} > ${latest})`);
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
