/**
 * The change aggregator: turns the watcher's stream of path events into few,
 * well-timed units of work for the service, after Syncthing's watchaggregator.
 *
 * - A path is due a quiet time after its last event, so a file being written
 *   is taken once, after its writer pauses; deletes wait longer, so that the
 *   create half of a move is seen before the delete is acted on.
 * - A delete and a create (or change, or new folder) in one batch of the
 *   watcher are taken as a move: the delete is due together with the create,
 *   never before it, so that one scoped run sees both paths and the engine
 *   pairs them into a rename.
 * - A folder reported as new ('dir') is scanned whole: events below it are
 *   absorbed by it, and push its due time. A folder's delete absorbs the
 *   pending changes below it.
 * - When more paths are pending directly in one folder than `maxPerFolder`,
 *   they collapse into that folder ('dir'); past `maxPaths` in all, or when a
 *   root-level folder floods, everything collapses into one full rescan (path
 *   ''). A collapsed entry is never due before anything it absorbed.
 * - However busy a path or folder stays, it is due at most `maxDelayMs` after
 *   its first event, so a long copy is sent as it goes rather than at its end.
 *
 * It keeps no timers and does no I/O: the service calls {@link takeDue} when
 * {@link nextDueAt} says, and the clock is injected for tests.
 */
import type { WatchChange } from './library-watcher.js';

export interface AggregatorOptions {
  /** A path is due this long after its last event. */
  quietMs: number;
  /** The same for deletes: long enough for a move's create half to come first. */
  deleteDelayMs: number;
  /** More pending paths than this directly in one folder collapse into that folder. */
  maxPerFolder: number;
  /** More pending paths than this in all collapse into one full rescan (path ''). */
  maxPaths: number;
  /** An entry is due at most this long after its first event, however many events follow (default 60 s). */
  maxDelayMs?: number;
}

export const DEFAULT_AGGREGATOR_OPTIONS: Required<AggregatorOptions> = {
  quietMs: 1000,
  deleteDelayMs: 2500,
  maxPerFolder: 64,
  // The engine's SCOPE_LIMIT: a larger scope is a full run anyway.
  maxPaths: 1000,
  maxDelayMs: 60_000,
};

/**
 * A unit of work: a path to look at (`change`: a file; `dir`: a folder, scan
 * it whole; `delete`: a file or folder gone; `rescan`: the whole library, path
 * ''), when it became due and when its first event came.
 */
export interface PendingChange {
  path: string;
  kind: 'change' | 'delete' | 'dir' | 'rescan';
  dueAt: number;
  firstAt: number;
}

interface Entry {
  path: string;
  kind: PendingChange['kind'];
  /** When it is due by its own events (before the cap and the move rule). */
  dueAt: number;
  firstAt: number;
  /** For a delete that came with arrivals in one batch: the paths that arrived (a move's other half). */
  move?: Move;
}

interface Move {
  arrivals: readonly string[];
}

/** The folder holding `path` ('' for the root's children). */
function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/**
 * ChangeAggregator coalesces watcher events per path and hands them out once
 * due. Not thread-safe (nothing in Node is); every method is synchronous.
 */
export class ChangeAggregator {
  private o: Required<AggregatorOptions>;
  private readonly entries = new Map<string, Entry>();
  /** Pending entries directly in each folder. */
  private readonly children = new Map<string, number>();

  constructor(o: Partial<AggregatorOptions> = {}, private readonly now: () => number = Date.now) {
    const d = DEFAULT_AGGREGATOR_OPTIONS;
    this.o = {
      quietMs: o.quietMs ?? d.quietMs,
      deleteDelayMs: o.deleteDelayMs ?? d.deleteDelayMs,
      maxPerFolder: o.maxPerFolder ?? d.maxPerFolder,
      maxPaths: o.maxPaths ?? d.maxPaths,
      maxDelayMs: o.maxDelayMs ?? d.maxDelayMs,
    };
  }

  get size(): number {
    return this.entries.size;
  }

  /** configure takes new options (a config reload); pending entries keep their due times. */
  configure(o: Partial<AggregatorOptions>): void {
    const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    this.o = { ...this.o, ...defined };
  }

  /**
   * add takes a batch from the watcher. Per path the last event's kind and
   * time win (but a folder pending as 'dir' stays one when it only changes).
   */
  add(batch: readonly WatchChange[]): void {
    if (batch.length === 0) return;
    const t = this.now();
    const arrivals = batch.filter((c) => c.kind !== 'delete').map((c) => c.path);
    const move = arrivals.length > 0 && arrivals.length < batch.length ? { arrivals } : undefined;
    for (const c of batch) this.addOne(c.path, c.kind, t, c.kind === 'delete' ? move : undefined);
    if (this.entries.size > this.o.maxPaths) this.collapseAll(t);
  }

  /**
   * rescan asks for a full rescan, due `delayMs` from now (default: the quiet
   * time) and not before anything pending; it replaces every pending entry,
   * and later events are absorbed by it.
   */
  rescan(delayMs = this.o.quietMs): void {
    const t = this.now();
    this.rescanAt(t, t + delayMs);
  }

  /**
   * clear drops every pending entry: a full run is starting, and it reads
   * everything those events were about (events after this are kept again).
   */
  clear(): void {
    this.entries.clear();
    this.children.clear();
  }

  /** Takes out the entries whose time has come, oldest first (by first event, then path). */
  takeDue(): PendingChange[] {
    const now = this.now();
    const memo = new Map<Move, number | undefined>();
    const due: PendingChange[] = [];
    // All due times are decided before anything is removed: a move's delete depends on its arrivals.
    for (const e of this.entries.values()) {
      const at = this.dueOf(e, memo);
      if (at <= now) due.push({ path: e.path, kind: e.kind, dueAt: at, firstAt: e.firstAt });
    }
    for (const c of due) this.remove(c.path);
    return due.sort((a, b) => a.firstAt - b.firstAt || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** When the next entry becomes due (for the service's timer), or undefined when nothing is pending. */
  nextDueAt(): number | undefined {
    const memo = new Map<Move, number | undefined>();
    let next: number | undefined;
    for (const e of this.entries.values()) {
      const at = this.dueOf(e, memo);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  private delay(kind: WatchChange['kind']): number {
    return kind === 'delete' ? this.o.deleteDelayMs : this.o.quietMs;
  }

  private addOne(path: string, kind: WatchChange['kind'], t: number, move: Move | undefined): void {
    if (path === '') {
      // The root itself: nothing smaller than a full rescan covers it.
      this.rescanAt(t, t + this.delay(kind));
      return;
    }
    const cover = this.cover(path);
    if (cover) {
      cover.dueAt = Math.max(cover.dueAt, t + this.delay(kind));
      return;
    }
    let dueAt = t + this.delay(kind);
    let firstAt = t;
    if (kind === 'dir' || kind === 'delete') {
      for (const e of this.below(path)) {
        dueAt = Math.max(dueAt, e.dueAt);
        firstAt = Math.min(firstAt, e.firstAt);
        this.remove(e.path);
      }
    }
    const old = this.entries.get(path);
    let k: PendingChange['kind'] = kind;
    if (old) {
      firstAt = Math.min(firstAt, old.firstAt);
      if (old.kind === 'dir' && kind === 'change') {
        // A folder's own change (its mtime) adds nothing to a scan of it.
        k = 'dir';
        dueAt = Math.max(dueAt, old.dueAt);
      }
    }
    this.entries.set(path, { path, kind: k, dueAt, firstAt, ...(move && { move }) });
    if (!old) this.counted(path, +1);
  }

  /** The pending folder ('dir') or rescan above `path` that covers it, if any. */
  private cover(path: string): Entry | undefined {
    for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
      const e = this.entries.get(path.slice(0, i));
      if (e?.kind === 'dir') return e;
    }
    const root = this.entries.get('');
    return root?.kind === 'rescan' ? root : undefined;
  }

  private below(folder: string): Entry[] {
    const prefix = `${folder}/`;
    return [...this.entries.values()].filter((e) => e.path.startsWith(prefix));
  }

  private remove(path: string): void {
    if (this.entries.delete(path)) this.counted(path, -1);
  }

  /** Keeps the count of entries per folder; a folder with too many collapses. */
  private counted(path: string, delta: number): void {
    if (path === '') return;
    const folder = parentOf(path);
    const n = (this.children.get(folder) ?? 0) + delta;
    if (n > 0) this.children.set(folder, n);
    else this.children.delete(folder);
    if (delta > 0 && n > this.o.maxPerFolder) this.collapse(folder);
  }

  /** Replaces `folder` and everything pending under it with one 'dir' entry (a root-level flood: a rescan). */
  private collapse(folder: string): void {
    if (folder === '') {
      this.collapseAll(this.now());
      return;
    }
    const old = this.entries.get(folder);
    let dueAt = old?.dueAt ?? 0;
    let firstAt = old?.firstAt ?? Infinity;
    for (const e of this.below(folder)) {
      dueAt = Math.max(dueAt, e.dueAt);
      firstAt = Math.min(firstAt, e.firstAt);
      this.remove(e.path);
    }
    this.entries.set(folder, { path: folder, kind: 'dir', dueAt, firstAt });
    // May make the parent folder overflow in turn.
    if (!old) this.counted(folder, +1);
  }

  /** Replaces everything pending with one full rescan, due at `dueAt` at the earliest. */
  private collapseAll(t: number, dueAt = 0): void {
    let firstAt = t;
    for (const e of this.entries.values()) {
      dueAt = Math.max(dueAt, e.dueAt);
      firstAt = Math.min(firstAt, e.firstAt);
    }
    this.entries.clear();
    this.children.clear();
    this.entries.set('', { path: '', kind: 'rescan', dueAt, firstAt });
  }

  private rescanAt(t: number, dueAt: number): void {
    const root = this.entries.get('');
    if (root?.kind === 'rescan') root.dueAt = Math.max(root.dueAt, dueAt);
    else this.collapseAll(t, dueAt);
  }

  /** When `e` is due: its own time, capped by maxDelayMs; a move's delete goes with the first of its arrivals still pending. */
  private dueOf(e: Entry, memo: Map<Move, number | undefined>): number {
    const own = Math.min(e.dueAt, e.firstAt + this.o.maxDelayMs);
    if (e.kind !== 'delete' || !e.move) return own;
    if (!memo.has(e.move)) memo.set(e.move, this.arrivalsDue(e.move));
    return memo.get(e.move) ?? own;
  }

  /** When the first still-pending arrival of a move is due, or undefined when none is pending. */
  private arrivalsDue(move: Move): number | undefined {
    let first: number | undefined;
    for (const p of move.arrivals) {
      const own = this.entries.get(p);
      const a = own && own.kind !== 'delete' ? own : this.cover(p);
      if (!a) continue;
      const at = Math.min(a.dueAt, a.firstAt + this.o.maxDelayMs);
      if (first === undefined || at < first) first = at;
    }
    return first;
  }
}
