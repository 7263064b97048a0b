/**
 * The embedded state database (better-sqlite3, WAL): what the last scan saw
 * of each library file and what was last synced where. One database per
 * library root, under the user data directory.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
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
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
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
