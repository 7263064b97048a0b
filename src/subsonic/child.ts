/**
 * The index's songs, albums and artists as the payloads of the Subsonic API
 * (OpenSubsonic JSON shapes: Child, AlbumID3, ArtistID3, Artist): what every
 * browse, search, list and playlist route answers with. Absent facts are
 * left out, never sent as null; dates are ISO 8601.
 */
import { subsonicId } from '../core/subsonic-ids.js';
import type { IndexedAlbum, IndexedArtist, IndexedSong } from '../state/subsonic-index.js';
import type { SubsonicBody } from './route-types.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  mp3: 'audio/mpeg',
  flac: 'audio/flac',
  m4a: 'audio/mp4',
  mp4: 'audio/mp4',
  alac: 'audio/mp4',
  aac: 'audio/aac',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
  wav: 'audio/wav',
  aif: 'audio/aiff',
  aiff: 'audio/aiff',
  aifc: 'audio/aiff',
  wma: 'audio/x-ms-wma',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
};

/** contentType is the MIME type of a file with `suffix` (no dot, any case); `application/octet-stream` when unknown. */
export function contentType(suffix: string): string {
  return CONTENT_TYPES[suffix.toLowerCase()] ?? 'application/octet-stream';
}

const iso = (ms: number) => new Date(ms).toISOString();

/** userRating of a 0–100 rating: 1–5 stars, or undefined for none (the schema has no 0). */
function stars(rating: number | undefined): number | undefined {
  if (rating === undefined) return undefined;
  const n = Math.round(rating / 20);
  return n >= 1 ? Math.min(n, 5) : undefined;
}

/** Sets `field` of `o` when `value` is defined. */
function put(o: SubsonicBody, field: string, value: unknown): void {
  if (value !== undefined) o[field] = value;
}

/** The id of the artist named `name` (an album artist). */
export function artistIdOf(name: string): string {
  return subsonicId('artist', name.toLowerCase());
}

/** songChild is the Child of a song: what clients list, play and cache. */
export function songChild(s: IndexedSong): SubsonicBody {
  const c: SubsonicBody = {
    id: s.id,
    parent: s.albumId,
    isDir: false,
    title: s.title,
    album: s.album,
    artist: s.artist,
  };
  put(c, 'track', s.track);
  put(c, 'year', s.year);
  put(c, 'genre', s.genre);
  if (s.albumHasCover || s.cover) c.coverArt = s.albumId;
  c.size = s.size;
  c.contentType = contentType(s.suffix);
  c.suffix = s.suffix;
  put(c, 'duration', s.durationSec === undefined ? undefined : Math.round(s.durationSec));
  put(c, 'bitRate', s.bitrate);
  // A display path, never used to read: the key below music/.
  c.path = s.key.startsWith('music/') ? s.key.slice('music/'.length) : s.key;
  put(c, 'discNumber', s.disc);
  c.created = iso(s.created);
  c.albumId = s.albumId;
  c.artistId = s.artistId;
  c.type = 'music';
  c.isVideo = false;
  c.playCount = s.playCount ?? 0;
  put(c, 'played', s.lastPlayed === undefined ? undefined : iso(s.lastPlayed));
  put(c, 'userRating', stars(s.rating));
  put(c, 'starred', s.starred === undefined ? undefined : iso(s.starred));
  c.mediaType = 'song';
  c.sortName = s.title;
  c.displayArtist = s.artist;
  c.displayAlbumArtist = s.albumArtist;
  c.genres = s.genre === undefined ? [] : [{ name: s.genre }];
  c.artists = [{ id: s.artistId, name: s.artist }];
  c.albumArtists = [{ id: artistIdOf(s.albumArtist), name: s.albumArtist }];
  return c;
}

/** albumID3 is the AlbumID3 of an album (getAlbumList2, search3, getArtist…). */
export function albumID3(a: IndexedAlbum): SubsonicBody {
  const o: SubsonicBody = { id: a.id, name: a.name, artist: a.artist, artistId: a.artistId };
  if (a.cover || a.image) o.coverArt = a.id;
  o.songCount = a.songCount;
  o.duration = Math.round(a.durationSec);
  o.playCount = a.playCount;
  o.created = iso(a.created);
  put(o, 'starred', a.starred === undefined ? undefined : iso(a.starred));
  put(o, 'year', a.year);
  put(o, 'genre', a.genre);
  put(o, 'played', a.lastPlayed === undefined ? undefined : iso(a.lastPlayed));
  put(o, 'userRating', stars(a.rating));
  o.genres = a.genre === undefined ? [] : [{ name: a.genre }];
  o.artists = [{ id: a.artistId, name: a.artist }];
  o.displayArtist = a.artist;
  o.sortName = a.name;
  return o;
}

/** albumWithSongs is the AlbumID3WithSongs of getAlbum: the album and its songs in order. */
export function albumWithSongs(a: IndexedAlbum, songs: readonly IndexedSong[]): SubsonicBody {
  return { ...albumID3(a), song: songs.map(songChild) };
}

/** albumChild is an album as a directory Child (getAlbumList, getMusicDirectory of an artist, search2, getStarred). */
export function albumChild(a: IndexedAlbum): SubsonicBody {
  const c: SubsonicBody = { id: a.id, parent: a.artistId, isDir: true, title: a.name, name: a.name, album: a.name, artist: a.artist };
  put(c, 'year', a.year);
  put(c, 'genre', a.genre);
  if (a.cover || a.image) c.coverArt = a.id;
  c.duration = Math.round(a.durationSec);
  c.playCount = a.playCount;
  c.created = iso(a.created);
  put(c, 'played', a.lastPlayed === undefined ? undefined : iso(a.lastPlayed));
  put(c, 'userRating', stars(a.rating));
  put(c, 'starred', a.starred === undefined ? undefined : iso(a.starred));
  c.albumId = a.id;
  c.artistId = a.artistId;
  c.isVideo = false;
  c.mediaType = 'album';
  return c;
}

/** artistID3 is the ArtistID3 of an artist (getArtists, search3, getStarred2). */
export function artistID3(a: IndexedArtist): SubsonicBody {
  const o: SubsonicBody = { id: a.id, name: a.name };
  put(o, 'coverArt', a.coverAlbumId);
  o.albumCount = a.albumCount;
  put(o, 'starred', a.starred === undefined ? undefined : iso(a.starred));
  o.sortName = a.sortName;
  return o;
}

/** artistEntry is the Artist of getIndexes, search2 and getStarred. */
export function artistEntry(a: IndexedArtist): SubsonicBody {
  const o: SubsonicBody = { id: a.id, name: a.name };
  put(o, 'starred', a.starred === undefined ? undefined : iso(a.starred));
  return o;
}
