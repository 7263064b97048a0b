/**
 * The service's durable work queue (table work_queue): library paths reported
 * changed, written here before anything is sent, so that a crash loses none.
 * Repeated reports of one path coalesce into its one row; a path that failed
 * waits out a growing backoff and keeps its reason for the status.
 *
 * A taken row is removed only at the generation it was taken at ({@link
 * WorkQueue.settle}): a change reported while its run went on stays queued.
 */
import { cached, type Db } from './state-db.js';

/** The path of the whole library: a full scan. */
export const WHOLE_LIBRARY = '';

export interface QueuedPath {
  path: string;
  source: string;
  queuedAt: number;
  dueAt: number;
  gen: number;
  attempts: number;
  lastError?: string;
}

interface Row {
  path: string;
  source: string;
  queued_at: number;
  due_at: number;
  gen: number;
  attempts: number;
  last_error: string | null;
}

const fromRow = (r: Row): QueuedPath => ({
  path: r.path,
  source: r.source,
  queuedAt: r.queued_at,
  dueAt: r.due_at,
  gen: r.gen,
  attempts: r.attempts,
  ...(r.last_error !== null ? { lastError: r.last_error } : {}),
});

/** The wait before retry number `attempts` (1, 2…): doubling from 5 s, at most 10 min. */
export function retryDelayMs(attempts: number): number {
  return Math.min(5000 * 2 ** Math.max(0, attempts - 1), 10 * 60_000);
}

export class WorkQueue {
  constructor(private readonly db: Db) {}

  /**
   * add queues `paths` (reported by `source`), due at `dueAt`. A path already
   * queued gets the new due time and one more generation; its failures so far
   * are kept until a run carries it out.
   */
  add(paths: readonly string[], source: string, dueAt: number, now = Date.now()): void {
    if (paths.length === 0) return;
    const upsert = cached(
      this.db,
      `INSERT INTO work_queue (path, source, queued_at, due_at, gen) VALUES (?, ?, ?, ?, 1)
       ON CONFLICT(path) DO UPDATE SET source = excluded.source, due_at = excluded.due_at, gen = gen + 1`,
    );
    this.db.transaction(() => {
      for (const p of paths) upsert.run(p, source, now, dueAt);
    })();
  }

  /** due lists the rows due at `now`, oldest report first, at most `limit`. */
  due(now: number, limit: number): QueuedPath[] {
    const rows = cached(this.db, 'SELECT * FROM work_queue WHERE due_at <= ? ORDER BY queued_at, path LIMIT ?').all(now, limit) as Row[];
    return rows.map(fromRow);
  }

  /** all lists every row (for a full run, which carries them all out). */
  all(): QueuedPath[] {
    return (cached(this.db, 'SELECT * FROM work_queue ORDER BY queued_at, path').all() as Row[]).map(fromRow);
  }

  /** get is the row of `path`, if queued. */
  get(path: string): QueuedPath | undefined {
    const r = cached(this.db, 'SELECT * FROM work_queue WHERE path = ?').get(path) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  /** failing lists the rows whose last attempt failed, most attempts first. */
  failing(limit: number): QueuedPath[] {
    const rows = cached(this.db, 'SELECT * FROM work_queue WHERE last_error IS NOT NULL ORDER BY attempts DESC, path LIMIT ?').all(limit) as Row[];
    return rows.map(fromRow);
  }

  /** counts: rows in all, and of them those whose last attempt failed. */
  counts(): { length: number; failing: number } {
    const r = cached(this.db, 'SELECT COUNT(*) AS n, COUNT(last_error) AS f FROM work_queue').get() as { n: number; f: number };
    return { length: r.n, failing: r.f };
  }

  /** nextDueAt is the earliest due time of any row. */
  nextDueAt(): number | undefined {
    const v = cached(this.db, 'SELECT MIN(due_at) FROM work_queue').pluck().get() as number | null;
    return v ?? undefined;
  }

  /**
   * settle records a run's outcome for the rows it took: each taken row is
   * removed unless reported again since; each path in `failed` (the files
   * that failed, with their reason) is queued again for a retry after a
   * backoff, counting one more attempt than the row it came from.
   */
  settle(taken: readonly QueuedPath[], failed: ReadonlyMap<string, string>, now = Date.now()): void {
    const del = cached(this.db, 'DELETE FROM work_queue WHERE path = ? AND gen = ?');
    const fail = cached(
      this.db,
      `INSERT INTO work_queue (path, source, queued_at, due_at, gen, attempts, last_error) VALUES (?, 'retry', ?, ?, 1, ?, ?)
       ON CONFLICT(path) DO UPDATE SET attempts = excluded.attempts, last_error = excluded.last_error,
         due_at = MAX(due_at, excluded.due_at)`,
    );
    this.db.transaction(() => {
      for (const t of taken) del.run(t.path, t.gen);
      for (const [path, reason] of failed) {
        const attempts = 1 + Math.max(this.get(path)?.attempts ?? 0, ...taken.filter((t) => covers(t.path, path)).map((t) => t.attempts));
        fail.run(path, now, now + retryDelayMs(attempts), attempts, reason);
      }
    })();
  }

  /**
   * retryLater puts taken rows back after a run that stopped on an error of
   * the whole run (remote unreachable, library missing): one more attempt
   * each, and the backoff. Rows reported again meanwhile keep their new due time.
   */
  retryLater(taken: readonly QueuedPath[], reason: string, now = Date.now()): void {
    const upd = cached(this.db, 'UPDATE work_queue SET attempts = attempts + 1, last_error = ?, due_at = MAX(due_at, ?) WHERE path = ?');
    this.db.transaction(() => {
      for (const t of taken) upd.run(reason, now + retryDelayMs(t.attempts + 1), t.path);
    })();
  }

  /**
   * retryNow makes the failing rows (those whose last attempt failed) due at
   * `now`, their backoff cut short; only those of `paths` when given. Their
   * attempts and reasons are kept. Returns how many rows it made due.
   */
  retryNow(paths?: readonly string[], now = Date.now()): number {
    if (paths === undefined) return cached(this.db, 'UPDATE work_queue SET due_at = MIN(due_at, ?) WHERE last_error IS NOT NULL').run(now).changes;
    const one = cached(this.db, 'UPDATE work_queue SET due_at = MIN(due_at, ?) WHERE path = ? AND last_error IS NOT NULL');
    return this.db.transaction(() => {
      let n = 0;
      for (const p of new Set(paths)) n += one.run(now, p).changes;
      return n;
    })();
  }

  /** postpone moves `path`'s due time to `dueAt` (a file still being written). */
  postpone(path: string, dueAt: number): void {
    cached(this.db, 'UPDATE work_queue SET due_at = MAX(due_at, ?) WHERE path = ?').run(dueAt, path);
  }
}

/** covers: queue path `q` (a file or folder, '' the whole library) includes library path `path`. */
export function covers(q: string, path: string): boolean {
  return q === WHOLE_LIBRARY || path === q || path.startsWith(`${q}/`);
}
