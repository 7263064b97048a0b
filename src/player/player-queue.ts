/**
 * The change queue cratesync keeps inside a player's SQLite database: one
 * table, `cratesync_queue`, filled by triggers on the tables an adapter
 * watches, so a change the player saves while cratesync is not running is
 * still known on the next start.
 *
 * Contracts the player relies on (its writes must never fail because of us):
 * - The queue table has no constraint a trigger insert could violate: `seq`
 *   is a plain INTEGER PRIMARY KEY (never given by the trigger), kind is a
 *   constant and a NULL ref is skipped in the trigger itself. A failing
 *   trigger would fail the player's own statement, and a player's
 *   `INSERT OR …` would override any conflict clause inside the trigger.
 * - No AUTOINCREMENT: it creates `sqlite_sequence`, which can never be
 *   dropped; detachQueue leaves `sqlite_master` as it was before attachQueue.
 * - Every object cratesync adds starts with {@link QUEUE_PREFIX}.
 * - Our writes are short IMMEDIATE transactions that never wait while
 *   holding the write lock (see shortWrite), and happen only when there is
 *   something to write: polling an idle queue is reads only.
 *
 * The functions are synchronous: each waits for the player's write lock up
 * to the connection's busy timeout, and throws SQLITE_BUSY (having changed
 * nothing) when the lock stays taken or a reader is in the way of our
 * commit; callers wrap them in withBusyRetry (player-db.ts), each being one
 * transaction safe to run again.
 */
import { CratesyncError, FileError } from '../errors.js';
import { isBusyError } from './player-db.js';
import type { PlayerDb, SqlitePlayerAdapter, WatchedTable } from './sqlite-adapter.js';

/** Every object cratesync adds to a player's database starts with it. */
export const QUEUE_PREFIX = 'cratesync_';

/** The queue table. */
export const QUEUE_TABLE = `${QUEUE_PREFIX}queue`;
const QUEUE_INDEX = `${QUEUE_PREFIX}queue_pending`;

export type QueueHealth =
  | { state: 'attached' }
  | { state: 'detached' }
  /** A player upgrade rebuilt a table (its triggers went with it), or a trigger differs from what attachQueue makes. */
  | { state: 'triggers-lost'; missing: string[] }
  /** Triggers without the queue table: every player write that fires one fails until repairQueue. */
  | { state: 'queue-lost' };

/** One schema object attachQueue makes, as `sqlite_master` holds it. */
export interface QueueObject {
  type: 'table' | 'index' | 'trigger';
  name: string;
  tbl_name: string;
  sql: string;
}

/** Quotes an SQL identifier. */
export function quoteId(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function isRowid(column: string): boolean {
  return /^(rowid|_rowid_|oid)$/i.test(column);
}

/** `NEW.x` / `OLD.x`; the rowid aliases unquoted, since a quoted "rowid" would name a column of that name. */
function rowRef(row: 'NEW' | 'OLD', column: string): string {
  return isRowid(column) ? `${row}.${column}` : `${row}.${quoteId(column)}`;
}

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** The statement a trigger runs: queue (kind, ref) unless an untaken row for it is already waiting. */
function enqueue(kind: WatchedTable['kind'], value: string): string {
  const ref = `CAST(${value} AS TEXT)`;
  const q = quoteId(QUEUE_TABLE);
  return (
    `INSERT INTO ${q}("kind", "ref") SELECT ${sqlString(kind)}, ${ref} ` +
    `WHERE ${value} IS NOT NULL AND NOT EXISTS ` +
    `(SELECT 1 FROM ${q} WHERE "kind" = ${sqlString(kind)} AND "ref" = ${ref} AND "taken" = 0);`
  );
}

/**
 * The statement a trigger on a `through` table runs: queue the refs of the
 * rows of `through.table` that point at `row`'s ref, each unless an untaken
 * row for it is already waiting.
 */
function enqueueThrough(w: WatchedTable & { through: NonNullable<WatchedTable['through']> }, row: 'NEW' | 'OLD'): string {
  const q = quoteId(QUEUE_TABLE);
  const x = `"${QUEUE_PREFIX}x"`;
  const col = isRowid(w.through.ref) ? `${x}.${w.through.ref}` : `${x}.${quoteId(w.through.ref)}`;
  const value = w.refPrefix === undefined ? col : `${sqlString(w.refPrefix)} || ${col}`;
  const ref = `CAST(${value} AS TEXT)`;
  return (
    `INSERT INTO ${q}("kind", "ref") SELECT ${sqlString(w.kind)}, ${ref} FROM ${quoteId(w.through.table)} AS ${x} ` +
    `WHERE ${x}.${quoteId(w.through.column)} = ${rowRef(row, w.ref)} AND ${value} IS NOT NULL AND NOT EXISTS ` +
    `(SELECT 1 FROM ${q} WHERE "kind" = ${sqlString(w.kind)} AND "ref" = ${ref} AND "taken" = 0);`
  );
}

/**
 * queueObjects lists what attachQueue makes for `adapter`, in creation order:
 * the queue table, its index, then for each watched table its INSERT, DELETE
 * and (when it has `columns`) UPDATE triggers (a `through` table: its UPDATE
 * trigger only). Their `sql` is what
 * `sqlite_master` then holds, so queueHealth compares text.
 */
export function queueObjects(adapter: SqlitePlayerAdapter): QueueObject[] {
  const out: QueueObject[] = [
    {
      type: 'table',
      name: QUEUE_TABLE,
      tbl_name: QUEUE_TABLE,
      sql:
        `CREATE TABLE ${quoteId(QUEUE_TABLE)} (` +
        `"seq" INTEGER PRIMARY KEY, "kind" TEXT NOT NULL, "ref" TEXT NOT NULL, "taken" INTEGER NOT NULL DEFAULT 0)`,
    },
    {
      type: 'index',
      name: QUEUE_INDEX,
      tbl_name: QUEUE_TABLE,
      sql: `CREATE INDEX ${quoteId(QUEUE_INDEX)} ON ${quoteId(QUEUE_TABLE)} ("kind", "ref", "taken")`,
    },
  ];
  for (const w of adapter.watched) {
    const t = quoteId(w.table);
    const trigger = (suffix: string, head: string, body: string[]): void => {
      const name = `${QUEUE_PREFIX}${w.table}_${suffix}`;
      out.push({
        type: 'trigger',
        name,
        tbl_name: w.table,
        sql: `CREATE TRIGGER ${quoteId(name)} ${head} FOR EACH ROW\n${wrapWhen(body)}`,
      });
    };
    if (w.through !== undefined) {
      const via = { ...w, through: w.through };
      if (w.columns === undefined || w.columns.length === 0) continue;
      const cols = [...new Set([...w.columns, w.ref])];
      const when = cols.map((c) => `${rowRef('OLD', c)} IS NOT ${rowRef('NEW', c)}`).join(' OR ');
      const refMoved = `${rowRef('OLD', w.ref)} IS NOT ${rowRef('NEW', w.ref)}`;
      const old = enqueueThrough(via, 'OLD').replace(' WHERE ', ` WHERE ${refMoved} AND `);
      trigger('upd', `AFTER UPDATE ON ${t}`, [`WHEN ${when}`, old, enqueueThrough(via, 'NEW')]);
      continue;
    }
    // The queued value: the ref, after the table's refPrefix when it has one (`'s' || NEW."SmartPlaylistID"`).
    const value = (row: 'NEW' | 'OLD'): string =>
      w.refPrefix === undefined ? rowRef(row, w.ref) : `${sqlString(w.refPrefix)} || ${rowRef(row, w.ref)}`;
    trigger('ins', `AFTER INSERT ON ${t}`, [enqueue(w.kind, value('NEW'))]);
    trigger('del', `AFTER DELETE ON ${t}`, [enqueue(w.kind, value('OLD'))]);
    if (w.columns !== undefined && w.columns.length > 0) {
      const cols = [...new Set([...w.columns, w.ref])];
      // COLLATE BINARY: a column's own collation may ignore case (MediaMonkey's
      // IUNICODE), and an edit of the case alone is still a change; it also
      // keeps the trigger from needing a collation only the player registers.
      const when = cols.map((c) => `${rowRef('OLD', c)} IS NOT ${rowRef('NEW', c)} COLLATE BINARY`).join(' OR ');
      const refMoved = `${rowRef('OLD', w.ref)} IS NOT ${rowRef('NEW', w.ref)}`;
      // When the ref itself changes, the old one is gone and the new one is new: queue both.
      const old = enqueue(w.kind, value('OLD')).replace(' WHERE ', ` WHERE ${refMoved} AND `);
      trigger('upd', `AFTER UPDATE ON ${t}`, [`WHEN ${when}`, old, enqueue(w.kind, value('NEW'))]);
    }
  }
  return out;
}

/** The trigger body: an optional leading `WHEN …` line, then BEGIN statements END. */
function wrapWhen(lines: string[]): string {
  const [first, ...rest] = lines;
  const when = first?.startsWith('WHEN ') ? `${first}\n` : '';
  const stmts = when ? rest : lines;
  return `${when}BEGIN\n${stmts.map((s) => `  ${s}`).join('\n')}\nEND`;
}

/**
 * Runs `fn` in a short IMMEDIATE transaction that never waits while holding
 * the write lock. Waiting for the lock (BEGIN IMMEDIATE, busy timeout) holds
 * nothing; but a commit that waited for a player's read to end would hold
 * our lock meanwhile, and a player transaction that read first and then
 * writes gets SQLITE_BUSY at once from SQLite when another connection holds
 * that lock, whatever its busy timeout: the player's save would fail. So the
 * commit does not wait: when a reader is in the way it throws SQLITE_BUSY
 * having rolled back (nothing changed), and withBusyRetry runs it again.
 */
function shortWrite<T>(db: PlayerDb, fn: () => T): T {
  const timeout = db.pragma('busy_timeout', { simple: true }) as number;
  try {
    return db.transaction(() => {
      const result = fn();
      db.pragma('busy_timeout = 0');
      return result;
    }).immediate();
  } catch (err) {
    // Busy is for the caller to retry; anything else (a read-only file or
    // folder, a full disk, a corrupt page) is a fact about this file.
    if (isBusyError(err) || err instanceof CratesyncError) throw err;
    throw new FileError(db.name, `cannot write cratesync's change queue: ${(err as Error).message}`, { cause: err });
  } finally {
    db.pragma(`busy_timeout = ${timeout}`);
  }
}

/** The objects with our prefix present in the database. */
function presentObjects(db: PlayerDb): QueueObject[] {
  return db
    .prepare(
      `SELECT type, name, tbl_name, sql FROM sqlite_master WHERE substr(name, 1, ${QUEUE_PREFIX.length}) = ? ORDER BY name`,
    )
    .all(QUEUE_PREFIX) as QueueObject[];
}

function healthOf(expected: QueueObject[], present: QueueObject[]): QueueHealth {
  if (present.length === 0) return { state: 'detached' };
  const byName = new Map(present.map((o) => [o.name, o]));
  if (byName.get(QUEUE_TABLE)?.type !== 'table') return { state: 'queue-lost' };
  // The table is compared by name only: its rows are what matters, and a
  // queue made by another cratesync version is still a queue.
  const missing = expected
    .filter((o) => o.type !== 'table')
    .filter((o) => {
      const p = byName.get(o.name);
      return p === undefined || p.type !== o.type || p.sql !== o.sql;
    })
    .map((o) => o.name);
  return missing.length === 0 ? { state: 'attached' } : { state: 'triggers-lost', missing };
}

/**
 * queueHealth compares the objects with our prefix in the database with what
 * attachQueue makes for `adapter` (names and SQL). Read only.
 */
export function queueHealth(db: PlayerDb, adapter: SqlitePlayerAdapter): QueueHealth {
  return healthOf(queueObjects(adapter), presentObjects(db));
}

/**
 * attachQueue makes the queue table, its index and the adapter's triggers,
 * in ONE IMMEDIATE transaction. Idempotent: creates what is missing, replaces
 * an index or trigger of ours whose SQL differs, drops triggers of ours the
 * adapter no longer declares, and keeps the queued rows. The queue table is
 * made first, so triggers left from a lost queue work again at once.
 *
 * Throws FileError naming the database when a watched table is missing;
 * SQLITE_BUSY when the player holds its lock past the busy timeout or reads
 * at our commit (nothing was changed; retry with withBusyRetry).
 */
export function attachQueue(db: PlayerDb, adapter: SqlitePlayerAdapter): void {
  const expected = queueObjects(adapter);
  const wanted = new Set(expected.map((o) => o.name));
  shortWrite(db, () => {
    const byName = new Map(presentObjects(db).map((o) => [o.name, o]));
    for (const o of byName.values()) {
      if (!wanted.has(o.name) && o.type === 'trigger') db.exec(`DROP TRIGGER ${quoteId(o.name)}`);
    }
    for (const o of expected) {
      const p = byName.get(o.name);
      if (p !== undefined && (o.type === 'table' || (p.type === o.type && p.sql === o.sql))) continue;
      if (p !== undefined) db.exec(`DROP ${p.type.toUpperCase()} ${quoteId(p.name)}`);
      try {
        db.exec(o.sql);
      } catch (err) {
        const msg = (err as Error).message;
        if (/no such table/i.test(msg)) throw new FileError(db.name, `cannot watch table ${o.tbl_name}: ${msg}`, { cause: err });
        throw err;
      }
    }
  });
}

/**
 * detachQueue drops every object whose name starts with QUEUE_PREFIX, in ONE
 * IMMEDIATE transaction: triggers first (so no player write meets a trigger
 * without its table), then indexes, then the queue table with its rows.
 * Afterwards `sqlite_master` is as it was before attachQueue.
 */
export function detachQueue(db: PlayerDb): void {
  const order = { trigger: 0, view: 1, index: 2, table: 3 } as Record<string, number>;
  shortWrite(db, () => {
    const present = presentObjects(db).sort((a, b) => (order[a.type] ?? 9) - (order[b.type] ?? 9));
    for (const o of present) {
      // An index goes with its table; drop it explicitly only while the table is still there.
      db.exec(`DROP ${o.type.toUpperCase()} IF EXISTS ${quoteId(o.name)}`);
    }
  });
}

/**
 * repairQueue recreates whatever attachQueue would make and is missing (the
 * queue table first), unless the queue is healthy, and returns the health it
 * found before repairing. A 'detached' database is attached: call it only on
 * a player cratesync considers attached.
 */
export function repairQueue(db: PlayerDb, adapter: SqlitePlayerAdapter): QueueHealth {
  const found = queueHealth(db, adapter);
  if (found.state !== 'attached') attachQueue(db, adapter);
  return found;
}

function hasQueue(db: PlayerDb): boolean {
  return (
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).pluck().get(QUEUE_TABLE) !== undefined
  );
}

/**
 * takeChanges marks every queued row taken and returns the distinct refs of
 * all taken rows, songs and playlists apart, in the order first queued. One
 * short IMMEDIATE transaction; when no new row waits, a read only. Rows taken
 * before and not acknowledged (a crash between take and ack) are returned
 * again. A change saved after this call is a new untaken row: never lost.
 *
 * Throws FileError when the queue table is missing (see queueHealth).
 */
export function takeChanges(db: PlayerDb): { songs: string[]; playlists: string[] } {
  if (!hasQueue(db)) throw new FileError(db.name, 'the change queue of cratesync is missing (attach the player again)');
  const q = quoteId(QUEUE_TABLE);
  const out = { songs: [] as string[], playlists: [] as string[] };
  const readTaken = () =>
    db
      .prepare(`SELECT "kind", "ref" FROM ${q} WHERE "taken" = 1 GROUP BY "kind", "ref" ORDER BY min("seq")`)
      .all() as { kind: string; ref: string }[];
  // Each write transaction of ours is a moment in which a player's own
  // transaction that read first cannot start writing (SQLite answers it
  // SQLITE_BUSY at once, whatever its busy timeout): write only when
  // there is something to mark.
  const untaken = db.prepare(`SELECT EXISTS (SELECT 1 FROM ${q} WHERE "taken" = 0)`).pluck().get() === 1;
  const rows = untaken
    ? shortWrite(db, () => {
        db.prepare(`UPDATE ${q} SET "taken" = 1 WHERE "taken" = 0`).run();
        return readTaken();
      })
    : readTaken();
  for (const r of rows) {
    if (r.kind === 'song') out.songs.push(r.ref);
    else if (r.kind === 'playlist') out.playlists.push(r.ref);
  }
  return out;
}

/**
 * ackChanges deletes the rows takeChanges marked taken: call it once the
 * changes it returned were handled. Rows queued since stay. Does nothing
 * (and writes nothing) when no row is taken or the queue table is missing.
 */
export function ackChanges(db: PlayerDb): void {
  if (!hasQueue(db)) return;
  const q = quoteId(QUEUE_TABLE);
  // As in takeChanges: no write transaction when there is nothing to delete.
  if (db.prepare(`SELECT EXISTS (SELECT 1 FROM ${q} WHERE "taken" = 1)`).pluck().get() === 0) return;
  shortWrite(db, () => db.prepare(`DELETE FROM ${q} WHERE "taken" = 1`).run());
}

/** queueLength counts the rows not yet acknowledged (taken or not); 0 when there is no queue. */
export function queueLength(db: PlayerDb): number {
  if (!hasQueue(db)) return 0;
  return db.prepare(`SELECT count(*) FROM ${quoteId(QUEUE_TABLE)}`).pluck().get() as number;
}
