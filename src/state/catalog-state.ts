/**
 * What this machine keeps locally about a remote's catalog (see
 * sync/catalog.ts): which log objects it has folded in, and the changes it
 * made but has not yet written to a log (kept first here, so that a crash
 * between a change and its log loses nothing). Every statement is prepared
 * once, here.
 */
import type Database from 'better-sqlite3';
import type { Db } from './state-db.js';

/** A change waiting for the log: its order and its JSON (one catalog entry). */
export interface PendingRow {
  seq: number;
  entry: string;
}

export class CatalogState {
  private readonly seenOne: Database.Statement;
  private readonly markOne: Database.Statement;
  private readonly seenAfter: Database.Statement;
  private readonly seenBetween: Database.Statement;
  private readonly newestUnder: Database.Statement;
  private readonly addOne: Database.Statement;
  private readonly allPending: Database.Statement;
  private readonly countPending: Database.Statement;
  private readonly dropRange: Database.Statement;
  private readonly lastSeq: Database.Statement;

  constructor(
    private readonly db: Db,
    readonly remote: string,
  ) {
    this.seenOne = db.prepare('SELECT 1 FROM catalog_logs WHERE remote = ? AND key = ?');
    this.markOne = db.prepare('INSERT OR IGNORE INTO catalog_logs (remote, key) VALUES (?, ?)');
    this.seenAfter = db.prepare('SELECT COUNT(*) AS n FROM catalog_logs WHERE remote = ? AND key > ? AND key < ?');
    this.seenBetween = db.prepare('SELECT key FROM catalog_logs WHERE remote = ? AND key >= ? AND key <= ? ORDER BY key LIMIT ?').pluck();
    this.newestUnder = db.prepare('SELECT MAX(key) AS key FROM catalog_logs WHERE remote = ? AND key >= ? AND key < ?').pluck();
    this.addOne = db.prepare('INSERT INTO catalog_pending (remote, seq, entry) VALUES (?, ?, ?)');
    this.lastSeq = db.prepare('SELECT MAX(seq) FROM catalog_pending WHERE remote = ?').pluck();
    this.allPending = db.prepare('SELECT seq, entry FROM catalog_pending WHERE remote = ? ORDER BY seq');
    this.countPending = db.prepare('SELECT COUNT(*) AS n FROM catalog_pending WHERE remote = ?');
    this.dropRange = db.prepare('DELETE FROM catalog_pending WHERE remote = ? AND seq BETWEEN ? AND ?');
  }

  /** True when log object `key` was folded in (or written) by this machine. */
  seen(key: string): boolean {
    return this.seenOne.get(this.remote, key) !== undefined;
  }

  /** Notes that catalog object `key` (a log, or a snapshot) is folded in or known. */
  markSeen(key: string): void {
    this.markOne.run(this.remote, key);
  }

  /**
   * How many objects noted seen sort after `after` and before `before` (a
   * cheap range count on the primary key): e.g. the logs folded in since a
   * snapshot.
   */
  seenAfterKey(after: string, before: string): number {
    return (this.seenAfter.get(this.remote, after, before) as { n: number }).n;
  }

  /** The keys noted seen from `lo` to `hi` (inclusive), in order, at most `limit` of them. */
  seenKeys(lo: string, hi: string, limit: number): string[] {
    return this.seenBetween.all(this.remote, lo, hi, limit) as string[];
  }

  /** The greatest key noted seen that starts with `prefix`, if any (e.g. the newest snapshot known). */
  newestSeen(prefix: string): string | undefined {
    return (this.newestUnder.get(this.remote, prefix, `${prefix}\uffff`) as string | null) ?? undefined;
  }

  /** Queues entries (JSON each) for the log, in one transaction. */
  addPending(entries: readonly string[]): void {
    this.db.transaction(() => {
      let seq = (this.lastSeq.get(this.remote) as number | null) ?? 0;
      for (const e of entries) this.addOne.run(this.remote, ++seq, e);
    })();
  }

  /** The queued entries, oldest first. */
  pending(): PendingRow[] {
    return this.allPending.all(this.remote) as PendingRow[];
  }

  pendingCount(): number {
    return (this.countPending.get(this.remote) as { n: number }).n;
  }

  /** Forgets the queued entries `seqs` (written to a log; entries of one kind go to logs of their own). */
  dropPendingSeqs(seqs: readonly number[]): void {
    const sorted = [...seqs].sort((a, b) => a - b);
    this.db.transaction(() => {
      // A log's entries are mostly one run of seqs: a range each, not a statement per entry.
      for (let i = 0; i < sorted.length; ) {
        let j = i;
        while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
        this.dropRange.run(this.remote, sorted[i], sorted[j]);
        i = j + 1;
      }
    })();
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
