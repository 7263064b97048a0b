/**
 * Catalog snapshots: the log only grows, so now and then a writer folds it
 * into ONE object, `.cratesync/catalog/snap/<stamp>-<machine>-<random>.json.gz`,
 * holding the whole catalog as of one log key (the newest log it covers,
 * whose time is the stamp). A machine with no cursor reads the newest valid
 * snapshot and then only the logs after what it covers (minus the
 * late-landing window), instead of every log ever written.
 *
 * Safe with many writers and no conditional writes: a snapshot is a new
 * object under a key of its writer's own (never rewritten); two writers
 * snapshotting at once only make two snapshots, and readers take the newest
 * that is valid (a forged or broken one is reported and the next tried).
 * Logs are never deleted by a run, only by `cratesync catalog compact`, and
 * only those older than the newest valid snapshot by more than the window.
 */
import type { Remote } from '../remote/remote.js';
import type { MirrorObject, RemoteMirror } from '../state/remote-mirror.js';
import type { CatalogState } from '../state/catalog-state.js';
import type { PlaylistMirror, PlaylistObject } from '../state/remote-playlists.js';
import type { Problem } from '../core/problem.js';
import type { SnapshotDoc, SnapshotEntry } from './catalog-codec.js';
import {
  decodeSnapshot,
  loadCodec,
  encodeSnapshotPaged,
  LOG_PREFIX,
  logStamp,
  logTime,
  MAX_LOG_ENTRIES,
  SNAP_PREFIX,
  snapshotKey,
} from './catalog-codec.js';
import { entryObject, foldPlaylistPut, foldPut, LOG_WINDOW_MS, MAX_CLOCK_SKEW_MS, playlistEntryObject } from './catalog-fold.js';
import { describe } from '../errors.js';

/**
 * A writer that has folded in this many logs since the newest snapshot it
 * knows writes a new one. Reading a log costs a request (a few at once);
 * writing a snapshot costs the whole catalog once. At this count a machine
 * joining reads only a few seconds' worth of logs after the snapshot, and the
 * snapshot's cost is spread over as many runs.
 */
export const SNAPSHOT_EVERY_LOGS = 200;

/** Mirror rows read (and gzipped) at a time while a snapshot is written. */
const SNAPSHOT_PAGE = 2000;

/** A snapshot read and checked. */
export interface LoadedSnapshot {
  key: string;
  doc: SnapshotDoc;
}

/** listSnapshots lists the snapshot keys, newest (covering the latest log) first. */
export async function listSnapshots(remote: Remote, signal?: AbortSignal): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of remote.list(SNAP_PREFIX, signal ? { signal } : {})) {
    if (o.key.endsWith('.json.gz') && !o.key.slice(SNAP_PREFIX.length).includes('/') && logTime(o.key) !== undefined) keys.push(o.key);
  }
  return keys.sort().reverse();
}

/**
 * readNewestSnapshot reads the newest valid snapshot among `keys` (newest
 * first) that covers a log after `after` (any, without it). One that cannot
 * be read, is out of shape, too big, or dated in the future is reported in
 * `problems` and the next-newest is tried. Undefined when none serves.
 */
export async function readNewestSnapshot(
  remote: Remote,
  keys: readonly string[],
  o: { problems: Problem[]; now: number; after?: string; signal?: AbortSignal },
): Promise<LoadedSnapshot | undefined> {
  const floor = o.after ? logTime(o.after) : undefined;
  for (const key of keys) {
    const t = logTime(key) ?? 0;
    if (floor !== undefined && t < floor) return undefined;
    if (t > o.now + MAX_CLOCK_SKEW_MS) {
      o.problems.push({ path: key, message: `catalog snapshot dated ${new Date(t).toISOString()}, in the future: ignored` });
      continue;
    }
    try {
      const buf = await remote.read(key, o.signal ? { signal: o.signal } : {});
      await loadCodec();
      const doc = decodeSnapshot(buf, key);
      if (o.after && doc.covers <= o.after) return undefined;
      return { key, doc };
    } catch (err) {
      if (o.signal?.aborted) throw err;
      o.problems.push({ path: key, message: describe(err) });
    }
  }
  return undefined;
}

/**
 * foldSnapshot makes the mirror hold what snapshot `s` says, as the logs it
 * covers would have: its entries are folded in (an entry loses to a row a
 * later log set), rows set by logs it covers that it lacks are dropped (those
 * objects were deleted), the logs it names as folded in are marked read, and
 * the cursor moves up to the log it covers. Entries dated in the future are
 * dropped, with one problem for the snapshot. Its playlists go to
 * `playlists` by the same rules.
 */
export function foldSnapshot(
  mirror: RemoteMirror,
  playlists: PlaylistMirror,
  state: CatalogState,
  s: LoadedSnapshot,
  o: { problems: Problem[]; now: number },
): void {
  const { doc } = s;
  const windowStart = `${LOG_PREFIX}${logStamp(Math.max(0, (logTime(doc.covers) ?? 0) - LOG_WINDOW_MS))}`;
  const named = new Set(doc.logs);
  let future = 0;
  mirror.batch(() => {
    const held = new Set<string>();
    for (const e of doc.entries) {
      if (e.at > o.now + MAX_CLOCK_SKEW_MS) {
        future++;
        continue;
      }
      held.add(e.key);
      foldPut(mirror, { ...entryObject(e, e.writer, e.log), writtenAt: e.at, logKey: e.log });
    }
    // A row a covered log set (not one of a log that may have landed after
    // the snapshot's writer looked) that the snapshot lacks is gone.
    const gone: string[] = [];
    for (const r of mirror.logged(doc.covers)) {
      if (held.has(r.key) || !r.logKey) continue;
      if (r.logKey < windowStart || named.has(r.logKey)) gone.push(r.key);
    }
    for (const key of gone) mirror.removeNow(key);
    const heldLists = new Set<string>();
    for (const e of doc.playlists ?? []) {
      if (e.at > o.now + MAX_CLOCK_SKEW_MS) {
        future++;
        continue;
      }
      heldLists.add(e.key);
      foldPlaylistPut(playlists, { ...playlistEntryObject(e, e.writer, e.log), writtenAt: e.at, logKey: e.log });
    }
    for (const r of playlists.logged(doc.covers)) {
      if (heldLists.has(r.key) || !r.logKey) continue;
      if (r.logKey < windowStart || named.has(r.logKey)) playlists.remove(r.key);
    }
    for (const l of doc.logs) state.markSeen(l);
    state.markSeen(s.key);
  });
  const cursor = mirror.state().logCursor;
  if (!cursor || doc.covers > cursor) mirror.setState({ logCursor: doc.covers });
  if (future > 0) o.problems.push({ path: s.key, message: `${future} catalog entries dated in the future: ignored` });
}

/**
 * snapshotDue says whether this machine has folded in SNAPSHOT_EVERY_LOGS
 * logs or more since the newest snapshot it knows of (by the local state:
 * no request).
 */
export function snapshotDue(state: CatalogState): boolean {
  const known = state.newestSeen(SNAP_PREFIX);
  const t = known ? logTime(known) : undefined;
  const since = t === undefined ? LOG_PREFIX : `${LOG_PREFIX}${logStamp(t)}`;
  return state.seenAfterKey(since, `${LOG_PREFIX}\uffff`) >= SNAPSHOT_EVERY_LOGS;
}

/**
 * learnSnapshots notes the snapshots now on the remote (dated no later than
 * the clock allows) as known, so that snapshotDue counts from the newest.
 */
export function learnSnapshots(state: CatalogState, keys: readonly string[], now: number): void {
  state.transaction(() => {
    for (const k of keys) if ((logTime(k) ?? Infinity) <= now + MAX_CLOCK_SKEW_MS) state.markSeen(k);
  });
}

/**
 * writeSnapshot writes the mirror's catalog knowledge (every row a log set,
 * up to the mirror's cursor) as a new snapshot covering the cursor, and
 * returns its key and size in objects; undefined when there is no cursor
 * (nothing folded yet). Throws what the remote throws.
 */
export async function writeSnapshot(
  remote: Remote,
  mirror: RemoteMirror,
  playlists: PlaylistMirror,
  state: CatalogState,
  who: { writer: string; machine: string },
): Promise<{ key: string; objects: number } | undefined> {
  const covers = mirror.state().logCursor;
  const t = covers ? logTime(covers) : undefined;
  if (!covers || t === undefined) return undefined;
  const logs = state.seenKeys(`${LOG_PREFIX}${logStamp(Math.max(0, t - LOG_WINDOW_MS))}`, covers, MAX_LOG_ENTRIES);
  let objects = 0;
  let after = '';
  // Playlists are few: they go whole in the head, in a field a music-only reader ignores.
  const lists = playlists.logged(covers).flatMap((r) => playlistSnapshotEntry(r) ?? []);
  const head = { v: 1 as const, kind: 'snapshot' as const, writer: who.writer, covers, logs, ...(lists.length > 0 ? { playlists: lists } : {}) };
  const data = await encodeSnapshotPaged(head, () => {
    for (;;) {
      const rows = mirror.loggedPage(covers, after, SNAPSHOT_PAGE);
      if (rows.length === 0) return [];
      after = rows[rows.length - 1]!.key;
      const page = rows.flatMap((r) => snapshotEntry(r) ?? []);
      objects += page.length;
      if (page.length > 0) return page;
    }
  });
  if (!data) return undefined;
  const key = snapshotKey(covers, who.machine);
  await remote.put(key, { data });
  state.markSeen(key);
  return { key, objects };
}

/** snapshotEntry is what a snapshot holds of a mirror row a log set; undefined for one it cannot (no writer or time). */
function snapshotEntry(r: MirrorObject): SnapshotEntry | undefined {
  if (!r.logKey || r.writer === undefined || r.writtenAt === undefined) return undefined;
  const e: SnapshotEntry = { key: r.key, size: r.size, at: r.writtenAt, writer: r.writer, log: r.logKey };
  if (r.md5) e.md5 = r.md5;
  if (r.etag) e.etag = r.etag;
  if (r.audioHash) e.audioHash = r.audioHash;
  if (r.tags) e.tags = r.tags;
  if (r.player) e.player = r.player;
  return e;
}

/** What a snapshot holds of a playlist row a log set (see snapshotEntry). */
function playlistSnapshotEntry(r: PlaylistObject): SnapshotEntry | undefined {
  if (!r.logKey || r.writer === undefined || r.writtenAt === undefined) return undefined;
  const e: SnapshotEntry = { key: r.key, size: r.size, at: r.writtenAt, writer: r.writer, log: r.logKey };
  if (r.md5) e.md5 = r.md5;
  if (r.etag) e.etag = r.etag;
  if (r.playlist) e.playlist = r.playlist;
  return e;
}
