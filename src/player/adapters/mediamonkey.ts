/**
 * MediaMonkey 4 and 5 (`MM.DB`, `MM5.DB`): songs, static playlists and
 * auto-playlists (their QueryData translated by mediamonkey-query.ts).
 *
 * MediaMonkey declares its text columns and indexes `COLLATE IUNICODE`, a
 * collation only MediaMonkey registers, and keeps a full-text index
 * (`SongsText`, tokenizer `mm`). better-sqlite3 has no way to register a
 * collation, so instead no statement of cratesync may need one: the reads
 * here never compare or sort a text column (rows are found by their integer
 * ids, through json_each), and any cratesync SQL that must compare one names
 * its collation (`COLLATE BINARY` / `NOCASE`), which overrides the column's.
 * `SongsText` is never read: reading an FTS table needs its tokenizer.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, win32 } from 'node:path';
import type { Problem } from '../../core/problem.js';
import type { PlayerPlaylist, PlayerSnapshot, PlayerSong } from '../player-model.js';
import type { PlayerDb, SqlitePlayerAdapter } from '../sqlite-adapter.js';
import { evaluateRule, stableRandom } from '../smart-rule.js';
import { translateQueryData } from './mediamonkey-query.js';

/** OLE Automation dates count days from 1899-12-30; the Unix epoch is day 25569. */
const OLE_EPOCH_DAYS = 25569;
const DAY_MS = 86_400_000;

const SONG_COLUMNS = [
  'SongTitle', 'Artist', 'Album', 'AlbumArtist', 'Genre', 'Year', 'TrackNumber', 'DiscNumber',
  'Rating', 'PlayCounter', 'LastTimePlayed', 'SongPath', 'IDMedia', 'SongLength',
] as const;

interface SongRow {
  ID: number;
  SongTitle: string | null;
  Artist: string | null;
  Album: string | null;
  AlbumArtist: string | null;
  Genre: string | null;
  Year: number | string | null;
  TrackNumber: string | number | null;
  DiscNumber: string | number | null;
  SongLength: number | null;
  Rating: number | null;
  PlayCounter: number | null;
  LastTimePlayed: number | null;
  DateAdded: number | null;
  SongPath: string | null;
  IDMedia: number | null;
  DriveLetter: number | null;
}

interface PlaylistRow {
  IDPlaylist: number;
  PlaylistName: string | null;
  ParentPlaylist: number | null;
  IsAutoPlaylist: number | null;
  QueryData: string | null;
}

const SELECT_SONGS =
  'SELECT s.ID, s.SongTitle, s.Artist, s.Album, s.AlbumArtist, s.Genre, s.Year, s.TrackNumber, s.DiscNumber, ' +
  's.SongLength, s.Rating, s.PlayCounter, s.LastTimePlayed, s.DateAdded, s.SongPath, s.IDMedia, m.DriveLetter ' +
  'FROM Songs s LEFT JOIN Medias m ON m.IDMedia = s.IDMedia';

/** Text, or undefined when empty. */
function text(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  const s = String(v).trim();
  return s === '' ? undefined : s;
}

/** A positive integer at the start of MediaMonkey's text (`02`, `3/12`); undefined otherwise. */
function leadingInt(v: unknown): number | undefined {
  const m = /^\s*(\d{1,6})/.exec(String(v ?? ''));
  const n = m ? Number(m[1]) : 0;
  return n > 0 ? n : undefined;
}

/** `Year` is YYYYMMDD (or YYYY); 0 and below is unset. */
function year(v: unknown): number | undefined {
  const n = Math.trunc(Number(v));
  if (!Number.isFinite(n) || n <= 0) return undefined;
  return n > 9999 ? Math.floor(n / 10000) : n;
}

/** An OLE Automation date (days since 1899-12-30, a REAL) as ms since the epoch; 0 and below is unset. */
export function oleDateToMs(v: unknown): number | undefined {
  const d = Number(v);
  if (v === null || !Number.isFinite(d) || d <= 0) return undefined;
  return Math.round((d - OLE_EPOCH_DAYS) * DAY_MS);
}

/**
 * decodeSongPath returns the song's absolute Windows path: the drive letter
 * of its media (`DriveLetter` 0 = A, 2 = C) before `SongPath`
 * (`:\dir\file.mp3`); a network path (`\\server\share\…`) or one with its
 * drive already is kept. Undefined when it cannot be made absolute.
 */
export function decodeSongPath(songPath: string | null, driveLetter: number | null): string | undefined {
  if (!songPath) return undefined;
  if (/^\\\\[^\\]/.test(songPath) || /^[A-Za-z]:\\/.test(songPath)) return songPath;
  if (!songPath.startsWith(':\\')) return undefined;
  if (driveLetter === null || !Number.isInteger(driveLetter) || driveLetter < 0 || driveLetter > 25) return undefined;
  return String.fromCharCode(65 + driveLetter) + songPath;
}

function toSong(r: SongRow, problems: Problem[]): PlayerSong | undefined {
  const path = decodeSongPath(r.SongPath, r.DriveLetter);
  if (path === undefined) {
    problems.push({
      path: `Songs.ID ${r.ID}`,
      message: `MediaMonkey song without an absolute path (SongPath ${JSON.stringify(r.SongPath)}, media ${r.IDMedia ?? 'none'} drive letter ${r.DriveLetter ?? 'none'})`,
    });
    return undefined;
  }
  const song: PlayerSong = { id: String(r.ID), path };
  const set = <K extends keyof PlayerSong>(k: K, v: PlayerSong[K] | undefined): void => {
    if (v !== undefined) song[k] = v;
  };
  set('title', text(r.SongTitle));
  set('artist', text(r.Artist));
  set('album', text(r.Album));
  set('albumArtist', text(r.AlbumArtist));
  set('genre', text(r.Genre));
  set('year', year(r.Year));
  set('track', leadingInt(r.TrackNumber));
  set('disc', leadingInt(r.DiscNumber));
  if (typeof r.SongLength === 'number' && r.SongLength > 0) song.durationSec = r.SongLength / 1000;
  // -1 is unrated; MediaMonkey's scale is already 0–100
  if (typeof r.Rating === 'number' && r.Rating >= 0) song.rating = Math.min(100, r.Rating);
  if (typeof r.PlayCounter === 'number' && r.PlayCounter >= 0) song.playCount = r.PlayCounter;
  set('lastPlayed', oleDateToMs(r.LastTimePlayed));
  set('addedAt', oleDateToMs(r.DateAdded));
  return song;
}

/** Rows whose integer key is in `ids` (text ids that are not integers match nothing). */
function byIds<T>(db: PlayerDb, sql: string, key: string, ids: readonly string[], orderBy = ''): T[] {
  const ints = ids.filter((id) => /^-?\d{1,15}$/.test(id)).map(Number);
  if (ints.length === 0) return [];
  return db.prepare(`${sql} WHERE ${key} IN (SELECT value FROM json_each(?)) ${orderBy}`).all(JSON.stringify(ints)) as T[];
}

function readSongRows(db: PlayerDb, ids?: readonly string[]): { songs: PlayerSong[]; problems: Problem[] } {
  const rows = ids === undefined ? (db.prepare(`${SELECT_SONGS} ORDER BY s.ID`).all() as SongRow[]) : byIds<SongRow>(db, SELECT_SONGS, 's.ID', ids, 'ORDER BY s.ID');
  const problems: Problem[] = [];
  const songs: PlayerSong[] = [];
  for (const r of rows) {
    const s = toSong(r, problems);
    if (s) songs.push(s);
  }
  return { songs, problems };
}

/** Every playlist's `Folder/Sub/Name` from the ParentPlaylist links (0 = top); a broken or circular link ends the path there. */
function playlistNames(rows: readonly PlaylistRow[]): Map<number, string> {
  const byId = new Map(rows.map((r) => [r.IDPlaylist, r]));
  const names = new Map<number, string>();
  for (const r of rows) {
    const parts: string[] = [];
    const seen = new Set<number>();
    for (let at: PlaylistRow | undefined = r; at && !seen.has(at.IDPlaylist); at = byId.get(at.ParentPlaylist ?? 0)) {
      seen.add(at.IDPlaylist);
      parts.unshift(text(at.PlaylistName) ?? `(playlist ${at.IDPlaylist})`);
      if (!at.ParentPlaylist) break;
    }
    names.set(r.IDPlaylist, parts.join('/'));
  }
  return names;
}

/**
 * The playlists with these ids (all when undefined). Static ones hold their
 * items in SongOrder; an auto-playlist whose QueryData translates gets its
 * rule and the contents evaluated over `songs` (read here when not given);
 * one that does not is reported and keeps what MediaMonkey stored for it.
 */
function readPlaylistRows(db: PlayerDb, ids: readonly string[] | undefined, songs?: readonly PlayerSong[]): { playlists: PlayerPlaylist[]; problems: Problem[] } {
  const all = db.prepare('SELECT IDPlaylist, PlaylistName, ParentPlaylist, IsAutoPlaylist, QueryData FROM Playlists ORDER BY IDPlaylist').all() as PlaylistRow[];
  const names = playlistNames(all);
  const wantedIds = ids === undefined ? undefined : new Set(ids);
  const wanted = wantedIds === undefined ? all : all.filter((r) => wantedIds.has(String(r.IDPlaylist)));
  const problems: Problem[] = [];
  if (wanted.length === 0) return { playlists: [], problems };

  const items = byIds<{ IDPlaylist: number; IDSong: number }>(
    db,
    'SELECT IDPlaylist, IDSong FROM PlaylistSongs',
    'IDPlaylist',
    wanted.map((r) => String(r.IDPlaylist)),
    'ORDER BY IDPlaylist, SongOrder, IDPlaylistSong',
  );
  const pathOf = new Map<string, string>();
  const known = songs ?? readSongRows(db, [...new Set(items.map((i) => String(i.IDSong)))]).songs;
  for (const s of known) pathOf.set(s.id, s.path);
  // a song gone from Songs (MediaMonkey's delete trigger removes its items too) is skipped
  const itemsOf = new Map<number, string[]>();
  for (const i of items) {
    const path = pathOf.get(String(i.IDSong));
    if (path === undefined) continue;
    const list = itemsOf.get(i.IDPlaylist);
    if (list) list.push(path);
    else itemsOf.set(i.IDPlaylist, [path]);
  }

  let library = songs;
  const playlists: PlayerPlaylist[] = [];
  for (const r of wanted) {
    const name = names.get(r.IDPlaylist) ?? String(r.IDPlaylist);
    const stored = itemsOf.get(r.IDPlaylist) ?? [];
    const playlist: PlayerPlaylist = { id: String(r.IDPlaylist), name, smart: r.IsAutoPlaylist === 1, paths: stored };
    if (playlist.smart) {
      const t = translateQueryData(r.QueryData ?? '');
      if ('rule' in t) {
        library ??= readSongRows(db).songs;
        playlist.rule = t.rule;
        playlist.paths = evaluateRule(t.rule, library, Date.now(), stableRandom(`mediamonkey:${r.IDPlaylist}`));
      } else {
        problems.push({
          path: name,
          message: `MediaMonkey auto-playlist not translated, its contents left as MediaMonkey stored them (${stored.length} songs): ${t.problems.join('; ')}`,
        });
      }
    }
    playlists.push(playlist);
  }
  return { playlists, problems };
}

/**
 * The MediaMonkey databases (MM5 then MM4) that exist under each Windows
 * user's profile in `users`: on WSL, `/mnt/c/Users`.
 */
export function wslDatabases(users = '/mnt/c/Users'): string[] {
  let names: string[];
  try {
    names = readdirSync(users);
  } catch {
    return [];
  }
  return names
    .flatMap((u) => [join(users, u, 'AppData/Roaming/MediaMonkey5/MM5.DB'), join(users, u, 'AppData/Roaming/MediaMonkey/MM.DB')])
    .filter((p) => existsSync(p));
}

export const mediamonkey: SqlitePlayerAdapter = {
  kind: 'sqlite',
  name: 'mediamonkey',
  label: 'MediaMonkey',
  defaultPaths(env, home, platform) {
    if (platform === 'win32') {
      const appData = env.APPDATA ?? win32.join(home, 'AppData', 'Roaming');
      return [win32.join(appData, 'MediaMonkey5', 'MM5.DB'), win32.join(appData, 'MediaMonkey', 'MM.DB')];
    }
    return platform === 'linux' ? wslDatabases() : [];
  },
  recognize(db) {
    const tables = new Set(
      (db.prepare("SELECT lower(name) AS n FROM sqlite_master WHERE type = 'table'").all() as { n: string }[]).map((r) => r.n),
    );
    const missing = ['Songs', 'Medias', 'Playlists', 'PlaylistSongs'].filter((t) => !tables.has(t.toLowerCase()));
    return missing.length > 0 ? `no table ${missing.join(', ')}` : undefined;
  },
  watched: [
    { table: 'Songs', kind: 'song', ref: 'ID', columns: SONG_COLUMNS },
    { table: 'Playlists', kind: 'playlist', ref: 'IDPlaylist', columns: ['PlaylistName', 'ParentPlaylist', 'QueryData', 'IsAutoPlaylist'] },
    { table: 'PlaylistSongs', kind: 'playlist', ref: 'IDPlaylist' },
  ],
  readAll(db): PlayerSnapshot {
    return db.transaction(() => {
      const songs = readSongRows(db);
      const lists = readPlaylistRows(db, undefined, songs.songs);
      return { songs: songs.songs, playlists: lists.playlists, problems: [...songs.problems, ...lists.problems] };
    })();
  },
  readSongs(db, ids) {
    return readSongRows(db, ids);
  },
  readPlaylists(db, ids) {
    return db.transaction(() => readPlaylistRows(db, ids))();
  },
};
