/**
 * How the Subsonic index (subsonic-index.ts) reads a mirror row: which
 * objects are songs and cover images, and a song's names, numbers and
 * player facts from its untrusted tags and player JSON (see the index's
 * doc for the fallbacks). Pure: no SQL here.
 */
import type { PlayerMeta, Tags } from '../core/tags.js';
import { subsonicId } from '../core/subsonic-ids.js';

/** Words a name starts with that sorting and the A–Z index skip (`The Beatles` under B). */
export const IGNORED_ARTICLES = ['The', 'El', 'La', 'Los', 'Las', 'Le', 'Les', 'Die', 'Der', 'Das'];


/** Extensions (lower case, no dot) of the objects that are songs. */
export const AUDIO_SUFFIXES: ReadonlySet<string> = new Set(['mp3', 'flac', 'm4a', 'aac', 'alac', 'mp4', 'ogg', 'oga', 'opus', 'wav', 'aif', 'aiff', 'aifc', 'wma']);

/** Names of cover image files in an album's folder, preferred first; any of IMAGE_SUFFIXES, any case. */
const IMAGE_NAMES = ['cover', 'folder', 'front', 'album', 'albumart', 'albumartsmall', 'thumb'];
const IMAGE_SUFFIXES = ['jpg', 'jpeg', 'png', 'webp', 'gif'];

export const MUSIC = 'music/';
/** The most words of a search query that count. */
const MAX_WORDS = 12;

/**
 * fold is how names are compared and sorted: compatibility-decomposed (NFKD),
 * without combining marks, lower case (`Beyoncé` → `beyonce`).
 */
export function fold(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
}

/** sortName folds `name` and drops a leading ignored article (`The Beatles` → `beatles`). */
export function sortName(name: string): string {
  const f = fold(name).trim();
  for (const a of IGNORED_ARTICLES) {
    const prefix = a.toLowerCase() + ' ';
    if (f.startsWith(prefix) && f.length > prefix.length) return f.slice(prefix.length).trimStart();
  }
  return f;
}

/** The words of a search, as an FTS5 query: each a quoted prefix (`"beat"*`); undefined for no word (everything). */
export function matchQuery(query: string): string | undefined {
  // A bounded number of words: a query is a client's, and each word is a lookup.
  const words = fold(query).match(/[\p{L}\p{N}]+/gu)?.slice(0, MAX_WORDS);
  return words && words.length > 0 ? words.map((w) => `"${w}"*`).join(' ') : undefined;
}

function suffixOf(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

export function folderOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1);
}

/** The rank of `key` as a cover image of its folder (lower is preferred), or undefined when it is none. */
export function imageRank(key: string): number | undefined {
  if (!key.startsWith(MUSIC)) return undefined;
  const name = key.slice(key.lastIndexOf('/') + 1).toLowerCase();
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const base = IMAGE_NAMES.indexOf(name.slice(0, dot));
  const ext = IMAGE_SUFFIXES.indexOf(name.slice(dot + 1));
  return base < 0 || ext < 0 ? undefined : base * IMAGE_SUFFIXES.length + ext;
}

export function isSongKey(key: string): boolean {
  return key.startsWith(MUSIC) && AUDIO_SUFFIXES.has(suffixOf(key));
}

/** The longest common prefix of `a` and `b` that ends at a '/'. */
export function commonFolder(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, a.lastIndexOf('/', i - 1) + 1);
}

export function parseJson<T>(text: string | null): T | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as T) : undefined;
  } catch {
    return undefined;
  }
}

/** A trimmed non-empty string of untrusted `v`, else undefined. */
export function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** A finite number of untrusted `v` within [min, max], else undefined. */
function num(v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : undefined;
}

function int(v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const n = num(v, min, max);
  return n === undefined ? undefined : Math.trunc(n);
}

/** A mirror row as the index reads it. */
export interface ObjectRow {
  key: string;
  size: number;
  md5: string | null;
  tags: string | null;
  player: string | null;
  written_at: number | null;
}

/** A song's columns in sub_songs, but its row number. */
export interface SongValues {
  key: string;
  id: string;
  title: string;
  album: string;
  album_id: string;
  artist: string;
  artist_id: string;
  album_artist: string;
  title_fold: string;
  artist_fold: string;
  genre: string | null;
  genre_fold: string | null;
  year: number | null;
  track: number | null;
  disc: number | null;
  duration: number | null;
  bitrate: number | null;
  size: number;
  suffix: string;
  md5: string | null;
  cover: string | null;
  folder: string;
  created: number;
  play_count: number | null;
  last_played: number | null;
  rating: number | null;
  starred: number | null;
  has_lyrics: number;
}

/** deriveSong makes the index's row of a mirror row under `music/` with an audio suffix (see the module's doc). */
export function deriveSong(o: ObjectRow, created: number): SongValues {
  const tags = parseJson<Tags>(o.tags) ?? {};
  const player = parseJson<PlayerMeta>(o.player) ?? { source: '' };
  const fileName = o.key.slice(o.key.lastIndexOf('/') + 1);
  const folder = folderOf(o.key);
  const title = text(tags.title) ?? fileName.replace(/\.[^.]*$/, '');
  const tagArtist = text(tags.artist);
  const tagAlbumArtist = text(tags.albumArtist);
  const artist = tagArtist ?? tagAlbumArtist ?? 'Unknown Artist';
  const albumArtist = tagAlbumArtist ?? artist;
  const parent = folder.length > MUSIC.length ? folder.slice(0, -1).slice(folder.lastIndexOf('/', folder.length - 2) + 1) : undefined;
  const album = text(tags.album) ?? parent ?? 'Unknown Album';
  const genre = text(tags.genre);
  const tagRating = num(tags.rating, 0, 1);
  const rating = int(player.rating, 0, 100) ?? (tagRating === undefined ? undefined : Math.round(tagRating * 100));
  return {
    key: o.key,
    id: subsonicId('song', o.key),
    title,
    album,
    album_id: subsonicId('album', albumArtist.toLowerCase(), album.toLowerCase()),
    artist,
    artist_id: subsonicId('artist', artist.toLowerCase()),
    album_artist: albumArtist,
    title_fold: fold(title),
    artist_fold: fold(artist),
    genre: genre ?? null,
    genre_fold: genre === undefined ? null : fold(genre),
    year: int(tags.year, 1, 9999) ?? null,
    track: int(tags.track, 0, 100_000) ?? null,
    disc: int(tags.disc, 0, 10_000) ?? null,
    duration: num(tags.durationSec, 0) ?? null,
    bitrate: int(tags.bitrate, 0) ?? null,
    size: o.size,
    suffix: suffixOf(o.key),
    md5: o.md5,
    cover: text(tags.cover) ?? null,
    folder,
    created,
    play_count: int(player.playCount, 0) ?? null,
    last_played: int(player.lastPlayed, 0) ?? null,
    rating: rating ?? null,
    starred: int(player.starred, 0) ?? null,
    has_lyrics: text(tags.lyrics) ? 1 : 0,
  };
}

/** The words a song is found by. */
export function songWords(s: SongValues): string {
  return fold([s.title, s.artist, s.album, s.album_artist === s.artist ? '' : s.album_artist].join(' '));
}

