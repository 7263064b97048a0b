/**
 * Songs named by the ids a client sent, for the routes that change them
 * (playlists, stars, ratings, plays).
 */
import type { ServeContext } from './route-types.js';
import type { IndexedSong } from '../state/subsonic-index.js';
import { idKind } from '../core/subsonic-ids.js';
import { MUSIC_PREFIX } from '../sync/layout.js';
import { notFound } from './api-error.js';

/**
 * songsOf returns the songs of `ids` in order (repeats kept); notFound (70)
 * when one is no song id, or names no song of the catalog's music tree.
 */
export function songsOf(serve: ServeContext, ids: readonly string[]): IndexedSong[] {
  if (ids.some((id) => idKind(id) !== 'song')) throw notFound('Song');
  const found = new Map(serve.index.songs([...new Set(ids)]).map((s) => [s.id, s]));
  return ids.map((id) => {
    const s = found.get(id);
    if (!s || !s.key.startsWith(MUSIC_PREFIX)) throw notFound('Song');
    return s;
  });
}
