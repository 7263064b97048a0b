/**
 * Ids the Subsonic server (src/subsonic/) gives songs, albums, artists and
 * playlists. They are derived from what the catalog says (a key, a name), so
 * every machine serving one bucket gives the same thing the same id and a
 * client's offline cache survives a switch of server. An id is a kind prefix
 * and 20 hex digits: it never holds a path, and anything else a client sends
 * as an id is simply not found.
 */
import { createHash } from 'node:crypto';

export type SubsonicIdKind = 'song' | 'album' | 'artist' | 'playlist';

const PREFIX: Record<SubsonicIdKind, string> = { song: 'tr-', album: 'al-', artist: 'ar-', playlist: 'pl-' };
const KIND: Record<string, SubsonicIdKind> = { 'tr-': 'song', 'al-': 'album', 'ar-': 'artist', 'pl-': 'playlist' };
const SHAPE = /^(tr|al|ar|pl)-[0-9a-f]{20}$/;

/** subsonicId names a thing of `kind` by what identifies it: a song its key, an album its album artist and name (case-folded by the caller). */
export function subsonicId(kind: SubsonicIdKind, ...parts: string[]): string {
  return PREFIX[kind] + createHash('sha1').update(parts.join('\u0000')).digest('hex').slice(0, 20);
}

/** idKind tells what `id` names, or undefined when it is no id of ours (a path, a forged value). */
export function idKind(id: string): SubsonicIdKind | undefined {
  return SHAPE.test(id) ? KIND[id.slice(0, 3)] : undefined;
}
