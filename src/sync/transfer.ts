/**
 * Carrying out a plan: transfers (uploads, downloads, server-side and local
 * copies, local moves, conflicts) with bounded concurrency and retries, then
 * trash moves. Every change made to the remote is recorded in its catalog. Each finished transfer is recorded at once, so a run that is
 * interrupted (Ctrl-C, kill, crash) continues on re-run without sending again
 * what finished. One failing file is reported and the others go on; an error
 * that makes the remote unusable (access denied, unreachable) stops the run.
 */
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { PutBody, Remote } from '../remote/remote.js';
import type { RemoteObject } from '../core/remote-object.js';
import type { BufferPool } from '../remote/buffer-pool.js';
import { fileError, readInto } from '../remote/local-io.js';
import { statChanged } from '../state/library-join.js';
import { readFileSync } from 'node:fs';
import type { FileIndex, FileRecord } from '../state/file-index.js';
import type { RemoteMirror } from '../state/remote-mirror.js';
import type { RemoteCatalog } from './catalog.js';
import type { SyncRecords, SyncRecord } from '../state/sync-records.js';
import type { LocalFile } from '../library/scan.js';
import type { Action, ConflictAction, CopyLocalAction, CopyRemoteAction, DownloadAction, MoveLocalAction, Plan, UploadAction } from './plan.js';
import type { RunEmitter } from './events.js';
import type { Problem } from '../core/problem.js';
import { ChecksumError, classify, describe, FileError, PreconditionError } from '../errors.js';
import { parseEtag } from '../core/etag.js';
import { withRetry } from '../core/retry.js';
import { forEachLimit } from '../core/concurrency.js';
import { describeFile, WHOLE_READ } from '../library/scan.js';
import { fingerprint } from '../state/fingerprint.js';
import { dropIfMissing } from './remote-listing.js';
import { keepRemoteVersion, pruneEmpty, trashLocal, trashRemote } from './trash.js';
import { MUSIC_PREFIX } from './layout.js';
import type { CoverUploader } from './covers.js';
import type { Tags } from '../core/tags.js';
import { isTransfer, isTrash, type TrashAction, type TransferAction } from './action-kinds.js';

export interface ExecContext {
  remote: Remote;
  root: string;
  records: SyncRecords;
  /** The local copy of the remote listing, kept current with each write. */
  mirror: RemoteMirror;
  /** Where each change to the remote is recorded for the other machines. */
  catalog: RemoteCatalog;
  index: FileIndex;
  /** Local files by library path, as scanned. */
  local: ReadonlyMap<string, LocalFile>;
  /** Trash batch of this run. */
  stamp: string;
  transfers: number;
  /** Buffers for fresh files read whole to be hashed and sent; bounds the memory they hold. */
  buffers: BufferPool;
  events: RunEmitter;
  /** Reports a problem met while carrying out the plan (counted with the run's warnings). */
  report(p: Problem): void;
  /** The action being carried out (its index in the plan): set on each action's own copy of the context. */
  id: number;
  signal: AbortSignal;
  /** Counters the run reports. */
  stats: { hashed: number };
  /** The local cover store hashed files put their embedded covers in; none: covers are not kept. */
  coversDir?: string | undefined;
  /** Sends an uploaded song's cover to the remote's `.cratesync/covers/`; none: covers are not sent. */
  covers?: CoverUploader | undefined;
  /**
   * The pairs settled before planning are known to have their sync records:
   * the last run wrote them all, and neither side of them changed since.
   */
  identicalRecorded?: boolean;
}

export interface Failure {
  path: string;
  kind: Action['kind'];
  message: string;
  error: unknown;
}

export interface ExecResult {
  done: Action[];
  failed: Failure[];
  bytes: number;
  /** The error that stopped the run early, if one did. */
  fatal?: unknown;
  /** Files read to be hashed while transferring. */
  hashed: number;
}

/**
 * executePlan performs the plan's transfers, then (if none hit a fatal error)
 * its trash moves, and records identical pairs as synced.
 */
export async function executePlan(p: Plan, base: Omit<ExecContext, 'id'>): Promise<ExecResult> {
  const ctx: ExecContext = { ...base, id: -1 };
  const result: ExecResult = { done: [], failed: [], bytes: 0, hashed: 0 };
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  // Every transfer in flight listens for an abort; that many listeners is by design.
  setMaxListeners(0, signal);

  // Until this run ends cleanly, the next one checks every pair's record.
  ctx.mirror.setState({ recordsSettled: false });
  confirmIdentical(p, ctx);
  // Moves: the old paths learn where they go before any copy is made.
  for (const a of p.actions) if (a.kind === 'trash-remote' && a.movedTo !== undefined) ctx.records.markMoving(a.path, a.movedTo);

  const run = async ([action, id]: [Action, number], fn: (actx: ExecContext) => Promise<void>) => {
    ctx.events.emit({ type: 'action-started', id, action });
    try {
      await fn({ ...ctx, id });
      result.done.push(action);
      result.bytes += action.size;
      ctx.events.emit({ type: 'action-finished', id, action });
    } catch (err) {
      if (signal.aborted && !result.fatal) return; // interrupted: not this file's fault
      if (classify(err) === 'fatal') {
        result.fatal ??= err;
        stop.abort();
      }
      result.failed.push({ path: action.path, kind: action.kind, message: messageOf(err), error: err });
      ctx.events.emit({ type: 'action-failed', id, action, error: describe(err), cause: err });
    }
  };

  try {
    ctx.events.emit({ type: 'phase', phase: 'transfer' });
    await forEachLimit(transfers(p.actions), ctx.transfers, (e) => run(e, (actx) => transfer(e[0], actx, signal)), signal);

    // The old key of a move goes only once its content stands at the new key:
    // copied in this run, or found there already.
    const targets = new Set<string>();
    for (const a of p.actions) if (a.kind === 'trash-remote' && a.movedTo !== undefined) targets.add(a.movedTo);
    const landed = new Set<string>();
    if (targets.size > 0) {
      for (const a of result.done) if (targets.has(a.path)) landed.add(a.path);
      for (const a of p.actions) if (a.reason === 'identical' && targets.has(a.path)) landed.add(a.path);
      for (const path of p.identical) if (targets.has(path)) landed.add(path);
    }
    const trash: Array<[TrashAction, number]> = [];
    p.actions.forEach((a, i) => {
      if (isTrash(a) && (a.kind === 'trash-local' || a.movedTo === undefined || landed.has(a.movedTo))) trash.push([a, i]);
    });
    if (trash.length > 0 && !result.fatal && !signal.aborted) {
      ctx.events.emit({ type: 'phase', phase: 'trash' });
      await forEachLimit(trash, ctx.transfers, (e) => run(e, (actx) => moveToTrash(e[0], actx, signal)), signal);
    }
  } finally {
    ctx.records.flush();
    ctx.index.flush();
    ctx.mirror.flush();
    result.hashed = ctx.stats.hashed;
  }
  if (!result.fatal && !signal.aborted) ctx.mirror.setState({ recordsSettled: true });

  p.actions.forEach((a, id) => {
    if (a.kind === 'error') {
      const message = `${a.path}: ${a.problem}`;
      const error = new FileError(a.path, a.problem);
      result.failed.push({ path: a.path, kind: a.kind, message, error });
      ctx.events.emit({ type: 'action-failed', id, action: a, error: describe(error), cause: error });
    }
  });
  return result;
}

/** transfers yields the plan's transfers with their ids, in plan order (without a copy of the list). */
function* transfers(actions: readonly Action[]): Generator<[TransferAction, number]> {
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i] as Action;
    if (isTransfer(a)) yield [a, i];
  }
}

function transfer(a: TransferAction, ctx: ExecContext, signal: AbortSignal): Promise<void> {
  switch (a.kind) {
    case 'upload':
      return upload(a, ctx, signal);
    case 'download':
      return download(a, ctx, signal);
    case 'copy-remote':
      return copyRemote(a, ctx, signal);
    case 'copy-local':
    case 'move-local':
      return copyLocal(a, ctx);
    case 'conflict':
      return conflict(a, ctx, signal);
  }
}

function retrying(action: Action, ctx: ExecContext, err: unknown, attempt: number, delayMs: number): void {
  ctx.events.emit({ type: 'action-retrying', id: ctx.id, action, error: describe(err), attempt, delayMs });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Pairs found identical get a sync record (the base of a later two-way sync,
 * and what vouches for an object's MD5), unless they have that very one.
 * The records are read in one streamed pass, not one lookup per pair.
 */
function confirmIdentical(p: Plan, ctx: ExecContext): void {
  // The keys whose record does not match the mirror (see SyncRecords.unconfirmed);
  // none to look for when the last run settled them all and nothing changed since.
  const open = ctx.identicalRecorded ? undefined : ctx.records.unconfirmed();
  const pairs: SyncRecord[] = [];
  for (const a of p.actions) {
    if (a.kind !== 'skip' || a.reason !== 'identical' || !a.fingerprint || (open && !open.has(a.key))) continue;
    const l = ctx.local.get(a.path);
    if (l?.md5) pairs.push({ path: a.path, key: a.key, size: l.size, md5: l.md5, etag: a.fingerprint, ...(l.audioHash ? { audioHash: l.audioHash } : {}) });
  }
  // Pairs settled before planning get theirs inside SQLite, in one statement:
  // in a no-op none is open, after a first full listing of a big bucket all are.
  if (open && open.size > 0 && p.identical.length > 0) ctx.records.recordIdentical(MUSIC_PREFIX, [...ctx.local.keys()]);
  for (const want of pairs) {
    const k = ctx.records.get(want.path);
    if (k && k.key === want.key && k.md5 === want.md5 && k.etag === want.etag && (k.audioHash ?? want.audioHash) === want.audioHash) continue;
    ctx.records.put(want);
  }
}

/** Runs one transfer attempt-loop, taking back the progress of failed attempts. */
async function attempt<T>(action: Action, ctx: ExecContext, signal: AbortSignal, fn: (onProgress: (n: number) => void) => Promise<T>): Promise<T> {
  return withRetry(
    async () => {
      let moved = 0;
      try {
        return await fn((n) => {
          moved += n;
          ctx.events.emit({ type: 'action-progress', id: ctx.id, bytes: n });
        });
      } catch (err) {
        if (moved) ctx.events.emit({ type: 'action-progress', id: ctx.id, bytes: -moved });
        throw err;
      }
    },
    { signal, onRetry: (err, attempt, delayMs) => retrying(action, ctx, err, attempt, delayMs) },
  );
}

/**
 * Fresh files up to this size are read into memory once, to be hashed and sent
 * from the same bytes (within the run's memory budget); larger ones are hashed
 * in a streamed pass and streamed again to send.
 */
const SEND_FROM_MEMORY = 16 * 1024 * 1024;

/** What an upload attempt sends: the bytes (or the file to stream) and their MD5. */
interface Outgoing {
  body: PutBody;
  md5: string;
  /** What hashing a fresh file learnt (hashes and tags), when it was hashed now. */
  learnt?: FileRecord;
  release(): void;
}

/**
 * outgoing readies `file` for sending. A file whose MD5 is known (the index
 * vouches for it, or an earlier attempt hashed it: `learnt`) is streamed by
 * the remote against that MD5. A fresh one is hashed (and its tags read) now,
 * from the very bytes that will be sent when it is small enough to hold in
 * memory within the run's budget, and recorded in the index.
 */
async function outgoing(file: LocalFile, learnt: FileRecord | undefined, ctx: ExecContext, signal: AbortSignal): Promise<Outgoing> {
  const md5 = file.md5 ?? learnt?.md5;
  if (md5) return { body: { path: file.abs }, md5, release() {} };
  let data: Buffer | undefined;
  let release = () => {};
  try {
    if (file.size <= WHOLE_READ) {
      // Small files synchronously: cheaper than a thread-pool round trip.
      release = await ctx.buffers.budget.acquire(file.size, signal);
      data = readFileSync(file.abs);
    } else if (file.size <= SEND_FROM_MEMORY) {
      // Larger ones into a pooled buffer, in the thread pool so that the event
      // loop keeps feeding the transfers in flight. One byte of room tells a
      // file that grew since its stat; that one is streamed instead.
      const lease = await ctx.buffers.lease(file.size + 1, signal);
      release = lease.release;
      data = await readInto(file.abs, lease.buf);
      if (!data) release();
    }
  } catch (err) {
    release();
    throw err;
  }
  try {
    const rec = await describeFile(file, data, { coversDir: ctx.coversDir });
    await assertStill(file);
    ctx.index.put(rec);
    ctx.stats.hashed++;
    return { body: data ? { data } : { path: file.abs }, md5: rec.md5, learnt: rec, release };
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * assertStill throws FileError when `file` is no longer as the walk saw it:
 * it was being written while it was read, and what was read may be half of
 * it. The upload is abandoned, and the next run (the service's retry) sends
 * the file once it is still.
 */
async function assertStill(file: LocalFile): Promise<void> {
  let st;
  try {
    st = await stat(file.abs);
  } catch (err) {
    throw fileError(file.path, err);
  }
  if (statChanged(file, { size: st.size, mtimeMs: st.mtimeMs, inode: st.ino })) {
    throw new FileError(file.path, 'changed while it was read (still being written?): not sent; it is sent once it is still');
  }
}

/**
 * upload sends library file `a.path` to `a.key`. It also serves a copy-remote
 * the remote cannot make (its fallback) and the second half of a conflict,
 * which replaces the remote version (kept in remote trash first).
 */
async function upload(a: UploadAction | CopyRemoteAction | ConflictAction, ctx: ExecContext, signal: AbortSignal): Promise<void> {
  const replaces = a.kind === 'conflict' || (a.kind === 'upload' && a.replaces);
  const file = ctx.local.get(a.path);
  if (!file) throw new FileError(a.path, 'vanished before upload');
  let kept = false;
  // A key the plan found free is created only while it still is: another
  // writer may have stored it since (two machines pushing one path at once).
  let ifAbsent = !replaces;
  // What hashing a fresh file learnt stays with this upload (a retry need not
  // read the file again), not with the file: hashes and tags kept on every
  // file sent were a large share of the heap of a big initial push.
  let learnt: FileRecord | undefined;
  // Until the upload is confirmed the object's state is unknown: a failed one
  // may have left nothing, or the old version, so the mirror forgets it.
  ctx.mirror.remove(a.key);
  const res = await attempt(a, ctx, signal, async (onProgress) => {
    if (replaces && !kept) {
      await keepRemoteVersion(ctx.remote, ctx.stamp, a.key);
      kept = true;
    }
    const out = await outgoing(file, learnt, ctx, signal);
    learnt ??= out.learnt;
    if (signal.aborted) {
      // Stopped while the file was read: no new put starts.
      out.release();
      signal.throwIfAborted();
    }
    const put = () => ctx.remote.put(a.key, out.body, { expectMd5: out.md5, onProgress, signal, ...(ifAbsent ? { ifAbsent } : {}) });
    try {
      try {
        return await put();
      } catch (err) {
        if (!(err instanceof PreconditionError) || !ifAbsent) throw err;
        // Already there with this very content (this machine's own upload, whose
        // record a crash lost): nothing to send, nothing to keep aside.
        const there = await ctx.remote.stat(a.key).catch(() => undefined);
        if (there && parseEtag(there.etag).md5 === out.md5) return { size: there.size, md5: out.md5, ...(there.etag ? { etag: there.etag } : {}) };
        // Theirs goes to remote trash, as any version this run replaces; then ours is stored.
        await keepRemoteVersion(ctx.remote, ctx.stamp, a.key);
        ifAbsent = false;
        kept = true;
        ctx.report({ path: a.path, message: `another writer stored this path during the run; their version is kept in the remote trash (batch ${ctx.stamp})` });
        return await put();
      }
    } catch (err) {
      // A mismatch may mean the file changed since it was hashed: take it as
      // fresh again, so that the retry hashes and sends what is there now.
      if (err instanceof ChecksumError) {
        learnt = undefined;
        await refresh(file);
      }
      throw err;
    } finally {
      out.release();
    }
  });
  const stored = res.etag ? { key: a.key, size: res.size, etag: res.etag } : await ctx.remote.stat(a.key);
  const tags = recordStored(a, ctx, file, stored, res.md5, learnt);
  // The song is stored whatever becomes of its cover (ensure never rejects).
  if (tags?.cover && ctx.covers) await ctx.covers.ensure(tags.cover, a.path, signal);
}

/**
 * recordStored notes that the remote now holds `file`'s content at `a.key` (as
 * `stored` describes it, with MD5 `md5`): in the catalog, the mirror and the
 * sync records. `learnt` is what hashing the file during the upload found.
 * Returns the tags recorded with it.
 */
function recordStored(a: { path: string; key: string }, ctx: ExecContext, file: LocalFile, stored: RemoteObject, md5: string, learnt?: FileRecord): Tags | undefined {
  // The audio hash and tags go with the content they were read from: hashed
  // during the upload, before planning, or (tags) as the index has them.
  const known = learnt ?? file;
  const same = known.md5 === md5;
  const audioHash = same ? known.audioHash : undefined;
  const tags = !same ? undefined : learnt ? learnt.tags : ctx.index.get(a.path)?.tags;
  ctx.catalog.record({
    op: 'put',
    key: a.key,
    size: stored.size,
    md5,
    ...(stored.etag ? { etag: stored.etag } : {}),
    ...(audioHash ? { audioHash } : {}),
    ...(tags ? { tags } : {}),
    at: Date.now(),
  });
  if (stored.mtime) ctx.mirror.put({ ...ctx.mirror.get(a.key), ...stored, md5 });
  const etag = fingerprint(stored);
  ctx.records.put({ path: a.path, key: a.key, size: stored.size, md5, ...(etag ? { etag } : {}), ...(audioHash ? { audioHash } : {}) });
  return tags;
}

/**
 * copyRemote stores a file whose content the remote already holds by a
 * server-side copy of that object: no audio bytes are sent. A remote that
 * cannot copy (or a source that vanished) gets an upload instead.
 */
async function copyRemote(a: CopyRemoteAction, ctx: ExecContext, signal: AbortSignal): Promise<void> {
  const file = ctx.local.get(a.path);
  if (!file?.md5) throw new FileError(a.path, 'vanished before upload');
  if (!ctx.remote.copy) return upload(a, ctx, signal);
  const from = a.from;
  const copy = ctx.remote.copy.bind(ctx.remote);
  ctx.mirror.remove(a.key);
  let stored: RemoteObject;
  try {
    stored = await attempt(a, ctx, signal, () => copy(from, a.key, { size: file.size }));
  } catch (err) {
    // The source is gone: the mirror forgets it, and the file is uploaded instead.
    if (dropIfMissing(ctx.mirror, from, err)) return upload(a, ctx, signal);
    throw err;
  }
  // The source was the file's content by the catalog's word; the copy's ETag must agree where it can.
  const plain = parseEtag(stored.etag).md5;
  if (plain && plain !== file.md5) {
    await ctx.remote.delete(a.key).catch(() => {});
    throw new ChecksumError(`server-side copy of ${from} to ${a.key} has MD5 ${plain}, expected ${file.md5}; not kept`);
  }
  recordStored(a, ctx, file, stored, file.md5);
}

/**
 * copyLocal makes library file `a.path` from `a.from`, which holds the
 * remote's content already: a rename for move-local, a copy otherwise.
 * Nothing is downloaded and the hashes are the source's, so nothing is read.
 */
async function copyLocal(a: CopyLocalAction | MoveLocalAction, ctx: ExecContext): Promise<void> {
  const src = ctx.local.get(a.from);
  if (!src?.md5) throw new FileError(a.path, `source ${a.from} vanished`);
  const dest = join(ctx.root, ...a.path.split('/'));
  await mkdir(dirname(dest), { recursive: true });
  if (a.kind === 'move-local') {
    await rename(src.abs, dest);
    await pruneEmpty(dirname(src.abs), ctx.root);
  } else {
    const tmp = partName(dest);
    try {
      await copyFile(src.abs, tmp);
      await rename(tmp, dest);
    } finally {
      await rm(tmp, { force: true });
    }
  }
  const st = await stat(dest);
  const { tags, mediaV } = ctx.index.get(a.from) ?? {};
  ctx.index.put({ path: a.path, size: st.size, mtimeMs: st.mtimeMs, inode: st.ino, md5: src.md5, ...(src.audioHash ? { audioHash: src.audioHash } : {}), ...(tags ? { tags } : {}), ...(mediaV !== undefined ? { mediaV } : {}) });
  if (a.kind === 'move-local') {
    ctx.index.remove(a.from);
    ctx.records.remove(a.from);
  }
  ctx.records.put({ path: a.path, key: a.key, size: st.size, md5: src.md5, ...(a.fingerprint ? { etag: a.fingerprint } : {}), ...(src.audioHash ? { audioHash: src.audioHash } : {}) });
}

/**
 * conflict settles a file changed on both sides: the remote version is
 * downloaded beside the local one (at a free name from `a.conflictPath`),
 * then the local one is uploaded (the remote's old version going to remote
 * trash first). Neither version is lost.
 */
async function conflict(a: ConflictAction, ctx: ExecContext, signal: AbortSignal): Promise<void> {
  const side = await freePath(ctx.root, a.conflictPath);
  await download(a, ctx, signal, side);
  await upload(a, ctx, signal);
}

/** freePath returns `path`, or `<stem>-2<ext>`, `-3`… when a file is already there. */
async function freePath(root: string, path: string): Promise<string> {
  const dot = path.lastIndexOf('.');
  const cut = dot > path.lastIndexOf('/') + 1 ? dot : path.length;
  for (let n = 1; ; n++) {
    const p = n === 1 ? path : `${path.slice(0, cut)}-${n}${path.slice(cut)}`;
    try {
      await stat(join(root, ...p.split('/')));
    } catch {
      return p;
    }
  }
}

function partName(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.cratesync-${randomBytes(4).toString('hex')}.part`);
}

/** refresh forgets what was known of `file`'s content and takes its stat again. */
async function refresh(file: LocalFile): Promise<void> {
  const st = await stat(file.abs);
  Object.assign(file, { size: st.size, mtimeMs: st.mtimeMs, inode: st.ino, md5: undefined, audioHash: undefined, tags: undefined });
}

/**
 * download fetches `a.key` into the library at `a.path`, the old version going
 * to local trash when `a` replaces one. For a conflict it fetches the remote
 * version to `aside` instead, next to the local file, replacing nothing and
 * recording no sync (the upload that follows does).
 */
async function download(a: DownloadAction | ConflictAction, ctx: ExecContext, signal: AbortSignal, aside?: string): Promise<void> {
  const path = aside ?? a.path;
  const replaces = a.kind === 'download' && a.replaces;
  const existing = ctx.local.get(path);
  const dest = existing?.abs ?? join(ctx.root, ...path.split('/'));
  await mkdir(dirname(dest), { recursive: true });
  const tmp = partName(dest);
  try {
    const res = await attempt(a, ctx, signal, (onProgress) => ctx.remote.get(a.key, tmp, { ...(a.md5 ? { expectMd5: a.md5 } : {}), onProgress, signal })).catch(
      (err: unknown) => {
        // An object the catalog names but the remote does not hold: the next run must not try it again.
        dropIfMissing(ctx.mirror, a.key, err);
        throw err;
      },
    );
    if (replaces) await trashLocal(ctx.root, ctx.stamp, path, dest);
    await rename(tmp, dest);
    const st = await stat(dest);
    const rec = await describeFile({ path, abs: dest, size: st.size, mtimeMs: st.mtimeMs, inode: st.ino }, undefined, { coversDir: ctx.coversDir });
    ctx.index.put(rec);
    ctx.stats.hashed++;
    if (aside !== undefined) return;
    const etag = a.fingerprint ?? res.etag;
    ctx.records.put({ path: a.path, key: a.key, size: res.size, md5: res.md5, ...(etag ? { etag } : {}), ...(rec.audioHash ? { audioHash: rec.audioHash } : {}) });
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * moveToTrash moves what `a` names to its side's trash. The old key of a move
 * is deleted instead: its content stands, verified, at the new key, so a copy
 * in trash would only be a second one (and a request more per file).
 */
async function moveToTrash(a: TrashAction, ctx: ExecContext, signal: AbortSignal): Promise<void> {
  if (a.kind === 'trash-remote') {
    const gone = a.movedTo !== undefined ? () => ctx.remote.delete(a.key) : () => trashRemote(ctx.remote, ctx.stamp, a.key, a.remoteSize);
    await withRetry(gone, { signal, onRetry: (err, attempt, delayMs) => retrying(a, ctx, err, attempt, delayMs) });
    ctx.catalog.record({ op: 'del', key: a.key, at: Date.now() });
  } else {
    const l = ctx.local.get(a.path);
    if (l) await trashLocal(ctx.root, ctx.stamp, a.path, l.abs);
    ctx.index.remove(a.path);
  }
  ctx.records.remove(a.path);
}
