/**
 * What Clementine and its fork Strawberry share: the `songs`,
 * `playlists` and `playlist_items` tables keyed by ROWID, file:// URLs,
 * ratings 0..1 (-1 unrated), lengths in nanoseconds, last played in
 * seconds (-1 never), year/track/disc -1 when unset. Each adapter names
 * what differs (the URL column, how a playlist item points at a song).
 *
 * Decisions:
 * - Songs the player marked `unavailable` (file not found at its last scan)
 *   are still songs: the player keeps their rating and counts and shows them
 *   again when the file comes back (a drive mounted later), so cratesync
 *   neither drops nor deletes anything for them.
 * - Only file:// URLs are songs; streams and service tracks are skipped
 *   silently (they are no files to sync).
 * - Tracks of a CUE sheet share one file (same URL, distinct `beginning`):
 *   each is its own song with its own id, and a problem notes the shared path.
 * - A rating of 0 is a rating (zero stars); only a negative or NULL one is unrated.
 */
import type { Problem } from '../../core/problem.js';
import { fileUrlToPath, isFileUrl } from '../file-url.js';
import type { PlayerPlaylist, PlayerSnapshot, PlayerSong } from '../player-model.js';
import type { PlayerDb, WatchedTable } from '../sqlite-adapter.js';

export interface QtPlayerSpec {
  /** The songs table's column holding the file:// URL: `url` (Strawberry), `filename` (Clementine). */
  urlColumn: string;
  /**
   * `SELECT … FROM playlist_items AS p …` giving for each item `playlist`,
   * `item` (the item's ROWID) and `url` (the song's URL, through the
   * library row when the item points at one); qt-player.ts adds the WHERE
   * on `p.playlist` and the order.
   */
  itemsSelect: string;
}

/** The song fields whose change matters, beside the URL column. */
const SONG_COLUMNS = ['title', 'album', 'artist', 'albumartist', 'genre', 'year', 'track', 'disc', 'rating', 'playcount', 'lastplayed', 'length'] as const;

/** The watched tables of a Clementine-family database. */
export function qtWatched(urlColumn: string): WatchedTable[] {
  return [
    { table: 'songs', kind: 'song', ref: 'ROWID', columns: [...SONG_COLUMNS, urlColumn] },
    { table: 'playlists', kind: 'playlist', ref: 'ROWID', columns: ['name', 'ui_path', 'ui_order'] },
    { table: 'playlist_items', kind: 'playlist', ref: 'playlist' },
  ];
}

/** Undefined when the tables and columns exist; else what is missing. */
export function qtRecognize(db: PlayerDb, need: Record<string, readonly string[]>): string | undefined {
  for (const [table, columns] of Object.entries(need)) {
    const have = new Set(
      (db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[]).map((c) => c.toLowerCase()),
    );
    if (have.size === 0) return `no table ${table}`;
    for (const c of columns) if (!have.has(c.toLowerCase())) return `table ${table} has no column ${c}`;
  }
  return undefined;
}

interface SongRow {
  id: number;
  url: unknown;
  title: unknown;
  artist: unknown;
  album: unknown;
  albumartist: unknown;
  genre: unknown;
  year: unknown;
  track: unknown;
  disc: unknown;
  length: unknown;
  rating: unknown;
  playcount: unknown;
  lastplayed: unknown;
}

function songSelect(spec: QtPlayerSpec): string {
  const url = `"${spec.urlColumn}"`;
  return (
    `SELECT ROWID AS id, ${url} AS url, title, artist, album, albumartist, genre, year, track, disc, ` +
    `length, rating, playcount, lastplayed FROM songs`
  );
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A URL column's value as text: Clementine binds QUrl::toEncoded() (a
 * QByteArray), so its URLs are BLOBs of UTF-8; Strawberry's are TEXT.
 * Undefined when it is neither or not UTF-8.
 */
export function urlText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) {
    try {
      return UTF8.decode(v);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function finite(v: unknown): number | undefined {
  if (typeof v === 'bigint') v = Number(v);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** year/track/disc: -1 (or 0, or anything not a positive integer) is unset. */
function positiveInt(v: unknown): number | undefined {
  const n = finite(v);
  return n !== undefined && n > 0 ? Math.floor(n) : undefined;
}

/** Rating 0..1 → 0..100; negative or NULL is unrated; values past 1 are clamped. */
export function qtRating(v: unknown): number | undefined {
  const n = finite(v);
  if (n === undefined || n < 0) return undefined;
  return Math.round(Math.min(1, n) * 100);
}

function toSong(r: SongRow, path: string): PlayerSong {
  const s: PlayerSong = { id: String(r.id), path };
  const put = <K extends keyof PlayerSong>(k: K, v: PlayerSong[K] | undefined): void => {
    if (v !== undefined) s[k] = v;
  };
  put('title', text(r.title));
  put('artist', text(r.artist));
  put('album', text(r.album));
  put('albumArtist', text(r.albumartist));
  put('genre', text(r.genre));
  put('year', positiveInt(r.year));
  put('track', positiveInt(r.track));
  put('disc', positiveInt(r.disc));
  const ns = finite(r.length);
  // Nanoseconds; kept to the millisecond.
  put('durationSec', ns !== undefined && ns > 0 ? Math.round(ns / 1e6) / 1000 : undefined);
  put('rating', qtRating(r.rating));
  const plays = finite(r.playcount);
  put('playCount', plays !== undefined && plays >= 0 ? Math.floor(plays) : undefined);
  const last = finite(r.lastplayed);
  put('lastPlayed', last !== undefined && last > 0 ? Math.round(last * 1000) : undefined);
  return s;
}

function songsFrom(rows: SongRow[]): { songs: PlayerSong[]; problems: Problem[] } {
  const songs: PlayerSong[] = [];
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  for (const r of rows) {
    const url = urlText(r.url);
    if (url === undefined && r.url !== null) problems.push({ path: `song ${r.id}`, message: 'its URL is not UTF-8 text' });
    if (url === undefined || !isFileUrl(url)) continue;
    const p = fileUrlToPath(url);
    if ('error' in p) {
      problems.push({ path: url, message: `song ${r.id}: ${p.error}` });
      continue;
    }
    songs.push(toSong(r, p.path));
    seen.set(p.path, (seen.get(p.path) ?? 0) + 1);
  }
  for (const [path, n] of seen) {
    if (n > 1) problems.push({ path, message: `${n} songs of the player share this file (tracks of a CUE sheet)` });
  }
  return { songs, problems };
}

/** Integer ids among `ids` (others name nothing), as a JSON array for json_each. */
function idList(ids: readonly string[]): string {
  return JSON.stringify(ids.filter((id) => /^-?\d{1,18}$/.test(id)).map(Number));
}

export function qtReadSongs(db: PlayerDb, spec: QtPlayerSpec, ids?: readonly string[]): { songs: PlayerSong[]; problems: Problem[] } {
  const sql = songSelect(spec);
  const rows =
    ids === undefined
      ? (db.prepare(`${sql} ORDER BY ROWID`).all() as SongRow[])
      : (db.prepare(`${sql} WHERE ROWID IN (SELECT value FROM json_each(?)) ORDER BY ROWID`).all(idList(ids)) as SongRow[]);
  return songsFrom(rows);
}

interface PlaylistRow {
  id: number;
  name: unknown;
  ui_path: unknown;
  ui_order: unknown;
  dynamic: unknown;
}

const PLAYLIST_SELECT =
  'SELECT ROWID AS id, name, ui_path, ui_order, dynamic_playlist_type AS dynamic FROM playlists';

/** `ui_path` is the folder the playlist sits in (`/Sets/Techno` or `Sets/Techno`). */
function playlistName(r: PlaylistRow): string {
  const leaf = typeof r.name === 'string' && r.name.trim() !== '' ? r.name.trim() : `Playlist ${r.id}`;
  const folders = typeof r.ui_path === 'string' ? r.ui_path.split('/').map((s) => s.trim()).filter((s) => s !== '') : [];
  return [...folders, leaf].join('/');
}

/** A dynamic playlist's type: NULL, '' or 0 when it is a plain one. */
function isDynamic(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'string') return v.trim() !== '' && v.trim() !== '0';
  return finite(v) !== 0;
}

export function qtReadPlaylists(
  db: PlayerDb,
  spec: QtPlayerSpec,
  ids?: readonly string[],
): { playlists: PlayerPlaylist[]; problems: Problem[] } {
  const rows =
    ids === undefined
      ? (db.prepare(`${PLAYLIST_SELECT} ORDER BY ROWID`).all() as PlaylistRow[])
      : (db.prepare(`${PLAYLIST_SELECT} WHERE ROWID IN (SELECT value FROM json_each(?)) ORDER BY ROWID`).all(idList(ids)) as PlaylistRow[]);
  // All the items in one statement: playlist_items has no index on
  // `playlist`, so one scan for all beats one scan per playlist.
  const order = 'ORDER BY p.playlist, p.ROWID';
  const itemRows = (
    ids === undefined
      ? db.prepare(`${spec.itemsSelect} ${order}`).all()
      : db.prepare(`${spec.itemsSelect} WHERE p.playlist IN (SELECT value FROM json_each(?)) ${order}`).all(idList(rows.map((r) => String(r.id))))
  ) as { playlist: number; item: number; url: unknown }[];
  const itemsOf = new Map<number, { item: number; url: unknown }[]>();
  for (const it of itemRows) {
    const list = itemsOf.get(it.playlist);
    if (list === undefined) itemsOf.set(it.playlist, [it]);
    else list.push(it);
  }
  const playlists: PlayerPlaylist[] = [];
  const problems: Problem[] = [];
  for (const r of rows) {
    const name = playlistName(r);
    const paths: string[] = [];
    for (const it of itemsOf.get(r.id) ?? []) {
      const url = urlText(it.url);
      if (url === undefined) {
        const why = it.url === null ? 'names no song the player still has' : 'has a URL that is not UTF-8 text';
        problems.push({ path: name, message: `playlist item ${it.item} ${why}` });
        continue;
      }
      if (!isFileUrl(url)) continue;
      const p = fileUrlToPath(url);
      if ('error' in p) problems.push({ path: url, message: `playlist ${name}: ${p.error}` });
      else paths.push(p.path);
    }
    // Dynamic playlists are smart ones whose rules live in the player's
    // settings, beyond what cratesync evaluates: what the DB holds is what they are.
    const pl: PlayerPlaylist = { id: String(r.id), name, smart: isDynamic(r.dynamic), paths };
    const uiOrder = finite(r.ui_order);
    if (uiOrder !== undefined && uiOrder >= 0) pl.position = Math.floor(uiOrder);
    playlists.push(pl);
  }
  return { playlists, problems };
}

export function qtReadAll(db: PlayerDb, spec: QtPlayerSpec): PlayerSnapshot {
  const s = qtReadSongs(db, spec);
  const p = qtReadPlaylists(db, spec);
  return { songs: s.songs, playlists: p.playlists, problems: [...s.problems, ...p.problems] };
}
