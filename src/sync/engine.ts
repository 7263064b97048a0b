/**
 * The engine behind push, pull, sync and status. Three stages, as in rclone:
 * read both sides (the library scan and the remote catalog run at the same
 * time), plan (pure, three-way against the last sync), then transfer.
 */
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Remote } from '../remote/remote.js';
import type { Db } from '../state/state-db.js';
import type { PathFilter } from '../library/filter.js';
import type { Problem } from '../library/walk.js';
import type { RunObserver } from './observer.js';
import { FileIndex } from '../state/file-index.js';
import { SyncRecords, type SyncedLookup } from '../state/sync-records.js';
import { hashFiles, type LocalFile } from '../library/scan.js';
import { walkBatches } from '../library/walk.js';
import { SidesReader } from './sides.js';
import { resolveRemote, type ListedObject } from './remote-listing.js';
import { RemoteCatalog } from './catalog.js';
import { machineId } from '../state/machine.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { checkDeleteLimit, plan, type DeleteLimit, type Direction, type Plan } from './plan.js';
import { executePlan, type ExecResult } from './transfer.js';
import { plannedWork } from './action-kinds.js';
import { MUSIC_PREFIX, musicKey, trashStamp } from './layout.js';
import { caseClashes, localNameProblem, nfc, portableNameProblem } from '../library/names.js';
import { BufferPool } from '../remote/buffer-pool.js';
import { ByteBudget } from '../remote/byte-budget.js';
import { describe } from '../errors.js';
import { MANY_TRANSFERS, moderateHeapGrowth } from '../heap-growth.js';

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
  /** List the remote in full even when the catalog is current. */
  full?: boolean;
  /** Who is writing, recorded in the remote catalog. */
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
  /** True when the remote was listed in full (else the catalog served). */
  listed: boolean;
  elapsedMs: number;
}

/**
 * runSync scans, reads the catalog, plans and (unless dryRun) carries out one
 * push, pull or two-way sync. Throws only for what stops the whole run before
 * any transfer: an unreadable library root, an unusable remote, or a delete
 * over the limit (SafetyError); per-file failures are in the result.
 */
export async function runSync(o: SyncOptions): Promise<SyncResult> {
  const t0 = performance.now();
  const observer = o.observer ?? {};
  const signal = o.signal ?? new AbortController().signal;
  const index = new FileIndex(o.db);
  const records = new SyncRecords(o.db, o.remote.url);
  const mirror = new RemoteMirror(o.db, o.remote.url);
  const machine = machineId(o.db, hostname());
  const catalog = new RemoteCatalog(o.remote, mirror, o.db, `${o.user}@${machine}`, machine);
  const problems: Problem[] = [];
  const report = (p: Problem) => {
    problems.push(p);
    observer.problem?.(p);
  };

  try {
    observer.phase?.('scan');
    const scanProblems: Problem[] = [];
    const leftovers: string[] = [];
    // The walk runs on another thread and hands its files over in batches,
    // joined with the index and the mirror as they come, once the catalog has
    // brought the mirror up to date. (The walk is started first: the catalog's
    // first request loads the S3 client, which keeps this thread busy a while.)
    const reader = new SidesReader(o.db, index, mirror);
    const walking = walkBatches(o.root, o.filter, scanProblems, leftovers, (batch) => reader.take(batch));
    const [view] = await Promise.all([
      catalog.refresh({ full: o.full ?? false, problems, signal, readOnly: o.dryRun }).then((v) => {
        reader.open();
        return v;
      }),
      walking,
    ]);
    for (const p of scanProblems) report(p);
    // The run lock is held (see cli/session.ts): no other run owns these.
    if (!o.dryRun) await Promise.all(leftovers.map((f) => rm(f, { force: true })));
    const recordsSettled = mirror.state().recordsSettled === true;
    const sides = reader.finish(problems);
    const objects = sides.objects;
    // Remote objects outside the filter are none of this run's business.
    for (const [path] of objects) if (!o.filter.file(path)) objects.delete(path);

    observer.phase?.('compare');
    const synced = records;
    const before = problems.length;
    const local = sides.local;
    const must = mustHash(local, objects, synced);
    // Hashing many files makes garbage at a steady rate (their tags, parsed), like transferring them.
    if (must.length >= MANY_TRANSFERS && !o.dryRun) moderateHeapGrowth();
    const hashed = await hashFiles(must, index, problems);
    // A file that cannot be read is left out of this run (and reported).
    for (const p of problems.slice(before)) {
      local.delete(p.path);
      observer.problem?.(p);
    }
    const remote = await resolveRemote({ remote: o.remote, objects, synced, local, problems, signal });
    const identical = sides.identical;
    const refuse = caseClashes(
      [...local.keys(), ...identical],
      [...remote.keys(), ...identical],
      (path) => synced.has(path),
      o.direction === 'pull' ? 'local' : 'remote',
    );
    for (const [path, message] of refuse) report({ path, message });
    if (o.direction !== 'pull') {
      for (const path of local.keys()) {
        const bad = remote.has(path) || refuse.has(path) ? undefined : portableNameProblem(path);
        if (bad) report({ path, message: `${bad}: sent, but a Windows machine cannot pull it under this name` });
      }
    }

    let settled: Set<string> | undefined;
    const p = plan({
      direction: o.direction,
      local,
      remote,
      synced,
      delete: o.delete,
      keyFor: musicKey,
      writerOf: (key) => mirror.writerOf(key),
      identical,
      remoteWithMd5: (md5) => mirror.withMd5(md5).map((m) => ({ key: m.key, path: nfc(m.key.slice(MUSIC_PREFIX.length)), size: m.size, md5 })),
      localWithMd5: (md5) => {
        settled ??= new Set(identical);
        return index.withMd5(md5).filter((f) => settled?.has(f.path)).map((f) => ({ path: f.path, size: f.size, md5 }));
      },
      refuse,
      today: new Date().toISOString().slice(0, 10),
      nameProblem: (path, key) => {
        const up = o.remote.names.check(key);
        // A path on neither side yet is checked for the side it is going to.
        return local.has(path) ? up : localNameProblem(path);
      },
    });
    if (o.delete) checkDeleteLimit(p, o.maxDelete);

    const work = plannedWork(p.actions);
    observer.planned?.(work);
    const result: SyncResult = { plan: p, problems, hashed, listed: view.listed, elapsedMs: 0 };
    if (!o.dryRun) {
      if (work.files >= MANY_TRANSFERS) moderateHeapGrowth();
      try {
        result.exec = await executePlan(p, {
          remote: o.remote,
          root: o.root,
          records,
          index,
          mirror,
          catalog,
          local,
          stamp: trashStamp(),
          transfers: o.transfers,
          buffers: new BufferPool(new ByteBudget(SEND_BUDGET)),
          observer,
          signal,
          stats: { hashed: 0 },
          // Nothing the mirror knows changed this run, and the last one ended cleanly.
          identicalRecorded: !view.listed && view.logsRead === 0 && recordsSettled,
        });
        result.hashed += result.exec.hashed;
      } finally {
        // What was changed is published even when the run stops early; what
        // cannot be now stays pending and goes with the next run.
        await catalog.publish().catch((err: unknown) => report({ path: '(catalog)', message: `not updated on the remote yet (the next run retries): ${describe(err)}` }));
      }
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
 * mustHash picks the fresh (unhashed) files whose content the plan needs
 * before any transfer: those whose path the remote or the last sync knows
 * (identical, changed, tags only, or changed on both sides), and those as
 * big as an object last synced at a path that is gone from the library (a
 * move, to be made a server-side copy). The rest are new and are hashed by
 * the upload that reads them anyway.
 */
function mustHash(local: ReadonlyMap<string, LocalFile>, objects: ReadonlyMap<string, ListedObject>, synced: SyncedLookup): LocalFile[] {
  const movedSizes = new Set<number>();
  for (const path of objects.keys()) {
    const rec = local.has(path) ? undefined : synced.get(path);
    if (rec) movedSizes.add(rec.size);
  }
  const must: LocalFile[] = [];
  for (const f of local.values()) if (!f.md5 && (objects.has(f.path) || synced.has(f.path) || movedSizes.has(f.size))) must.push(f);
  return must;
}
