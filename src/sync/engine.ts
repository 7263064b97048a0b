/**
 * One-way sync, the engine behind push, pull and status. Three stages, as in
 * rclone: list both sides (the library scan and the remote listing run at the
 * same time), plan (pure), then transfer.
 */
import type { Remote } from '../remote/remote.js';
import type { Db } from '../state/state-db.js';
import type { PathFilter } from '../library/filter.js';
import type { Problem } from '../library/walk.js';
import type { RunObserver } from './observer.js';
import { FileIndex } from '../state/file-index.js';
import { SyncRecords } from '../state/sync-records.js';
import { hashFiles, scanLibrary, type LocalFile } from '../library/scan.js';
import { resolveRemote } from './remote-listing.js';
import { remoteView, type RemoteView } from './remote-view.js';
import { writeGeneration } from './generation.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { checkDeleteLimit, plan, type DeleteLimit, type Direction, type Plan } from './plan.js';
import { executePlan, type ExecResult } from './transfer.js';
import { musicKey, trashStamp } from './layout.js';
import { localNameProblem } from '../library/names.js';
import { BufferPool } from '../remote/buffer-pool.js';
import { ByteBudget } from '../remote/byte-budget.js';

/** Memory for files held whole while they are hashed and sent. */
const SEND_BUDGET = 64 * 1024 * 1024;

export interface SyncOptions {
  direction: Direction;
  root: string;
  remote: Remote;
  db: Db;
  filter: PathFilter;
  delete: boolean;
  maxDelete: DeleteLimit;
  /** Plan only: change nothing (dry-run, status). */
  dryRun: boolean;
  transfers: number;
  /** List the remote even when the mirror is current. */
  full?: boolean;
  /** Who is writing, recorded in the generation marker. */
  user: string;
  observer?: RunObserver;
  signal?: AbortSignal;
}

export interface SyncResult {
  plan: Plan;
  problems: Problem[];
  /** Present unless the run was a dry run. */
  exec?: ExecResult;
  /** Files read to be hashed this run (new or changed since the last one). */
  hashed: number;
  elapsedMs: number;
}

/**
 * runSync scans, lists, plans and (unless dryRun) carries out one push or
 * pull. Throws only for what stops the whole run before any transfer:
 * an unreadable library root, an unusable remote, or a delete over the limit
 * (SafetyError); per-file failures are in the result.
 */
export async function runSync(o: SyncOptions): Promise<SyncResult> {
  const t0 = performance.now();
  const observer = o.observer ?? {};
  const signal = o.signal ?? new AbortController().signal;
  const index = new FileIndex(o.db);
  const records = new SyncRecords(o.db, o.remote.url);
  const mirror = new RemoteMirror(o.db, o.remote.url);
  const problems: Problem[] = [];
  const report = (p: Problem) => {
    problems.push(p);
    observer.problem?.(p);
  };

  try {
    observer.phase?.('scan');
    const [scan, view] = await Promise.all([
      scanLibrary(o.root, { filter: o.filter, index }),
      remoteView(o.remote, mirror, { full: o.full ?? false, problems, signal }),
    ]);
    const objects = view.objects;
    for (const p of scan.problems) report(p);
    // Remote objects outside the filter are none of this run's business.
    for (const [path] of objects) if (!o.filter.file(path)) objects.delete(path);

    observer.phase?.('compare');
    // A fresh file needs its hash before planning only when the remote holds the
    // same path at the same size: anything else is new or differs whatever the
    // content. The rest are hashed by the transfer that reads them anyway.
    const mustHash = scan.files.filter((f) => !f.md5 && objects.get(f.path)?.size === f.size);
    const before = problems.length;
    const hashed = await hashFiles(mustHash, index, problems);
    for (const p of problems.slice(before)) observer.problem?.(p);
    const unreadable = new Set(problems.slice(before).map((p) => p.path));
    const local = new Map<string, LocalFile>(scan.files.filter((f) => !unreadable.has(f.path)).map((f) => [f.path, f]));
    const synced = records.all();
    const remote = await resolveRemote({ remote: o.remote, objects, synced, local, problems, signal });

    const p = plan({
      direction: o.direction,
      local,
      remote,
      synced,
      delete: o.delete,
      keyFor: musicKey,
      nameProblem: (path, key) => (o.direction === 'push' ? o.remote.names.check(key) : localNameProblem(path)),
    });
    if (o.delete) checkDeleteLimit(p, o.maxDelete);

    const work = p.actions.filter((a) => a.kind === 'upload' || a.kind === 'download');
    observer.planned?.({ files: work.length, bytes: work.reduce((n, a) => n + a.size, 0) });
    const result: SyncResult = { plan: p, problems, hashed, elapsedMs: 0 };
    if (!o.dryRun) {
      // While this run writes, the mirror is incomplete, and the marker changes
      // before the first write and after the last: see generation.ts.
      const writes = p.actions.some((a) => a.kind === 'upload' || a.kind === 'trash-remote');
      if (writes) await writeGeneration(o.remote, o.user);
      result.exec = await executePlan(p, {
        remote: o.remote,
        root: o.root,
        records,
        synced,
        index,
        mirror,
        local,
        stamp: trashStamp(),
        transfers: o.transfers,
        buffers: new BufferPool(new ByteBudget(SEND_BUDGET)),
        observer,
        signal,
        stats: { hashed: 0 },
      });
      result.hashed += result.exec.hashed;
      if (writes) mirror.setState({ generation: await writeGeneration(o.remote, o.user), listedAt: view.listedAt });
      else if (view.listed) await adopt(o.remote, mirror, view, o.user);
    }
    result.elapsedMs = performance.now() - t0;
    return result;
  } finally {
    // Whatever stopped the run, what was learnt of the files is kept.
    index.flush();
    records.flush();
    mirror.flush();
  }
}

/**
 * adopt marks the mirror complete after a run that listed the remote and wrote
 * nothing to it. A remote without a marker yet gets one (best effort: read-only
 * credentials simply mean every run lists), so that the next run can skip the
 * listing.
 */
async function adopt(remote: Remote, mirror: RemoteMirror, view: RemoteView, user: string): Promise<void> {
  let generation = view.generation;
  if (generation === undefined) generation = await writeGeneration(remote, user).catch(() => undefined);
  mirror.setState({ ...(generation ? { generation } : {}), listedAt: view.listedAt });
}
