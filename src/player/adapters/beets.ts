/**
 * beets: `library.db`. Songs are the `items` rows; `path` is a BLOB of the
 * file's bytes, absolute up to beets 2.9 and relative to the music
 * `directory` of the beets config from 2.10 on (files outside it stay
 * absolute). A relative path is joined with the directory the adapter was
 * given, else with the `directory:` of the `config.yaml` beside the database
 * (where BEETSDIR keeps both), else reported.
 *
 * Ratings and play counts are not fields of beets but flexible attributes
 * (`item_attributes`, text values); the bundled mpdstats plugin is what
 * sets them, so its names and scales are the ones mapped: `rating` 0–1,
 * `play_count`, `last_played` (seconds since the epoch). beets keeps no
 * playlists in its database (its playlist and smartplaylist plugins write
 * .m3u files), so there are none here.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Problem } from '../../core/problem.js';
import type { PlayerSong } from '../player-model.js';
import type { PlayerDb, SqlitePlayerAdapter } from '../sqlite-adapter.js';

export interface BeetsOptions {
  /**
   * The music `directory` of the beets config, absolute: what relative item
   * paths (beets ≥ 2.10) are relative to. Absent: read from the config.yaml
   * beside the database when there is one.
   */
  directory?: string;
}

const FLEX = (key: string): string => `(SELECT value FROM item_attributes a WHERE a.entity_id = i.id AND a.key = '${key}')`;

const SONGS = `
  SELECT i.id, i.path, i.title, i.artist, i.album, i.albumartist, i.genre, i.year, i.track, i.disc, i.length, i.added,
         ${FLEX('rating')} AS rating, ${FLEX('play_count')} AS play_count, ${FLEX('last_played')} AS last_played
  FROM items i`;

interface ItemRow {
  id: number;
  path: Buffer | string | null;
  title: string | null;
  artist: string | null;
  album: string | null;
  albumartist: string | null;
  genre: string | null;
  year: number | null;
  track: number | null;
  disc: number | null;
  length: number | null;
  added: number | null;
  rating: string | null;
  play_count: string | null;
  last_played: string | null;
}

/** An absolute path on any platform beets runs on: `/…`, `C:\…`, `\\server\…`. */
const ABSOLUTE = /^(?:\/|[A-Za-z]:[\\/]|\\\\)/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * beetsAdapter returns the beets adapter; `o.directory` is the music folder
 * relative item paths are joined with (see {@link BeetsOptions}).
 */
export function beetsAdapter(o: BeetsOptions = {}): SqlitePlayerAdapter {
  const read = (db: PlayerDb, where: string, params: unknown[]): { songs: PlayerSong[]; problems: Problem[] } => {
    const problems: Problem[] = [];
    const songs: PlayerSong[] = [];
    let directory: string | undefined | null = o.directory ?? null;
    const base = (): string | undefined => {
      if (directory === null) directory = configDirectory(db.name);
      return directory;
    };
    for (const r of db.prepare(`${SONGS}${where} ORDER BY i.id`).all(...params) as ItemRow[]) {
      const path = itemPath(r, base, problems);
      if (path !== undefined) songs.push(toSong(r, path, problems));
    }
    return { songs, problems };
  };
  return {
    kind: 'sqlite',
    name: 'beets',
    label: 'beets',
    defaultPaths(env, home, platform) {
      const out: string[] = [];
      if (env['BEETSDIR']) out.push(join(env['BEETSDIR'], 'library.db'));
      if (platform === 'win32') {
        out.push(join(env['APPDATA'] || join(home, 'AppData', 'Roaming'), 'beets', 'library.db'));
        return out;
      }
      out.push(join(env['XDG_CONFIG_HOME'] || join(home, '.config'), 'beets', 'library.db'));
      if (platform === 'darwin') out.push(join(home, 'Library', 'Application Support', 'beets', 'library.db'));
      return out;
    },
    recognize(db) {
      const columns = (table: string): Set<string> =>
        new Set((db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((c) => c.name));
      const items = columns('items');
      if (!items.has('path') || !items.has('album_id')) return 'no items table with path and album_id (not a beets library)';
      const attributes = columns('item_attributes');
      if (!attributes.has('entity_id') || !attributes.has('key')) return 'no item_attributes table (not a beets library)';
      return undefined;
    },
    watched: [
      { table: 'items', kind: 'song', ref: 'id', columns: ['path', 'title', 'artist', 'album', 'albumartist', 'genre', 'year', 'track', 'disc', 'length'] },
      // beets stores a flexible attribute with INSERT (its UNIQUE … ON CONFLICT REPLACE does the rest) and removes it with DELETE.
      { table: 'item_attributes', kind: 'song', ref: 'entity_id', columns: ['entity_id', 'key', 'value'] },
    ],
    readAll(db) {
      const { songs, problems } = db.transaction(() => read(db, '', []))();
      return { songs, playlists: [], problems };
    },
    readSongs(db, ids) {
      const numbers = ids.filter((id) => /^\d+$/.test(id)).map(Number);
      return read(db, ' WHERE i.id IN (SELECT value FROM json_each(?))', [JSON.stringify(numbers)]);
    },
    readPlaylists() {
      return { playlists: [], problems: [] };
    },
  };
}

/** The adapter for the usual setup: relative paths resolved with the config.yaml beside the database. */
export const beets: SqlitePlayerAdapter = beetsAdapter();

/**
 * The `directory:` of the config.yaml beside `dbFile`, `~` expanded; undefined
 * when there is no such file or key. Only that one top-level scalar is read,
 * so no YAML parser is needed.
 */
export function configDirectory(dbFile: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(dirname(dbFile), 'config.yaml'), 'utf8');
  } catch {
    return undefined;
  }
  const m = /^directory:[ \t]*(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^#\r\n]*?))[ \t]*(?:#.*)?$/m.exec(text);
  if (!m) return undefined;
  const value = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2] !== undefined ? m[2].replaceAll("''", "'") : (m[3] ?? '');
  if (value === '') return undefined;
  if (value === '~' || value.startsWith('~/')) return join(homedir(), value.slice(1));
  return value;
}

/** The item's absolute path, decoded from beets' bytes; a problem naming the item when it cannot be. */
function itemPath(r: ItemRow, directory: () => string | undefined, problems: Problem[]): string | undefined {
  let path: string;
  if (typeof r.path === 'string') {
    path = r.path;
  } else if (r.path !== null) {
    try {
      path = UTF8.decode(r.path);
    } catch {
      problems.push({ path: `beets item ${String(r.id)}`, message: `path is not UTF-8: ${r.path.toString('latin1')}` });
      return undefined;
    }
  } else {
    path = '';
  }
  if (path === '') {
    problems.push({ path: `beets item ${String(r.id)}`, message: 'no path' });
    return undefined;
  }
  if (ABSOLUTE.test(path)) return path;
  const base = directory();
  if (base === undefined) {
    problems.push({ path, message: `beets item ${String(r.id)}: a path relative to the music directory, and no directory known (set it in the beets config.yaml)` });
    return undefined;
  }
  return join(base, path);
}

function text(s: string | null): string | undefined {
  return s !== null && s !== '' ? s : undefined;
}

function positive(n: number | null): number | undefined {
  return n !== null && n > 0 ? n : undefined;
}

/** A flexible attribute's text as a finite number, or undefined. */
function flexNumber(v: string | null): number | undefined {
  if (v === null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function toSong(r: ItemRow, path: string, problems: Problem[]): PlayerSong {
  const song: PlayerSong = { id: String(r.id), path };
  const set = <K extends keyof PlayerSong>(k: K, v: PlayerSong[K] | undefined): void => {
    if (v !== undefined) song[k] = v;
  };
  set('title', text(r.title));
  set('artist', text(r.artist));
  set('album', text(r.album));
  set('albumArtist', text(r.albumartist));
  set('genre', text(r.genre));
  set('year', positive(r.year));
  set('track', positive(r.track));
  set('disc', positive(r.disc));
  set('durationSec', positive(r.length));
  const added = positive(r.added);
  set('addedAt', added === undefined ? undefined : Math.round(added * 1000));
  const rating = flexNumber(r.rating);
  if (rating !== undefined && rating >= 0 && rating <= 1) song.rating = Math.round(rating * 100);
  else if (r.rating !== null) problems.push({ path, message: `beets rating ${JSON.stringify(r.rating)} is not on mpdstats' 0–1 scale: left out` });
  const plays = flexNumber(r.play_count);
  if (plays !== undefined && plays >= 0) song.playCount = Math.floor(plays);
  const played = flexNumber(r.last_played);
  if (played !== undefined && played > 0) song.lastPlayed = Math.round(played * 1000);
  return song;
}
