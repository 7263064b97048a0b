/**
 * `cratesync catalog compact`: fold the whole catalog as a machine joining
 * would (newest valid snapshot, then the logs after it), write a snapshot
 * when logs came after the newest one, then remove what that snapshot makes
 * redundant: the logs older than the log it covers by more than the
 * late-landing window (their entries are in it), and the snapshots older
 * than the newest two. Never loses an entry: logs are removed only after a
 * snapshot holding them is on the remote and reads back valid.
 */
import type { Remote } from '../remote/remote.js';
import type { Db } from '../state/state-db.js';
import type { Problem } from '../core/problem.js';
import { CatalogState } from '../state/catalog-state.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { PlaylistMirror } from '../state/remote-playlists.js';
import { logTime } from './catalog-codec.js';
import { LOG_WINDOW_MS } from './catalog-fold.js';
import { listLogs, readLogs } from './catalog-reader.js';
import { foldSnapshot, learnSnapshots, listSnapshots, readNewestSnapshot, writeSnapshot, type LoadedSnapshot } from './catalog-snapshots.js';
import { forEachLimit } from '../core/concurrency.js';

export interface CompactResult {
  /** The snapshot the logs were removed against. */
  snapshot?: string;
  /** True when this run wrote it. */
  wrote: boolean;
  /** Objects the snapshot holds. */
  objects: number;
  /** Logs read to fold the catalog (after the newest snapshot). */
  logsRead: number;
  logsRemoved: string[];
  snapshotsRemoved: string[];
  /** Logs kept (newer than the snapshot, or within the window before it). */
  logsKept: number;
}

/**
 * compactCatalog compacts the catalog of `remote` as described at the top.
 * `db` is a scratch state database (`:memory:`): the fold must not mix with
 * any library's mirror. Unreadable catalog objects are reported in
 * `problems`. Throws what the remote throws.
 */
export async function compactCatalog(
  remote: Remote,
  db: Db,
  o: { writer: string; machine: string; problems: Problem[]; now?: number; signal?: AbortSignal },
): Promise<CompactResult> {
  const now = o.now ?? Date.now();
  const signal = o.signal;
  const mirror = new RemoteMirror(db, remote.url);
  const state = new CatalogState(db, remote.url);
  const playlists = new PlaylistMirror(db, remote.url);
  const read = { problems: o.problems, now, ...(signal ? { signal } : {}) };
  const snaps = await listSnapshots(remote, signal);
  learnSnapshots(state, snaps, now);
  let newest: LoadedSnapshot | undefined = await readNewestSnapshot(remote, snaps, read);
  if (newest) foldSnapshot(mirror, playlists, state, newest, read);
  const after = await listLogs(remote, mirror.state().logCursor, signal);
  const logsRead = await readLogs(after, { remote, mirror, playlists, state, ...read });
  const result: CompactResult = { wrote: false, objects: 0, logsRead, logsRemoved: [], snapshotsRemoved: [], logsKept: 0 };

  const cursor = mirror.state().logCursor;
  if (cursor && (!newest || cursor > newest.doc.covers)) {
    const written = await writeSnapshot(remote, mirror, playlists, state, o);
    if (written) {
      // Read back as any reader would: logs go only once a valid snapshot holds them.
      newest = await readNewestSnapshot(remote, [written.key], read);
      result.wrote = newest !== undefined;
    }
  }
  if (!newest) return result;
  result.snapshot = newest.key;
  result.objects = newest.doc.entries.length;

  const before = (logTime(newest.doc.covers) ?? 0) - LOG_WINDOW_MS;
  const all = await listLogs(remote, undefined, signal);
  const doomed = all.filter((l) => l.key < newest.doc.covers && (logTime(l.key) ?? Infinity) < before).map((l) => l.key);
  result.logsKept = all.length - doomed.length;
  await forEachLimit(doomed, 8, async (key) => {
    await remote.delete(key);
    result.logsRemoved.push(key);
  }, signal);
  result.logsRemoved.sort();

  // Snapshots: keep the one logs were removed against and the one before it.
  const keys = (await listSnapshots(remote, signal)).filter((k) => k <= newest.key);
  const old = keys.slice(2);
  await forEachLimit(old, 8, async (key) => {
    await remote.delete(key);
    result.snapshotsRemoved.push(key);
  }, signal);
  result.snapshotsRemoved.sort();
  return result;
}
