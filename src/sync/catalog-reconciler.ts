/**
 * Reconciling the mirror with a full listing of `music/`: the listing is the
 * truth about which objects exist, their size and ETag; the catalog only
 * adds what a listing cannot say (the MD5 of a multipart object, the audio
 * hash, tags, the writer).
 */
import type { Remote } from '../remote/remote.js';
import type { RemoteObject } from '../core/remote-object.js';
import type { RemoteMirror } from '../state/remote-mirror.js';
import type { ListingSweep, SweptRow } from '../state/listing-sweep.js';
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
 *
 * The listing is applied a page at a time, each page in one transaction, so
 * a library's listing is never held whole; rows are dropped only once the
 * listing has ended. Stopped half-way, the mirror keeps what the pages so far
 * confirmed and the listing is not marked done: the next refresh lists again.
 */
export async function reconcile(remote: Remote, mirror: RemoteMirror, o: { now: number; full: boolean; signal?: AbortSignal }): Promise<void> {
  await sweepListing(remote, MUSIC_PREFIX, mirror.sweep(), o, {
    batch: (fn) => mirror.batch(fn),
    touch: (l) => mirror.touchNow(l.key, l.etag, l.mtime),
    put: (l, md5) => mirror.putNow(md5 ? { ...l, md5 } : l),
    remove: (key) => mirror.removeNow(key),
  });
  mirror.setState({ listedAt: o.now });
}

/**
 * reconcilePlaylists does for `playlists/` what reconcile does for `music/`,
 * into the playlist mirror: objects written by other tools are taken as
 * listed (no metadata); unchanged ones keep what the catalog says.
 */
export async function reconcilePlaylists(remote: Remote, playlists: PlaylistMirror, o: { now: number; full: boolean; signal?: AbortSignal }): Promise<void> {
  await sweepListing(remote, PLAYLISTS_PREFIX, playlists.sweep(), o, {
    batch: (fn) => playlists.batch(fn),
    touch: (l) => playlists.touch(l.key, l.etag, l.mtime),
    put: (l, md5) => playlists.put({ key: l.key, size: l.size, ...(l.etag ? { etag: l.etag } : {}), ...(l.mtime ? { mtime: l.mtime } : {}), ...(md5 ? { md5 } : {}) }),
    remove: (key) => playlists.remove(key),
  });
}

/** Listed objects compared with the mirror at once: about one page of an S3 listing. */
const PAGE = 1000;

/** What a reconcile does to a mirror, given what the listing showed. */
interface Acts {
  batch(fn: () => void): void;
  /** The listing shows the row's object unchanged: keep what the catalog knows. */
  touch(l: RemoteObject): void;
  /** Take the object as listed, with the MD5 a plain ETag gives. */
  put(l: RemoteObject, md5: string | undefined): void;
  /** The object is gone. */
  remove(key: string): void;
}

/**
 * sweepListing lists `prefix` and, a page at a time, says through `act`
 * which rows are confirmed or replaced by what was listed; after the last
 * page, which rows are gone (see reconcile).
 */
async function sweepListing(remote: Remote, prefix: string, sweep: ListingSweep, o: { now: number; full: boolean; signal?: AbortSignal }, act: Acts): Promise<void> {
  try {
    let page: RemoteObject[] = [];
    const apply = (): void => {
      const known = sweep.known(page.map((l) => l.key));
      const listed = page;
      act.batch(() => {
        for (const l of listed) judge(l, known.get(l.key), act);
        sweep.seen(listed.map((l) => l.key));
      });
      page = [];
    };
    for await (const obj of remote.list(prefix, o.signal ? { signal: o.signal } : {})) {
      page.push(obj);
      if (page.length >= PAGE) apply();
    }
    if (page.length > 0) apply();
    const gone = sweep.unseen().filter((r) => o.full || r.writtenAt === undefined || r.writtenAt < o.now - LOG_WINDOW_MS);
    act.batch(() => {
      for (const r of gone) act.remove(r.key);
    });
  } finally {
    sweep.close();
  }
}

/** judge compares one listed object with the mirror's row for its key, if any. */
function judge(l: RemoteObject, r: SweptRow | undefined, act: Acts): void {
  // A plain ETag is the content's MD5: the mirror knows it from now on.
  const plain = parseEtag(l.etag).md5;
  const same = r && r.size === l.size && (r.etag && l.etag ? r.etag === l.etag : !r.mtime || !l.mtime || r.mtime.getTime() === l.mtime.getTime());
  const honest = !plain || !r?.md5 || r.md5 === plain;
  if (same && honest) act.touch(l);
  else act.put(l, plain);
}
