/**
 * Playlists down from the remote: every `playlists/<user>/<name>.m3u8` that
 * another machine published (this machine's own are skipped, by writer) is
 * written into the library as `<library>/Playlists/<user>/<name>.m3u8`, with
 * its paths made relative to that file (the tracks are at `<library>/<path>`).
 *
 * The objects come from a shared bucket and are untrusted: each is bounded
 * in size (MAX_PLAYLIST_BYTES, by the server's word before it is read),
 * must be UTF-8, and each entry must be a plain library path — no `..`, no
 * absolute path or URL, no control character, no backslash. An entry that is
 * not is left out with a problem naming the playlist and line; the rest of
 * the playlist is kept. A playlist that cannot be used whole leaves the
 * library's file as it was.
 */
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import type { Remote } from '../remote/remote.js';
import type { Db } from '../state/state-db.js';
import type { Problem } from '../core/problem.js';
import type { RemoteCatalog } from '../sync/catalog.js';
import type { PlaylistObject } from '../state/remote-playlists.js';
import { PulledPlaylists } from '../state/remote-playlists.js';
import { parseM3u8 } from '../core/m3u8.js';
import { playlistFilePath, writePlaylist, type PlaylistTrack } from './playlist-files.js';
import { PLAYLISTS_PREFIX, trashStamp } from '../sync/layout.js';
import { trashLocal } from '../sync/trash.js';
import { forEachLimit } from '../core/concurrency.js';
import { describe } from '../errors.js';

/** The largest playlist object read: a playlist of 10,000 tracks with long paths is about 2 MB. */
export const MAX_PLAYLIST_BYTES = 8 * 1024 * 1024;
/** Playlists fetched at once. */
const READ_AHEAD = 8;
/** The longest path an entry may have (bytes of UTF-16 text; no file system takes longer). */
const MAX_ENTRY_PATH = 4096;

export interface PullPlaylistsContext {
  remote: Remote;
  /** The catalog of `remote`, refreshed (its playlist mirror says what there is). */
  catalog: RemoteCatalog;
  /** The library's state database (which files a pull wrote, so that a playlist removed on the remote is removed here). */
  db: Db;
  /** The library root. */
  root: string;
  /** This machine's `user@machine`: the playlists it published itself are not pulled back. */
  self: string;
}

export interface PulledCount {
  written: number;
  unchanged: number;
  /** Files of playlists removed on the remote, moved to the local trash. */
  removed: number;
}

/**
 * pullPlaylists writes every playlist of the catalog's playlist mirror that
 * another writer published into the library (see the top), and moves to the
 * local trash the files it wrote earlier whose playlist is gone from the
 * remote. Problems with one playlist or entry go to `problems`; the others
 * are pulled all the same. Throws only when the signal aborts.
 */
export async function pullPlaylists(ctx: PullPlaylistsContext, problems: Problem[], signal?: AbortSignal): Promise<PulledCount> {
  const pulled = new PulledPlaylists(ctx.db, ctx.remote.url);
  const count: PulledCount = { written: 0, unchanged: 0, removed: 0 };
  /** Library file → the key it is for, for every playlist on the remote (pulled or not). */
  const claimed = new Map<string, string>();
  const todo: Array<{ o: PlaylistObject; file: string }> = [];
  for (const o of ctx.catalog.playlists.all()) {
    const file = libraryFile(o.key);
    if (!file) {
      problems.push({ path: o.key, message: 'not a playlist in a user folder (playlists/<user>/<name>.m3u8): not pulled' });
      continue;
    }
    const other = claimed.get(file);
    if (other !== undefined) {
      problems.push({ path: o.key, message: `has the same file name here as ${other} (${file}): not pulled` });
      continue;
    }
    claimed.set(file, o.key);
    if (o.writer !== ctx.self) todo.push({ o, file });
  }
  const before = new Map(pulled.all().map((p) => [p.file, p]));
  await forEachLimit(
    todo,
    READ_AHEAD,
    async ({ o, file }) => {
      // Written from this very version before, and still there: nothing to read.
      const version = versionOf(o);
      const last = before.get(file);
      if (version !== undefined && last?.key === o.key && last.version === version && (await exists(join(ctx.root, ...file.split('/'))))) {
        count.unchanged++;
        return;
      }
      const written = await pullOne(ctx, pulled, o, file, problems, signal);
      if (written !== undefined) count[written ? 'written' : 'unchanged']++;
    },
    signal,
  );
  const stamp = trashStamp();
  for (const file of before.keys()) {
    if (claimed.has(file)) continue;
    try {
      if (await trashLocal(ctx.root, stamp, file, join(ctx.root, ...file.split('/')))) count.removed++;
      pulled.forget(file);
    } catch (err) {
      problems.push({ path: file, message: `playlist removed on the remote, but not moved to the trash here: ${describe(err)}` });
    }
  }
  return count;
}

/**
 * pullPlaylist writes playlist object `o` (of the catalog's playlist mirror)
 * into the library as {@link pullPlaylists} does, whoever wrote it: for a
 * pull of one playlist asked for by name (the dashboard's crew). Returns
 * whether the file changed; undefined (with problems) when the playlist could
 * not be used or written. Throws only when the signal aborts.
 */
export async function pullPlaylist(ctx: Omit<PullPlaylistsContext, 'self'>, o: PlaylistObject, problems: Problem[], signal?: AbortSignal): Promise<boolean | undefined> {
  const file = libraryFile(o.key);
  if (!file) {
    problems.push({ path: o.key, message: 'not a playlist in a user folder (playlists/<user>/<name>.m3u8): not pulled' });
    return undefined;
  }
  return pullOne(ctx, new PulledPlaylists(ctx.db, ctx.remote.url), o, file, problems, signal);
}

/** pullOne reads one playlist object and writes it as library file `file`, noting it; see pullPlaylist. */
async function pullOne(ctx: Omit<PullPlaylistsContext, 'self'>, pulled: PulledPlaylists, o: PlaylistObject, file: string, problems: Problem[], signal?: AbortSignal): Promise<boolean | undefined> {
  const entries = await readPlaylist(ctx.remote, o.key, problems, signal);
  if (!entries) return undefined;
  const tracks = entries.map(({ path, ...rest }) => ({ abs: join(ctx.root, ...path.split('/')), ...rest }));
  try {
    const written = await writePlaylist(ctx.root, file, tracks);
    pulled.note({ file, key: o.key, version: versionOf(o) ?? '' });
    return written;
  } catch (err) {
    problems.push({ path: file, message: `playlist not written: ${describe(err)}` });
    return undefined;
  }
}

/**
 * versionOf names what the mirror knows of an object's content (a file
 * written from the same version need not be read again); undefined when it
 * knows nothing that tells versions apart.
 */
export function versionOf(o: PlaylistObject): string | undefined {
  if (!o.etag && !o.md5 && !o.mtime) return undefined;
  return `${o.size}:${o.etag ?? ''}:${o.md5 ?? ''}:${o.mtime?.getTime() ?? ''}`;
}

async function exists(abs: string): Promise<boolean> {
  return stat(abs).then(
    () => true,
    () => false,
  );
}

/**
 * libraryFile is the library path of the M3U8 of playlist object `key`
 * (playlists/<user>/<name>.m3u8 → Playlists/<user>/<name>.m3u8, each
 * component made a safe file name); undefined for a key of no user folder.
 */
export function libraryFile(key: string): string | undefined {
  if (!key.startsWith(PLAYLISTS_PREFIX) || !key.endsWith('.m3u8')) return undefined;
  const parts = key.slice(PLAYLISTS_PREFIX.length, -'.m3u8'.length).split('/');
  const [user, ...name] = parts;
  if (!user || name.length === 0 || name.some((p) => p === '')) return undefined;
  return playlistFilePath(user, name.join('/'));
}

/** An entry of a playlist read from the remote: a checked library path and what the M3U8 says of it. */
export type PlaylistEntry = Omit<PlaylistTrack, 'abs'> & { path: string };

/**
 * readPlaylist reads and checks playlist object `key` (see the top): its
 * entries, those that are no library path left out with a problem; undefined
 * (with a problem) when the playlist cannot be used at all. Throws only when
 * the signal aborts.
 */
export async function readPlaylist(remote: Remote, key: string, problems: Problem[], signal?: AbortSignal): Promise<PlaylistEntry[] | undefined> {
  let buf: Buffer;
  try {
    // The server's size, not the catalog's (which anyone may write), bounds what is read.
    const { size } = await remote.stat(key);
    if (size > MAX_PLAYLIST_BYTES) {
      problems.push({ path: key, message: `playlist of ${size} bytes, more than the ${MAX_PLAYLIST_BYTES / 1048576} MiB allowed: not pulled` });
      return undefined;
    }
    buf = await remote.read(key, signal ? { signal } : {});
    if (buf.length > MAX_PLAYLIST_BYTES) {
      problems.push({ path: key, message: `playlist of ${buf.length} bytes, more than the ${MAX_PLAYLIST_BYTES / 1048576} MiB allowed: not pulled` });
      return undefined;
    }
  } catch (err) {
    signal?.throwIfAborted();
    problems.push({ path: key, message: `playlist not pulled: ${describe(err)}` });
    return undefined;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    problems.push({ path: key, message: 'playlist not pulled: not UTF-8 text' });
    return undefined;
  }
  const tracks: PlaylistEntry[] = [];
  for (const e of parseM3u8(text)) {
    const path = e.path.normalize('NFC');
    const why = entryProblem(path);
    if (why) {
      problems.push({ path: key, message: `line ${e.line}: ${why}; entry left out` });
      continue;
    }
    tracks.push({
      path,
      ...(e.durationSec !== undefined ? { durationSec: e.durationSec } : {}),
      ...(e.artist !== undefined ? { artist: e.artist } : {}),
      ...(e.title !== undefined ? { title: e.title } : {}),
    });
  }
  return tracks;
}

/**
 * entryProblem says why an entry's path is not a library path (relative to
 * `music/`, '/'-separated, staying inside it), or undefined when it is.
 */
export function entryProblem(path: string): string | undefined {
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'a control character in the path';
  if (path.length > MAX_ENTRY_PATH) return 'a path too long';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return `an absolute path (${printablePath(path)})`;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(path)) return `a URL, not a path (${printablePath(path)})`;
  if (path.includes('\\')) return `a '\\' in the path (paths are '/'-separated): ${printablePath(path)}`;
  if (path.split('/').some((p) => p === '..' || p === '.' || p === '')) return `a path that does not stay inside music/ (${printablePath(path)})`;
  return undefined;
}

/** A path as a message shows it: shortened (it may be long) and printable. */
function printablePath(path: string): string {
  return JSON.stringify(path.length > 200 ? `${path.slice(0, 200)}…` : path);
}
