/**
 * A run's outcome as plain data: what the CLI's last line, `--json`, the
 * service's status and its clients all read. Counting is decided here once.
 */
import type { Action, Direction, Plan, Reason } from './plan.js';
import type { SyncResult } from './engine.js';
import { isCopy, isDeletion } from './action-kinds.js';

/**
 * Tally counts a plan's actions (or a run's finished ones) by what they mean
 * to a user: bytes sent each way, renames done without a transfer, tag-only
 * edits, conflicts, trash moves.
 */
export interface Tally {
  uploaded: number;
  downloaded: number;
  /** Bytes over the network. */
  bytes: number;
  /** Server-side copies, local copies and renames: content already on the other side. */
  moved: number;
  /** Transfers whose audio is unchanged (only tags differ). */
  tagOnly: number;
  conflicts: number;
  trashed: number;
}

export function tally(actions: readonly Action[]): Tally {
  const t: Tally = { uploaded: 0, downloaded: 0, bytes: 0, moved: 0, tagOnly: 0, conflicts: 0, trashed: 0 };
  for (const a of actions) {
    if (a.kind === 'upload') t.uploaded++;
    else if (a.kind === 'download') t.downloaded++;
    else if (isCopy(a)) t.moved++;
    else if (a.kind === 'conflict') t.conflicts++;
    else if (isDeletion(a)) t.trashed++;
    if (a.reason === 'tags-changed') t.tagOnly++;
    t.bytes += a.size;
  }
  return t;
}

/** unchanged counts the paths identical on both sides, settled before planning or by it. */
export function unchanged(p: Plan): number {
  return p.identical.length + p.actions.filter((a) => a.kind === 'skip' && a.reason === 'identical').length;
}

export interface RunSummary {
  runId: string;
  direction: Direction;
  /** Nothing was carried out: the tally is of what would be. */
  dryRun: boolean;
  /** What was done (or, in a dry run, planned). */
  tally: Tally;
  unchanged: number;
  /** Unchanged files whose tags were read again (an older cratesync read less of them). */
  refreshed: number;
  /** Actions that failed (none in a dry run). */
  failed: number;
  /** Paths left as they are, by reason (other than identical). */
  skipped: Partial<Record<Reason, number>>;
  /** Names the plan refused. */
  refused: number;
  problems: number;
  /** Bytes moved over the network. */
  bytes: number;
  elapsedMs: number;
}

/** summarize reduces a run's result to its {@link RunSummary}. */
export function summarize(direction: Direction, r: SyncResult): RunSummary {
  const skipped: Partial<Record<Reason, number>> = {};
  for (const a of r.plan.actions) if (a.kind === 'skip' && a.reason !== 'identical') skipped[a.reason] = (skipped[a.reason] ?? 0) + 1;
  return {
    runId: r.runId,
    direction,
    dryRun: !r.exec,
    tally: tally(r.exec?.done ?? r.plan.actions),
    unchanged: unchanged(r.plan),
    refreshed: r.refreshed,
    failed: r.exec?.failed.length ?? 0,
    skipped,
    refused: r.plan.actions.filter((a) => a.kind === 'error').length,
    problems: r.problems.length,
    bytes: r.exec?.bytes ?? 0,
    elapsedMs: r.elapsedMs,
  };
}
