/**
 * Reconciling the mirror with a full listing of `music/`: the listing is the
 * truth about which objects exist, their size and ETag; the catalog only
 * adds what a listing cannot say (the MD5 of a multipart object, the audio
 * hash, tags, the writer).
 */
import type { Remote } from '../remote/remote.js';
import type { MirrorObject, RemoteMirror } from '../state/remote-mirror.js';
import type { PlaylistMirror, PlaylistObject } from '../state/remote-playlists.js';
import { parseEtag } from '../core/etag.js';
import { MUSIC_PREFIX, PLAYLISTS_PREFIX } from './layout.js';
import { LOG_WINDOW_MS } from './catalog-fold.js';

/**
 * reconcile lists `music/` in full and makes the mirror match it. Objects
 * the listing shows unchanged (same size, and same ETag, or same mtime where
 * there are no ETags) keep what the catalog knows, unless the catalog's MD5
 * contradicts a plain (single-part) ETag: then the ETag's MD5 is taken and
 * the rest of the catalog's word dropped. Changed or unknown objects are
 * taken as listed. Mirrored objects the listing lacks are dropped; only a
 * periodic listing (`full` false) keeps those cratesync wrote within
 * LOG_WINDOW_MS, whose log may have raced the listing. With `full` the
 * listing is the whole truth.
 */
export async function reconcile(remote: Remote, mirror: RemoteMirror, o: { now: number; full: boolean; signal?: AbortSignal }): Promise<void> {
  const listed: MirrorObject[] = [];
  for await (const obj of remote.list(MUSIC_PREFIX, o.signal ? { signal: o.signal } : {})) listed.push(obj);
  const rows = new Map<string, MirrorObject>();
  for (const r of mirror.listed()) rows.set(r.key, r);
  mirror.batch(() => {
    for (const l of listed) {
      const r = rows.get(l.key);
      rows.delete(l.key);
      // A plain ETag is the content's MD5: the mirror knows it from now on.
      const plain = parseEtag(l.etag).md5;
      const same = r && r.size === l.size && (r.etag && l.etag ? r.etag === l.etag : !r.mtime || !l.mtime || r.mtime.getTime() === l.mtime.getTime());
      const honest = !plain || !r?.md5 || r.md5 === plain;
      if (same && honest) mirror.touchNow(l.key, l.etag, l.mtime);
      else mirror.putNow(plain ? { ...l, md5: plain } : l);
    }
    for (const r of rows.values()) {
      if (o.full || r.writtenAt === undefined || r.writtenAt < o.now - LOG_WINDOW_MS) mirror.removeNow(r.key);
    }
  });
  mirror.setState({ listedAt: o.now });
}

/**
 * reconcilePlaylists does for `playlists/` what reconcile does for `music/`,
 * into the playlist mirror: objects written by other tools are taken as
 * listed (no metadata); unchanged ones keep what the catalog says.
 */
export async function reconcilePlaylists(remote: Remote, playlists: PlaylistMirror, o: { now: number; full: boolean; signal?: AbortSignal }): Promise<void> {
  const listed: PlaylistObject[] = [];
  for await (const obj of remote.list(PLAYLISTS_PREFIX, o.signal ? { signal: o.signal } : {})) listed.push(obj);
  const rows = new Map<string, PlaylistObject>();
  for (const r of playlists.all()) rows.set(r.key, r);
  playlists.batch(() => {
    for (const l of listed) {
      const r = rows.get(l.key);
      rows.delete(l.key);
      const plain = parseEtag(l.etag).md5;
      const same = r && r.size === l.size && (r.etag && l.etag ? r.etag === l.etag : !r.mtime || !l.mtime || r.mtime.getTime() === l.mtime.getTime());
      const honest = !plain || !r?.md5 || r.md5 === plain;
      if (same && honest) playlists.touch(l.key, l.etag, l.mtime);
      else playlists.put({ key: l.key, size: l.size, ...(l.etag ? { etag: l.etag } : {}), ...(l.mtime ? { mtime: l.mtime } : {}), ...(plain ? { md5: plain } : {}) });
    }
    for (const r of rows.values()) {
      if (o.full || r.writtenAt === undefined || r.writtenAt < o.now - LOG_WINDOW_MS) playlists.remove(r.key);
    }
  });
}
