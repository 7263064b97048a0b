/**
 * Stars, ratings and plays through the Subsonic server. A song's are its
 * PlayerMeta in the remote catalog (sync/player-meta.ts): the song's
 * current meta with the change merged in (its source, tags, rating, play
 * count kept), published to the catalog's log at once, so that every
 * machine (and cratesync's player adapters) sees it. A meta the server
 * starts says `source: 'subsonic'`. Albums and artists have no object in
 * the catalog: their stars stay in this machine's index.
 *
 * Every id is checked before anything is written: one unknown id fails the
 * request (70) and changes nothing.
 */
import type { Handler, Params, RouteTable, ServeContext } from './route-types.js';
import type { PlayerMeta } from '../core/tags.js';
import type { IndexedSong } from '../state/subsonic-index.js';
import { publishPlayerMetas } from '../sync/player-meta.js';
import { MUSIC_PREFIX } from '../sync/layout.js';
import { idKind } from '../core/subsonic-ids.js';
import { badParameter, missingParameter, notFound } from './api-error.js';
import { serially } from './serial.js';
import { bool, required } from './params.js';
import { songsOf } from './song-lookup.js';

/** PlayerMeta.source of a meta the server starts (a song no player described). */
export const SUBSONIC_SOURCE = 'subsonic';

const star: Handler = (req) => serially(req.serve, () => setStars(req.serve, req.params, Date.now()));
const unstar: Handler = (req) => serially(req.serve, () => setStars(req.serve, req.params, undefined));

const setRating: Handler = (req) =>
  serially(req.serve, async () => {
    const { params, serve } = req;
    const id = required(params, 'id');
    const raw = required(params, 'rating');
    if (!/^[0-5]$/.test(raw)) throw badParameter('rating', 'is not a whole number from 0 to 5');
    const [song] = songsOf(serve, [id]);
    const rating = Number(raw) * 20;
    await publish(serve, [song!], (m) => {
      if (rating === 0) delete m.rating;
      else m.rating = rating;
    });
    return {};
  });

const scrobble: Handler = (req) =>
  serially(req.serve, async () => {
    const { params, serve } = req;
    const ids = params.all('id');
    if (ids.length === 0) throw missingParameter('id');
    const times = params.all('time').map((t) => {
      if (!/^\d{1,15}$/.test(t)) throw badParameter('time', 'is not a time in milliseconds since 1970');
      return Number(t);
    });
    if (times.length > 0 && times.length !== ids.length) throw badParameter('time', 'must be given once per id, or not at all');
    const submission = bool(params, 'submission') ?? true;
    const songs = songsOf(serve, ids);
    // "Now playing": nothing is kept (the catalog holds plays, not what plays now).
    if (!submission) return {};
    const now = Date.now();
    const plays = new Map<string, { n: number; last: number }>();
    songs.forEach((s, i) => {
      const at = times[i] ?? now;
      const p = plays.get(s.id);
      plays.set(s.id, { n: (p?.n ?? 0) + 1, last: Math.max(p?.last ?? 0, at) });
    });
    const unique = [...new Map(songs.map((s) => [s.id, s])).values()];
    await publish(serve, unique, (m, s) => {
      const p = plays.get(s.id)!;
      m.playCount = (m.playCount ?? 0) + p.n;
      // A play cached offline and sent late never moves the last play back.
      m.lastPlayed = Math.max(m.lastPlayed ?? 0, p.last);
    });
    return {};
  });

export const annotationRoutes: RouteTable = { star, unstar, setRating, scrobble };

// ---- helpers ----

/** star / unstar: songs in the catalog, albums and artists in the index. */
async function setStars(serve: ServeContext, params: Params, at: number | undefined): Promise<Record<string, never>> {
  const ids = params.all('id');
  const albumIds = params.all('albumId');
  const artistIds = params.all('artistId');
  if (ids.length + albumIds.length + artistIds.length === 0) throw missingParameter('id');
  // `id` may name a song, or (a client browsing by folders) an album or an artist.
  const songIds = ids.filter((id) => idKind(id) === 'song');
  const others = [...ids.filter((id) => idKind(id) !== 'song'), ...albumIds, ...artistIds];
  for (const id of others) {
    const kind = idKind(id);
    const found = kind === 'album' ? serve.index.album(id) : kind === 'artist' ? serve.index.artist(id) : undefined;
    if (!found || (albumIds.includes(id) && kind !== 'album') || (artistIds.includes(id) && kind !== 'artist')) throw notFound(kind === 'artist' ? 'Artist' : 'Album');
  }
  const songs = songsOf(serve, songIds);
  await publish(serve, songs, (m) => {
    if (at === undefined) delete m.starred;
    else m.starred = at;
  });
  for (const id of new Set(others)) serve.index.setStar(id, at);
  return {};
}

/**
 * Publishes for each song its current PlayerMeta (from the mirror, after a
 * refresh: the catalog's latest word) changed by `change`, in one log, then brings the
 * index up to date. notFound when a song left the catalog meanwhile (the
 * others are published all the same).
 */
async function publish(serve: ServeContext, songs: readonly IndexedSong[], change: (m: PlayerMeta, s: IndexedSong) => void): Promise<void> {
  if (songs.length === 0) return;
  // Another machine may have changed the meta since: merge into the catalog's latest word, not an old one.
  await serve.refresh();
  const objects = serve.catalog.mirror.getMany(songs.map((s) => s.key));
  const items = songs.flatMap((s, n) => {
    const known = objects[n]?.player;
    const meta: PlayerMeta = { ...(known ?? { source: SUBSONIC_SOURCE }) };
    change(meta, s);
    // Nothing to say of a song no player described (an unstar, a rating of 0): no meta is started.
    if (!known && Object.keys(meta).every((k) => k === 'source')) return [];
    // publishPlayerMetas takes library paths: the key without `music/`.
    return [{ path: s.key.slice(MUSIC_PREFIX.length), meta }];
  });
  if (items.length === 0) return;
  const results = await publishPlayerMetas(serve.catalog, items);
  try {
    serve.index.refresh();
  } catch (err) {
    // The change is in the catalog: the index learns it on its next refresh.
    serve.log.warn({ err }, 'subsonic index not refreshed after a change');
  }
  if (results.includes('unknown')) throw notFound('Song');
}

