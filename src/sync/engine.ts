/**
 * The engine behind push, pull, sync and status. Three stages, as in rclone:
 * read both sides (the library scan and the remote catalog run at the same
 * time), plan (pure, three-way against the last sync), then transfer.
 *
 * A run works within a {@link LibrarySession}, which owns what outlives it
 * (state, lock, index, mirror, catalog, buffers): the CLI opens one per
 * command, the service one for its whole life. A run changes nothing of the
 * process it runs in. It tells what it does as typed events (events.ts).
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Remote } from '../remote/remote.js';
import type { PathFilter } from '../library/filter.js';
import type { Walked } from '../library/walk.js';
import type { Problem } from '../core/problem.js';
import type { SyncedLookup } from '../state/sync-records.js';
import type { LibrarySession } from './library-session.js';
import { hashFiles, type LocalFile } from '../library/scan.js';
import { walkBatches, walkScope } from '../library/walk.js';
import { LibraryJoin, statChanged } from '../state/library-join.js';
import { SidesReader } from './sides.js';
import { resolveRemote, type ListedObject } from './remote-listing.js';
import { plan, type Direction, type Plan } from './plan.js';
import { checkDeleteLimit, type DeleteLimit } from './delete-limit.js';
import { executePlan, type ExecResult } from './transfer.js';
import { plannedWork } from './action-kinds.js';
import { MUSIC_PREFIX, musicKey, trashStamp } from './layout.js';
import { caseClashes, foreignPathProblem, localNameProblem, nfc, portableNameProblem } from '../library/names.js';
import { describe } from '../errors.js';
import { CoverUploader } from './covers.js';
import { CoverUploads } from '../state/cover-uploads.js';
import { RunEmitter, type ProblemSource, type RunListener } from './events.js';
import { refreshMedia } from './media-refresh.js';

/** A scope of more paths than this is read by a whole walk: one walk is then cheaper than many lookups. */
export const SCOPE_LIMIT = 1000;

export interface RunOptions {
  direction: Direction;
  remote: Remote;
  filter: PathFilter;
  delete: boolean;
  maxDelete: DeleteLimit;
  /** Plan only: change nothing (dry-run, status). A read-only session runs only these. */
  dryRun: boolean;
  transfers: number;
  /** List the remote in full even when the catalog is current, and walk the whole library. */
  full?: boolean;
  /**
   * Only these library paths (files or folders, relative, as a watcher reports
   * them): the run reads and plans them and what a rename pairs them with. Over
   * SCOPE_LIMIT paths, or with `full`, the whole library is read.
   */
  scope?: readonly string[];
  /** Who hears the run's events. */
  listeners?: readonly RunListener[];
  /** The run's id, when the caller named it before the run (see events.ts newRunId). */
  runId?: string;
  signal?: AbortSignal;
}

export interface SyncResult {
  runId: string;
  plan: Plan;
  problems: Problem[];
  /** Present unless the run was a dry run. */
  exec?: ExecResult;
  /** Files read to be hashed this run (new or changed since the last one). */
  hashed: number;
  /**
   * Unchanged files whose tags were read again this run, an older cratesync
   * having read less of them (see media-refresh.ts).
   */
  refreshed: number;
  /** True when the remote was listed in full (else the catalog served). */
  listed: boolean;
  /** True when only the run's scope was read (not the whole library). */
  scoped: boolean;
  elapsedMs: number;
}

/**
 * runSync scans, reads the catalog, plans and (unless dryRun) carries out one
 * push, pull or two-way sync within `session`. Rejects for what stops the
 * whole run before any transfer: an unreadable library root, an unusable
 * remote, a delete over the limit (SafetyError), or a stop (the signal's
 * reason); per-file failures are in the result. Either way the run's last
 * event is `run-ended`.
 */
export async function runSync(session: LibrarySession, o: RunOptions): Promise<SyncResult> {
  if (session.readOnly && !o.dryRun) throw new Error('runSync: a read-only session runs only dry runs');
  const t0 = performance.now();
  const events = new RunEmitter(o.listeners, o.runId);
  const signal = o.signal ?? new AbortController().signal;
  const { index, root } = session;
  const remoteState = session.forRemote(o.remote);
  const { records, mirror, catalog } = remoteState;
  const scoped = o.scope !== undefined && !o.full && o.scope.length <= SCOPE_LIMIT;
  const problems: Problem[] = [];
  const report = (source: ProblemSource, list: readonly Problem[]) => {
    for (const p of list) {
      problems.push(p);
      events.problem(source, p);
    }
  };
  events.emit({ type: 'run-started', direction: o.direction, root, remote: o.remote.url, dryRun: o.dryRun, scoped });
  // The catalog's background publishes fail while the run goes on: said when they do.
  remoteState.catalogProblems.report = (p) => report('publish', [p]);
  let exec: ExecResult | undefined;
  try {
    events.emit({ type: 'phase', phase: 'scan' });
    const scanProblems: Problem[] = [];
    const catalogProblems: Problem[] = [];
    const leftovers: string[] = [];
    let scope: string[] | undefined;
    let reader: SidesReader;
    let walking: Promise<void>;
    if (scoped && o.scope) {
      const walked = walkScope(root, o.filter, o.scope, scanProblems, leftovers);
      scope = [...o.scope.map(nfc), ...(await movedAway(session, walked, scanProblems, signal))];
      reader = new SidesReader(index, mirror, scope);
      reader.take(walked);
      walking = Promise.resolve();
    } else {
      // The walk runs on another thread and hands its files over in batches,
      // joined with the index and the mirror as they come, once the catalog has
      // brought the mirror up to date. (The walk is started first: the catalog's
      // first request loads the S3 client, which keeps this thread busy a while.)
      reader = new SidesReader(index, mirror);
      const sides = reader;
      walking = walkBatches(root, o.filter, scanProblems, leftovers, (batch) => sides.take(batch), { signal });
    }
    const [view] = await Promise.all([
      catalog.refresh({ full: o.full ?? false, problems: catalogProblems, signal, readOnly: o.dryRun }).then((v) => {
        reader.open();
        return v;
      }),
      walking,
    ]);
    report('scan', scanProblems);
    report('catalog', catalogProblems);
    // The session holds the run lock: no other run owns these.
    if (!session.readOnly) await Promise.all(leftovers.map((f) => rm(f, { force: true })));
    const recordsSettled = mirror.state().recordsSettled === true;
    const listingProblems: Problem[] = [];
    const sides = reader.finish(listingProblems);
    report('listing', listingProblems);
    const objects = sides.objects;
    // Remote objects outside the filter are none of this run's business.
    for (const [path] of objects) if (!o.filter.file(path)) objects.delete(path);

    events.emit({ type: 'phase', phase: 'compare' });
    const synced = records;
    const local = sides.local;
    const hashProblems: Problem[] = [];
    const hashed = await hashFiles(mustHash(local, objects, synced), index, hashProblems, { signal, coversDir: session.coversDir });
    // A file that cannot be read is left out of this run (and reported).
    for (const p of hashProblems) local.delete(p.path);
    report('hash', hashProblems);
    const resolveProblems: Problem[] = [];
    const remote = await resolveRemote({ remote: o.remote, objects, synced, local, problems: resolveProblems, signal, mirror });
    report('listing', resolveProblems);
    signal.throwIfAborted();
    const identical = sides.identical;
    const refuse = caseClashes(
      [...local.keys(), ...identical],
      [...remote.keys(), ...identical],
      (path) => synced.has(path),
      o.direction === 'pull' ? 'local' : 'remote',
    );
    const nameProblems: Problem[] = [...refuse].map(([path, message]) => ({ path, message }));
    if (o.direction !== 'pull') {
      for (const path of local.keys()) {
        // Only a name the remote takes is sent; one it refuses is an error of the plan, said once.
        const bad = remote.has(path) || refuse.has(path) || o.remote.names.check(musicKey(path)) ? undefined : portableNameProblem(path);
        if (bad) nameProblems.push({ path, message: `${bad}: sent, but a Windows machine cannot pull it under this name` });
      }
    }
    report('names', nameProblems);

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
      // Copy sources too are only objects whose path a library could hold (not a planted hidden key).
      remoteWithMd5: (md5) =>
        mirror
          .withMd5(md5)
          .map((m) => ({ key: m.key, path: nfc(m.key.slice(MUSIC_PREFIX.length)), size: m.size, md5 }))
          .filter((m) => m.path !== '' && foreignPathProblem(m.path) === undefined),
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
    if (scoped) {
      // The share a delete may take is of the whole library and remote, not of the scope.
      const whole = new LibraryJoin(index.db, mirror.remote, MUSIC_PREFIX);
      p.localCount = whole.indexedCount();
      p.remoteCount = whole.mirroredCount();
    }
    if (o.delete) checkDeleteLimit(p, o.maxDelete);

    const work = plannedWork(p.actions);
    events.emit({ type: 'planned', ...work, actions: p.actions.length });
    const result: SyncResult = { runId: events.runId, plan: p, problems, hashed, refreshed: 0, listed: view.listed, scoped, elapsedMs: 0 };
    if (!o.dryRun) {
      const covers = session.coversDir === undefined ? undefined : new CoverUploader(o.remote, new CoverUploads(session.db, o.remote.url), session.coversDir, (p) => report('transfer', [p]));
      try {
        // Before the transfers: an upload of a file whose hashes are known sends the tags the index has.
        // A pull writes no catalog, and leaves the files to the next push (which restates what needs it).
        if (o.direction !== 'pull' && sides.staleMedia.length > 0) {
          const refreshed = await refreshMedia(sides.staleMedia, {
            index,
            mirror,
            catalog,
            covers,
            coversDir: session.coversDir,
            report: (p) => report('hash', [p]),
            signal,
          });
          result.refreshed = refreshed.refreshed;
        }
        exec = result.exec = await executePlan(p, {
          remote: o.remote,
          root,
          records,
          index,
          mirror,
          catalog,
          local,
          stamp: trashStamp(),
          transfers: o.transfers,
          buffers: session.buffers,
          events,
          report: (p) => report('transfer', [p]),
          signal,
          stats: { hashed: 0 },
          coversDir: session.coversDir,
          covers,
          // Nothing the mirror knows changed this run, and the last one ended cleanly.
          identicalRecorded: !view.listed && view.logsRead === 0 && recordsSettled,
        });
        result.hashed += result.exec.hashed;
      } finally {
        // What was changed is published even when the run stops early; what
        // cannot be now stays pending and goes with the next run.
        await catalog.publish().catch((err: unknown) =>
          report('publish', [{ path: '(catalog)', message: `not updated on the remote yet (the next run retries): ${describe(err)}` }]),
        );
      }
    }
    result.elapsedMs = performance.now() - t0;
    end(events, result.exec, problems.length, signal, t0);
    return result;
  } catch (err) {
    end(events, exec, problems.length, signal, t0, err);
    throw err;
  } finally {
    remoteState.catalogProblems.report = undefined;
    // Whatever stopped the run, what was learnt of the files is kept.
    session.flush();
  }
}

/** end emits the run's last event. */
function end(events: RunEmitter, exec: ExecResult | undefined, problems: number, signal: AbortSignal, t0: number, err?: unknown): void {
  const fatal = err ?? exec?.fatal;
  events.emit({
    type: 'run-ended',
    totals: {
      done: exec?.done.length ?? 0,
      failed: exec?.failed.length ?? 0,
      bytes: exec?.bytes ?? 0,
      problems,
      interrupted: signal.aborted,
      ...(fatal !== undefined && !signal.aborted ? { fatal: describe(fatal) } : {}),
    },
    elapsedMs: performance.now() - t0,
  });
}

/**
 * movedAway finds, for a scoped run, the library paths outside the scope
 * whose content a new file of the scope now holds and which are gone from the
 * library: the other half of a rename the watcher reported only one side of.
 * The scope's fresh files are hashed for it (and recorded in the index, so
 * the join finds them hashed).
 */
async function movedAway(session: LibrarySession, walked: Walked, problems: Problem[], signal: AbortSignal): Promise<string[]> {
  const { index, root } = session;
  const fresh: LocalFile[] = [];
  for (let i = 0; i < walked.length; i++) {
    const known = index.get(walked.paths[i] as string);
    const f = walked.file(i);
    if (!known || statChanged(known, f)) fresh.push(f);
  }
  if (fresh.length === 0) return [];
  await hashFiles(fresh, index, problems, { signal, coversDir: session.coversDir });
  index.flush();
  const inScope = new Set(walked.paths);
  const away = new Set<string>();
  for (const f of fresh) {
    if (!f.md5) continue;
    for (const rec of index.withMd5(f.md5)) {
      if (rec.size === f.size && !inScope.has(rec.path) && !existsSync(join(root, ...rec.path.split('/')))) away.add(rec.path);
    }
  }
  return [...away];
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
