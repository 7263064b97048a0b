/**
 * The activity history (table activity): one row per file a run sent,
 * received, copied, moved, trashed or failed on, and per file restored from
 * trash, for the dashboard. Writes are batched (see Batcher): a crash loses at
 * most the last few rows of history, never data. The table keeps the newest
 * rows only ({@link ActivityLogOptions.keep}); older ones are pruned in
 * batches as new ones come.
 */
import { Batcher } from './batcher.js';
import { cached, type Db } from './state-db.js';

export const ACTIVITY_KINDS = ['upload', 'download', 'copy-remote', 'copy-local', 'move-local', 'conflict', 'trash-remote', 'trash-local', 'restore'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

/** One row of the history, as the API sends it. */
export interface ActivityRow {
  /** Grows with time. */
  id: number;
  /** ms since the epoch. */
  at: number;
  runId: string;
  kind: ActivityKind;
  /** The plan's reason (new, content-differs, tags-changed, moved…), or what a restore came from. */
  reason: string;
  path: string;
  /** A copy's or move's source path. */
  from?: string;
  bytes: number;
  ok: boolean;
  error?: string;
}

export type NewActivity = Omit<ActivityRow, 'id'>;

/** A page asked for: every field narrows the rows; absent ones do not. */
export interface ActivityQuery {
  /** A substring of the path (or a move's source), any case. */
  q?: string;
  kinds?: readonly string[];
  reasons?: readonly string[];
  /** ms since the epoch, inclusive. */
  from?: number;
  /** ms since the epoch, inclusive. */
  to?: number;
  /** Only rows with a lower id: the `next` of the page before. */
  before?: number;
  /** At most {@link ACTIVITY_MAX_LIMIT}; default {@link ACTIVITY_DEFAULT_LIMIT}. */
  limit?: number;
}

export interface ActivityPage {
  /** Newest first. */
  rows: ActivityRow[];
  /** Set when older rows match: ask again with `before` set to it. */
  next?: number;
  /** Rows matching the filters, on every page (`before` aside). */
  total: number;
}

export const ACTIVITY_DEFAULT_LIMIT = 100;
export const ACTIVITY_MAX_LIMIT = 500;
/** Rows kept by default: a long history, and still a small table. */
export const ACTIVITY_KEEP = 200_000;

export interface ActivityLogOptions {
  /** The newest rows kept (at least 1). */
  keep?: number;
  /** Rows deleted per transaction when pruning, so that no prune holds the database long. */
  pruneBatch?: number;
  /** How long rows wait to be committed together (Batcher). */
  delayMs?: number;
  /**
   * Hears a batch that could not be written (its rows are dropped: history,
   * not data). Without it the error is thrown, from add, flush or a timer.
   */
  onError?: (err: unknown) => void;
}

interface Row {
  id: number;
  at: number;
  run_id: string;
  kind: ActivityKind;
  reason: string;
  path: string;
  from_path: string | null;
  bytes: number;
  ok: number;
  error: string | null;
}

const fromRow = (r: Row): ActivityRow => ({
  id: r.id,
  at: r.at,
  runId: r.run_id,
  kind: r.kind,
  reason: r.reason,
  path: r.path,
  ...(r.from_path !== null ? { from: r.from_path } : {}),
  bytes: r.bytes,
  ok: r.ok === 1,
  ...(r.error !== null ? { error: r.error } : {}),
});

/** fold is what a search compares: NFC and lowercase (every script, not only ASCII as SQLite's lower()). */
export function fold(s: string): string {
  return s.normalize('NFC').toLowerCase();
}

export class ActivityLog {
  private readonly keep: number;
  private readonly pruneBatch: number;
  private readonly writes: Batcher<NewActivity>;

  constructor(
    private readonly db: Db,
    o: ActivityLogOptions = {},
  ) {
    this.keep = Math.max(1, o.keep ?? ACTIVITY_KEEP);
    this.pruneBatch = Math.max(1, o.pruneBatch ?? 5000);
    const onError = o.onError;
    const commit = onError
      ? (batch: NewActivity[]) => {
          try {
            this.commit(batch);
          } catch (err) {
            onError(err);
          }
        }
      : (batch: NewActivity[]) => this.commit(batch);
    this.writes = new Batcher(commit, o.delayMs ?? 200);
  }

  /** add queues rows; they are committed within the batch delay (or at once in a large batch), then the oldest past `keep` are pruned. */
  add(...rows: NewActivity[]): void {
    this.writes.add(...rows);
  }

  /** flush commits the rows queued now. */
  flush(): void {
    this.writes.flush();
  }

  /**
   * query is one page of the rows matching `q`, newest first, with the total
   * that match. Pending rows are committed first, so a page shows every row
   * added before it was asked for.
   */
  query(q: ActivityQuery = {}): ActivityPage {
    this.flush();
    const where: string[] = [];
    const args: Array<string | number> = [];
    const needle = q.q === undefined ? '' : fold(q.q);
    if (needle !== '') {
      where.push('instr(search, ?) > 0');
      args.push(needle);
    }
    // Lists travel as one JSON argument: one statement text however many they hold (statements are cached by text).
    if (q.kinds && q.kinds.length > 0) {
      where.push('kind IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(q.kinds));
    }
    if (q.reasons && q.reasons.length > 0) {
      where.push('reason IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(q.reasons));
    }
    if (q.from !== undefined) {
      where.push('at >= ?');
      args.push(q.from);
    }
    if (q.to !== undefined) {
      where.push('at <= ?');
      args.push(q.to);
    }
    const filtered = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = (cached(this.db, `SELECT COUNT(*) FROM activity ${filtered}`).pluck().get(...args) as number) ?? 0;
    const limit = Math.min(Math.max(1, Math.trunc(q.limit ?? ACTIVITY_DEFAULT_LIMIT)), ACTIVITY_MAX_LIMIT);
    const page = q.before !== undefined ? [...where, 'id < ?'] : where;
    const pageArgs = q.before !== undefined ? [...args, q.before] : args;
    const sql = `SELECT id, at, run_id, kind, reason, path, from_path, bytes, ok, error FROM activity
      ${page.length > 0 ? `WHERE ${page.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = (cached(this.db, sql).all(...pageArgs, limit + 1) as Row[]).map(fromRow);
    const more = rows.length > limit;
    if (more) rows.length = limit;
    const last = rows[rows.length - 1];
    return { rows, ...(more && last ? { next: last.id } : {}), total };
  }

  /**
   * countReasons counts the rows done (ok) of `kinds` by reason, over the
   * history kept, for each of `reasons` (0 for none).
   */
  countReasons(kinds: readonly string[], reasons: readonly string[]): Record<string, number> {
    this.flush();
    const out: Record<string, number> = Object.fromEntries(reasons.map((r) => [r, 0]));
    if (kinds.length === 0 || reasons.length === 0) return out;
    const sql = `SELECT reason, COUNT(*) AS n FROM activity
      WHERE ok = 1 AND reason IN (SELECT value FROM json_each(?)) AND kind IN (SELECT value FROM json_each(?)) GROUP BY reason`;
    for (const r of cached(this.db, sql).all(JSON.stringify(reasons), JSON.stringify(kinds)) as Array<{ reason: string; n: number }>) out[r.reason] = r.n;
    return out;
  }

  /**
   * prune deletes the oldest rows past the newest `keep`, at most
   * `pruneBatch` per transaction; returns how many went. Ids only grow and
   * only the oldest are ever deleted, so the id range tells the row count
   * without counting.
   */
  prune(keep = this.keep): number {
    const range = cached(this.db, 'SELECT MIN(id) AS lo, MAX(id) AS hi FROM activity').get() as { lo: number | null; hi: number | null };
    if (range.lo === null || range.hi === null) return 0;
    const upTo = range.hi - Math.max(1, keep);
    if (upTo < range.lo) return 0;
    const del = cached(this.db, 'DELETE FROM activity WHERE id IN (SELECT id FROM activity WHERE id <= ? ORDER BY id LIMIT ?)');
    let gone = 0;
    for (;;) {
      const n = del.run(upTo, this.pruneBatch).changes;
      gone += n;
      if (n < this.pruneBatch) return gone;
    }
  }

  private commit(batch: NewActivity[]): void {
    const ins = cached(
      this.db,
      'INSERT INTO activity (at, run_id, kind, reason, path, from_path, bytes, ok, error, search) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const r of batch) {
        const search = r.from === undefined ? fold(r.path) : `${fold(r.path)}\n${fold(r.from)}`;
        ins.run(r.at, r.runId, r.kind, r.reason, r.path, r.from ?? null, r.bytes, r.ok ? 1 : 0, r.error ?? null, search);
      }
    })();
    this.prune();
  }
}
