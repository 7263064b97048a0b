/**
 * Playlists up to the remote: each an M3U8 object `playlists/<user>/<name>.m3u8`
 * (paths relative to `music/`, '/'-separated), with what it is (source
 * player, smart or not, order, size) in the catalog entry of its put. A
 * rename puts the new object and moves the old one to the remote trash; a
 * delete moves it there too; `cratesync trash restore` puts either back.
 *
 * What is recorded goes to the catalog's log with its next publish (the run
 * that calls these publishes at its end, as for files).
 */
import { createHash } from 'node:crypto';
import type { Remote } from '../remote/remote.js';
import type { PlaylistMirror } from '../state/remote-playlists.js';
import type { RemoteCatalog } from './catalog.js';
import type { PlaylistMeta } from '../core/playlist-meta.js';
import type { M3uEntry } from '../core/m3u8.js';
import { renderM3u8 } from '../core/m3u8.js';
import { fileName } from '../library/names.js';
import { NotFoundError } from '../errors.js';
import { PLAYLISTS_PREFIX, trashStamp } from './layout.js';
import { trashRemote } from './trash.js';
import { withRetry } from '../core/retry.js';

export interface PlaylistContext {
  remote: Remote;
  catalog: RemoteCatalog;
  /** The user whose folder the playlists go to (`alice`). */
  user: string;
}

export interface PlaylistUp {
  /** Its name as the player shows it, folders joined with '/' (`Sets/Peak Time`). */
  name: string;
  player: string;
  smart: boolean;
  position?: number;
  /** Paths relative to `music/`, '/'-separated. */
  entries: M3uEntry[];
}

/**
 * playlistKey is the remote key of playlist `name` of `user`: each folder
 * and the name made a safe file name (share/playlist-files.ts fileName), so
 * a name can never climb out of the user's folder.
 */
export function playlistKey(user: string, name: string): string {
  return `${PLAYLISTS_PREFIX}${fileName(user)}/${name.split('/').map(fileName).join('/')}.m3u8`;
}

/**
 * putPlaylist renders `p` as M3U8 and stores it at playlistKey(user, p.name)
 * when its content differs from what the catalog says is there (by MD5),
 * recording the put with its metadata; when only the metadata changed, only
 * the entry is recorded. With `previousName` naming another key, that object
 * is then moved to the remote trash and its del recorded (a rename). Returns
 * the key and whether anything was sent or recorded. Throws FileError for an
 * entry whose path no M3U8 line can hold; what the remote throws.
 */
export async function putPlaylist(ctx: PlaylistContext, p: PlaylistUp, previousName?: string): Promise<{ key: string; changed: boolean }> {
  const key = playlistKey(ctx.user, p.name);
  const data = Buffer.from(renderM3u8(p.entries), 'utf8');
  const md5 = createHash('md5').update(data).digest('hex');
  const meta: PlaylistMeta = { player: p.player, smart: p.smart, name: p.name, tracks: p.entries.length, ...(p.position !== undefined ? { position: p.position } : {}) };
  const known = ctx.catalog.playlists.get(key);
  let changed = false;
  if (known?.md5 !== md5) {
    // A playlist is sent whole from memory: a reset connection is simply tried again.
    const r = await withRetry(() => ctx.remote.put(key, { data }, { expectMd5: md5 }));
    ctx.catalog.record({ op: 'put', key, size: r.size, md5: r.md5, ...(r.etag ? { etag: r.etag } : {}), playlist: meta, at: Date.now() });
    changed = true;
  } else if (!sameMeta(known.playlist, meta)) {
    ctx.catalog.record({ op: 'put', key, size: known.size, md5, ...(known.etag ? { etag: known.etag } : {}), playlist: meta, at: Date.now() });
    changed = true;
  }
  if (previousName !== undefined && previousName !== p.name) {
    const old = playlistKey(ctx.user, previousName);
    if (old !== key && (await trashPlaylist(ctx, old))) changed = true;
  }
  return { key, changed };
}

/**
 * removePlaylist moves playlist `name` of the context's user to the remote
 * trash and records its del. Returns false when there was no such object.
 */
export async function removePlaylist(ctx: PlaylistContext, name: string): Promise<boolean> {
  return trashPlaylist(ctx, playlistKey(ctx.user, name));
}

async function trashPlaylist(ctx: PlaylistContext, key: string): Promise<boolean> {
  let size = ctx.catalog.playlists.get(key)?.size;
  if (size === undefined) {
    try {
      size = (await withRetry(() => ctx.remote.stat(key))).size;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }
  const stamp = trashStamp();
  await withRetry(() => trashRemote(ctx.remote, stamp, key, size));
  ctx.catalog.record({ op: 'del', key, at: Date.now() });
  return true;
}

/** A playlist as `cratesync playlists` shows it. */
export interface PlaylistInfo {
  key: string;
  user: string;
  /** As the player shows it; from the key when the catalog does not say (another tool wrote it). */
  name: string;
  player?: string;
  smart?: boolean;
  tracks?: number;
  /** Who wrote it (`user@machine`), when the catalog says. */
  writer?: string;
  /** When it was written (ms since the epoch), when known. */
  when?: number;
}

/**
 * listPlaylists lists the playlists the mirror knows (refresh the catalog
 * first), of `user` only when given, by key.
 */
export function listPlaylists(from: RemoteCatalog | PlaylistMirror, user?: string): PlaylistInfo[] {
  const mirror = 'playlists' in from ? from.playlists : from;
  const out: PlaylistInfo[] = [];
  for (const o of mirror.all()) {
    const rest = o.key.slice(PLAYLISTS_PREFIX.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) continue;
    const owner = rest.slice(0, slash);
    if (user !== undefined && owner !== fileName(user)) continue;
    const m = o.playlist;
    const when = o.writtenAt ?? o.mtime?.getTime();
    out.push({
      key: o.key,
      user: owner,
      name: m?.name ?? rest.slice(slash + 1).replace(/\.m3u8$/, ''),
      ...(m ? { player: m.player, smart: m.smart, tracks: m.tracks } : {}),
      ...(o.writer ? { writer: o.writer } : {}),
      ...(when !== undefined ? { when } : {}),
    });
  }
  return out;
}

function sameMeta(a: PlaylistMeta | undefined, b: PlaylistMeta): boolean {
  return a !== undefined && a.player === b.player && a.smart === b.smart && a.name === b.name && a.position === b.position && a.tracks === b.tracks;
}
