/**
 * Opening a media player's own SQLite database beside the running player,
 * without disturbing it: cratesync's connection waits for the player's locks
 * (busy timeout, then {@link withBusyRetry}) and never changes what the file
 * persists (journal mode, page size, user_version). What cratesync adds to
 * the file is the change queue of player-queue.ts, nothing else.
 */
import Database from 'better-sqlite3';
import { FileError } from '../errors.js';
import type { PlayerDb, SqlitePlayerAdapter } from './sqlite-adapter.js';

/**
 * How long one statement of ours waits for the player's lock before SQLite
 * gives up with SQLITE_BUSY. Players hold their write transactions for
 * milliseconds; a longer wait is a long save (a library scan), which
 * withBusyRetry outlasts without blocking the event loop all along.
 */
export const PLAYER_BUSY_TIMEOUT_MS = 3000;

export interface OpenPlayerDbOptions {
  /** Busy timeout of this connection in ms; {@link PLAYER_BUSY_TIMEOUT_MS} by default. */
  busyTimeoutMs?: number;
}

/**
 * openPlayerDb opens the player database at `file` for reading and for the
 * change queue. Calls `adapter.prepare(db)` before any statement, then
 * `adapter.recognize(db)`. Sets only this connection's busy timeout: the
 * journal mode and every pragma the file persists stay as the player set them.
 *
 * Throws FileError naming the file when it is missing, not an SQLite
 * database, or not this player's database (the reason from recognize).
 */
export function openPlayerDb(file: string, adapter: SqlitePlayerAdapter, o: OpenPlayerDbOptions = {}): PlayerDb {
  let db: PlayerDb;
  try {
    db = new Database(file, { fileMustExist: true });
  } catch (err) {
    throw new FileError(file, `cannot open ${adapter.label} database: ${firstLine(err)}`, { cause: err });
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(o.busyTimeoutMs ?? PLAYER_BUSY_TIMEOUT_MS))}`);
    adapter.prepare?.(db);
    // The first read of the schema is where a file that is not SQLite fails
    // (SQLITE_NOTADB): better-sqlite3 opens lazily.
    db.prepare('SELECT count(*) FROM sqlite_master').pluck().get();
  } catch (err) {
    db.close();
    throw new FileError(file, `not an SQLite database (${adapter.label}): ${firstLine(err)}`, { cause: err });
  }
  let why: string | undefined;
  try {
    why = adapter.recognize(db);
  } catch (err) {
    why = firstLine(err);
  }
  if (why !== undefined) {
    db.close();
    throw new FileError(file, `not a ${adapter.label} database: ${why}`);
  }
  return db;
}

/** True for the errors of a lock another connection holds: worth waiting for. */
export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * withBusyRetry runs `fn` and, while it throws SQLITE_BUSY or SQLITE_LOCKED
 * (the player held its lock past our busy timeout), runs it again after a
 * growing pause that leaves the event loop free, `tries` times in all
 * (default 6). `fn` must be safe to run again: one transaction that either
 * committed or did nothing. Any other error, and the last busy error, are
 * thrown unchanged.
 */
export async function withBusyRetry<T>(fn: () => T, o: { tries?: number } = {}): Promise<T> {
  const tries = Math.max(1, o.tries ?? 6);
  for (let attempt = 1; ; attempt++) {
    try {
      return fn();
    } catch (err) {
      if (!isBusyError(err) || attempt >= tries) throw err;
    }
    const pause = Math.min(2000, 50 * 2 ** (attempt - 1));
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}
