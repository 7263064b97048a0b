/**
 * ActivityRecorder turns the service's run events into the activity history
 * (state/activity-log.ts): a row for each action done or failed, and a row
 * for each file restored from trash through the API. It also keeps the
 * throughput of the last hour, one bucket a minute, in memory (a restart
 * starts the chart again).
 */
import type { ActivityLog, ActivityKind, NewActivity } from '../state/activity-log.js';
import type { RunEvent } from '../sync/events.js';
import type { Action, Direction } from '../sync/plan.js';
import { isTransfer } from '../sync/action-kinds.js';
import { newRunId } from '../sync/events.js';

export const BUCKET_MS = 60_000;
/** Buckets of the chart: the last hour, the current minute included. */
export const BUCKETS = 60;

export interface ThroughputPoint {
  /** The minute's start, ms since the epoch. */
  at: number;
  /** Bytes moved over the network in the minute. */
  bytes: number;
  /** Transfers finished in the minute. */
  files: number;
}

export interface Throughput {
  bucketMs: number;
  /** Oldest first, one per minute, the current one last. */
  points: ThroughputPoint[];
}

/** One file a restore handled. */
export interface RestoredFile {
  path: string;
  bytes?: number;
  /** Why it was not restored. */
  error?: string;
}

export class ActivityRecorder {
  private readonly buckets = new Map<number, { bytes: number; files: number }>();
  /** The direction of each run under way: what a refused name counts as. */
  private readonly directions = new Map<string, Direction>();

  constructor(private readonly log: ActivityLog) {}

  /** hear takes one event of a run. */
  hear(e: RunEvent): void {
    switch (e.type) {
      case 'run-started':
        this.directions.set(e.runId, e.direction);
        break;
      case 'run-ended':
        this.directions.delete(e.runId);
        break;
      case 'action-progress':
        this.bucket(e.at).bytes += e.bytes;
        break;
      case 'action-finished':
        if (isTransfer(e.action)) this.bucket(e.at).files++;
        this.add(e.action, e.runId, e.at, true);
        break;
      case 'action-failed':
        this.add(e.action, e.runId, e.at, false, e.error);
        break;
      default:
        break;
    }
  }

  /**
   * restored records a restore from the `side`'s trash: one row per file,
   * kind `restore`, reason `remote-trash` or `local-trash`, all under one new
   * run id (a restore is no run, but its rows belong together).
   */
  restored(side: 'remote' | 'local', files: readonly RestoredFile[], at = Date.now()): void {
    const runId = newRunId(new Date(at));
    this.log.add(
      ...files.map((f): NewActivity => ({
        at,
        runId,
        kind: 'restore',
        reason: `${side}-trash`,
        path: f.path,
        bytes: f.error === undefined ? (f.bytes ?? 0) : 0,
        ok: f.error === undefined,
        ...(f.error !== undefined ? { error: f.error } : {}),
      })),
    );
  }

  /** throughput is the last hour up to `now`, one point per minute (zeros where nothing moved). */
  throughput(now = Date.now()): Throughput {
    const current = minute(now);
    this.forget(current);
    const points: ThroughputPoint[] = [];
    for (let at = current - (BUCKETS - 1) * BUCKET_MS; at <= current; at += BUCKET_MS) {
      const b = this.buckets.get(at);
      // A failed attempt's bytes are taken back, maybe in a later minute than they were counted: never below zero.
      points.push({ at, bytes: Math.max(0, b?.bytes ?? 0), files: b?.files ?? 0 });
    }
    return { bucketMs: BUCKET_MS, points };
  }

  /** flush commits the rows not yet written (before the database closes). */
  flush(): void {
    this.log.flush();
  }

  private add(a: Action, runId: string, at: number, ok: boolean, error?: string): void {
    const kind = kindOf(a, this.directions.get(runId));
    if (kind === undefined) return;
    const from = a.kind === 'copy-remote' ? a.fromPath : a.kind === 'copy-local' || a.kind === 'move-local' ? a.from : undefined;
    this.log.add({
      at,
      runId,
      kind,
      reason: a.reason,
      path: a.path,
      ...(from !== undefined ? { from } : {}),
      bytes: ok ? a.size : 0,
      ok,
      ...(error !== undefined ? { error } : {}),
    });
  }

  private bucket(at: number): { bytes: number; files: number } {
    const key = minute(at);
    let b = this.buckets.get(key);
    if (!b) {
      this.forget(key);
      this.buckets.set(key, (b = { bytes: 0, files: 0 }));
    }
    return b;
  }

  /** forget drops the buckets older than the hour ending at minute `current`. */
  private forget(current: number): void {
    const oldest = current - (BUCKETS - 1) * BUCKET_MS;
    for (const k of this.buckets.keys()) if (k < oldest) this.buckets.delete(k);
  }
}

const minute = (t: number) => Math.floor(t / BUCKET_MS) * BUCKET_MS;

/**
 * kindOf is the history's kind of `a`: its own, except for a name refused
 * before any transfer (kind `error`), which counts as the transfer it
 * stopped: a download in a pull, an upload otherwise. Skips are no activity.
 */
function kindOf(a: Action, direction: Direction | undefined): ActivityKind | undefined {
  if (a.kind === 'skip') return undefined;
  if (a.kind === 'error') return direction === 'pull' ? 'download' : 'upload';
  return a.kind;
}
