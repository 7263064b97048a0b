/**
 * Reconciling the mirror with a full listing of `music/`: the listing is the
 * truth about which objects exist, their size and ETag; the catalog only
 * adds what a listing cannot say (the MD5 of a multipart object, the audio
 * hash, tags, the writer).
 */
import type { Remote } from '../remote/remote.js';
import type { MirrorObject, RemoteMirror } from '../state/remote-mirror.js';
import type { PlaylistMirror } from '../state/remote-playlists.js';
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
  const listed = await listAll(remote, MUSIC_PREFIX, o.signal);
  mirror.batch(() =>
    settle(listed, mirror.listed(), o, {
      touch: (l) => mirror.touchNow(l.key, l.etag, l.mtime),
      put: (l, md5) => mirror.putNow(md5 ? { ...l, md5 } : l),
      remove: (key) => mirror.removeNow(key),
    }),
  );
  mirror.setState({ listedAt: o.now });
}

/**
 * reconcilePlaylists does for `playlists/` what reconcile does for `music/`,
 * into the playlist mirror: objects written by other tools are taken as
 * listed (no metadata); unchanged ones keep what the catalog says.
 */
export async function reconcilePlaylists(remote: Remote, playlists: PlaylistMirror, o: { now: number; full: boolean; signal?: AbortSignal }): Promise<void> {
  const listed = await listAll(remote, PLAYLISTS_PREFIX, o.signal);
  playlists.batch(() =>
    settle(listed, playlists.all(), o, {
      touch: (l) => playlists.touch(l.key, l.etag, l.mtime),
      put: (l, md5) => playlists.put({ key: l.key, size: l.size, ...(l.etag ? { etag: l.etag } : {}), ...(l.mtime ? { mtime: l.mtime } : {}), ...(md5 ? { md5 } : {}) }),
      remove: (key) => playlists.remove(key),
    }),
  );
}

async function listAll(remote: Remote, prefix: string, signal?: AbortSignal): Promise<MirrorObject[]> {
  const listed: MirrorObject[] = [];
  for await (const obj of remote.list(prefix, signal ? { signal } : {})) listed.push(obj);
  return listed;
}

/** What a mirror row must say for settle() to judge it against the listing. */
type Known = Pick<MirrorObject, 'key' | 'size' | 'etag' | 'mtime' | 'md5' | 'writtenAt'>;

/**
 * settle compares a listing with the rows a mirror holds (see reconcile) and
 * says, through `act`, which rows are confirmed, replaced by what was listed
 * (with the MD5 a plain ETag gives), or gone.
 */
function settle(
  listed: readonly MirrorObject[],
  known: Iterable<Known>,
  o: { now: number; full: boolean },
  act: { touch(l: MirrorObject): void; put(l: MirrorObject, md5: string | undefined): void; remove(key: string): void },
): void {
  const rows = new Map<string, Known>();
  for (const r of known) rows.set(r.key, r);
  for (const l of listed) {
    const r = rows.get(l.key);
    rows.delete(l.key);
    // A plain ETag is the content's MD5: the mirror knows it from now on.
    const plain = parseEtag(l.etag).md5;
    const same = r && r.size === l.size && (r.etag && l.etag ? r.etag === l.etag : !r.mtime || !l.mtime || r.mtime.getTime() === l.mtime.getTime());
    const honest = !plain || !r?.md5 || r.md5 === plain;
    if (same && honest) act.touch(l);
    else act.put(l, plain);
  }
  for (const r of rows.values()) {
    if (o.full || r.writtenAt === undefined || r.writtenAt < o.now - LOG_WINDOW_MS) act.remove(r.key);
  }
}
