/**
 * Banshee: `banshee.db` (schema of BansheeDbFormatMigrator.cs, DatabaseVersion
 * 45). Songs are the CoreTracks rows of the music library's primary source
 * (podcasts, videos and devices are other sources in the same table), their
 * artist, album and album artist in CoreArtists and CoreAlbums. Static
 * playlists are CorePlaylists + CorePlaylistEntries (ordered by ViewOrder);
 * smart playlists are CoreSmartPlaylists whose current contents Banshee
 * materialises in CoreSmartPlaylistEntries, so they are read as those
 * entries (no rule). Static and smart playlists number their rows apart:
 * a smart playlist's id is `s<SmartPlaylistID>`, a static one's the bare
 * PlaylistID.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Problem } from '../../core/problem.js';
import type { PlayerPlaylist, PlayerSong } from '../player-model.js';
import type { PlayerDb, SqlitePlayerAdapter } from '../sqlite-adapter.js';

/** CorePrimarySources.StringID of the music library (PrimarySource.UniqueId of MusicLibrarySource). */
const MUSIC_LIBRARY = 'MusicLibrarySource-Library';
const SMART = 's';
const LIBRARY_ID = `(SELECT PrimarySourceID FROM CorePrimarySources WHERE StringID = '${MUSIC_LIBRARY}')`;

const SONGS = `
  SELECT t.TrackID AS id, t.Uri AS uri, t.Title AS title, ar.Name AS artist, al.Title AS album,
         al.ArtistName AS albumArtist, t.Genre AS genre, t.Year AS year, t.TrackNumber AS track, t.Disc AS disc,
         t.Duration AS duration, t.Rating AS rating, t.PlayCount AS playCount, t.LastPlayedStamp AS lastPlayed,
         t.DateAddedStamp AS added
  FROM CoreTracks t
  LEFT JOIN CoreArtists ar ON ar.ArtistID = t.ArtistID
  LEFT JOIN CoreAlbums al ON al.AlbumID = t.AlbumID
  WHERE t.PrimarySourceID = ${LIBRARY_ID}`;

// Playlists of the music library; IsTemporary ones are Banshee's own scratch lists.
const PLAYLISTS = `
  SELECT PlaylistID AS id, Name AS name FROM CorePlaylists
  WHERE (PrimarySourceID IS NULL OR PrimarySourceID = ${LIBRARY_ID}) AND COALESCE(IsTemporary, 0) = 0`;
const SMART_PLAYLISTS = `
  SELECT SmartPlaylistID AS id, Name AS name FROM CoreSmartPlaylists
  WHERE (PrimarySourceID IS NULL OR PrimarySourceID = ${LIBRARY_ID}) AND COALESCE(IsTemporary, 0) = 0`;
const ENTRIES = `
  SELECT e.PlaylistID AS list, t.TrackID AS id, t.Uri AS uri
  FROM CorePlaylistEntries e JOIN CoreTracks t ON t.TrackID = e.TrackID
  WHERE t.PrimarySourceID = ${LIBRARY_ID}`;
const SMART_ENTRIES = `
  SELECT e.SmartPlaylistID AS list, t.TrackID AS id, t.Uri AS uri
  FROM CoreSmartPlaylistEntries e JOIN CoreTracks t ON t.TrackID = e.TrackID
  WHERE t.PrimarySourceID = ${LIBRARY_ID}`;
const IN_IDS = '(SELECT value FROM json_each(?))';

interface TrackRow {
  id: number;
  uri: string | null;
  title: string | null;
  artist: string | null;
  album: string | null;
  albumArtist: string | null;
  genre: string | null;
  year: number | null;
  track: number | null;
  disc: number | null;
  duration: number | null;
  rating: number | null;
  playCount: number | null;
  lastPlayed: number | null;
  added: number | null;
}
interface ListRow {
  id: number;
  name: string | null;
}
interface EntryRow {
  list: number;
  id: number;
  uri: string | null;
}

const TABLES = ['CoreTracks', 'CoreArtists', 'CoreAlbums', 'CorePrimarySources', 'CorePlaylists', 'CorePlaylistEntries', 'CoreSmartPlaylists', 'CoreSmartPlaylistEntries'];

export const banshee: SqlitePlayerAdapter = {
  kind: 'sqlite',
  name: 'banshee',
  label: 'Banshee',
  defaultPaths(env, home) {
    // Banshee keeps its database in XDG_CONFIG_HOME/banshee-1 on every platform it ran on.
    return [join(env['XDG_CONFIG_HOME'] || join(home, '.config'), 'banshee-1', 'banshee.db')];
  },
  recognize(db) {
    const have = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    const missing = TABLES.filter((t) => !have.has(t));
    if (missing.length > 0) return `no ${missing.join(', ')} table${missing.length > 1 ? 's' : ''} (not a Banshee database)`;
    return undefined;
  },
  watched: [
    {
      table: 'CoreTracks',
      kind: 'song',
      ref: 'TrackID',
      columns: ['PrimarySourceID', 'Uri', 'Title', 'ArtistID', 'AlbumID', 'Genre', 'Year', 'TrackNumber', 'Disc', 'Duration', 'Rating', 'PlayCount', 'LastPlayedStamp', 'DateAddedStamp'],
    },
    // Banshee updates an album's or artist's row in place when only the case of its name changed
    // (DatabaseAlbumInfo.FindOrCreate): a change of every track pointing at it.
    { table: 'CoreAlbums', kind: 'song', ref: 'AlbumID', columns: ['Title', 'ArtistName'], through: { table: 'CoreTracks', column: 'AlbumID', ref: 'TrackID' } },
    { table: 'CoreArtists', kind: 'song', ref: 'ArtistID', columns: ['Name'], through: { table: 'CoreTracks', column: 'ArtistID', ref: 'TrackID' } },
    { table: 'CorePlaylists', kind: 'playlist', ref: 'PlaylistID', columns: ['Name', 'PrimarySourceID', 'IsTemporary'] },
    { table: 'CorePlaylistEntries', kind: 'playlist', ref: 'PlaylistID', columns: ['PlaylistID', 'TrackID', 'ViewOrder'] },
    { table: 'CoreSmartPlaylists', kind: 'playlist', ref: 'SmartPlaylistID', refPrefix: SMART, columns: ['Name', 'PrimarySourceID', 'IsTemporary'] },
    { table: 'CoreSmartPlaylistEntries', kind: 'playlist', ref: 'SmartPlaylistID', refPrefix: SMART, columns: ['SmartPlaylistID', 'TrackID'] },
  ],
  readAll(db) {
    return db.transaction(() => {
      const problems: Problem[] = [];
      const songs = readTracks(db, SONGS, [], problems);
      const playlists = readLists(db, undefined, undefined, problems);
      return { songs, playlists, problems };
    })();
  },
  readSongs(db, ids) {
    const problems: Problem[] = [];
    const songs = readTracks(db, `${SONGS} AND t.TrackID IN ${IN_IDS}`, [numbers(ids, '')], problems);
    return { songs, problems };
  },
  readPlaylists(db, ids) {
    return db.transaction(() => {
      const problems: Problem[] = [];
      const playlists = readLists(db, numbers(ids, ''), numbers(ids, SMART), problems);
      return { playlists, problems };
    })();
  },
};

/** The ids among `ids` that are `prefix` + a number, as a JSON array of numbers for json_each. */
function numbers(ids: readonly string[], prefix: string): string {
  const out: number[] = [];
  for (const id of ids) {
    const digits = id.startsWith(prefix) ? id.slice(prefix.length) : '';
    if (/^\d+$/.test(digits)) out.push(Number(digits));
  }
  return JSON.stringify(out);
}

function readTracks(db: PlayerDb, sql: string, params: unknown[], problems: Problem[]): PlayerSong[] {
  const songs: PlayerSong[] = [];
  for (const r of db.prepare(`${sql} ORDER BY t.TrackID`).all(...params) as TrackRow[]) {
    const path = uriPath(r.uri, r.id, problems);
    if (path !== undefined) songs.push(toSong(r, path));
  }
  return songs;
}

/**
 * Static playlists among `ids` and smart ones among `smartIds` (JSON arrays
 * of numbers), or every one when both are undefined.
 */
function readLists(db: PlayerDb, ids: string | undefined, smartIds: string | undefined, problems: Problem[]): PlayerPlaylist[] {
  const all = ids === undefined;
  const where = all ? '' : ` AND e.PlaylistID IN ${IN_IDS}`;
  const smartWhere = all ? '' : ` AND e.SmartPlaylistID IN ${IN_IDS}`;
  const statics = db.prepare(all ? PLAYLISTS : `${PLAYLISTS} AND PlaylistID IN ${IN_IDS}`).all(...(all ? [] : [ids])) as ListRow[];
  const smarts = db.prepare(all ? SMART_PLAYLISTS : `${SMART_PLAYLISTS} AND SmartPlaylistID IN ${IN_IDS}`).all(...(all ? [] : [smartIds])) as ListRow[];
  const entries = db.prepare(`${ENTRIES}${where} ORDER BY e.PlaylistID, e.ViewOrder, e.EntryID`).all(...(all ? [] : [ids])) as EntryRow[];
  const smartEntries = db.prepare(`${SMART_ENTRIES}${smartWhere} ORDER BY e.SmartPlaylistID, e.EntryID`).all(...(all ? [] : [smartIds])) as EntryRow[];
  // A song whose Uri is not a file is reported once, by the songs it belongs to; here it is only left out.
  const quiet: Problem[] = [];
  const paths = (rows: EntryRow[]): Map<number, string[]> => {
    const byList = new Map<number, string[]>();
    for (const e of rows) {
      const path = uriPath(e.uri, e.id, quiet);
      if (path === undefined) continue;
      const list = byList.get(e.list);
      if (list) list.push(path);
      else byList.set(e.list, [path]);
    }
    return byList;
  };
  const staticPaths = paths(entries);
  const smartPaths = paths(smartEntries);
  const named = (r: ListRow, id: string): string | undefined => {
    if (r.name !== null && r.name !== '') return r.name;
    problems.push({ path: `playlist ${id}`, message: 'Banshee playlist without a name: left out' });
    return undefined;
  };
  const out: PlayerPlaylist[] = [];
  for (const r of statics) {
    const id = String(r.id);
    const name = named(r, id);
    if (name !== undefined) out.push({ id, name, smart: false, paths: staticPaths.get(r.id) ?? [] });
  }
  for (const r of smarts) {
    const id = `${SMART}${String(r.id)}`;
    const name = named(r, id);
    if (name !== undefined) out.push({ id, name, smart: true, paths: smartPaths.get(r.id) ?? [] });
  }
  return out;
}

/** The absolute path of a track's `file://` Uri; anything else is a problem naming the track. */
function uriPath(uri: string | null, id: number, problems: Problem[]): string | undefined {
  if (uri !== null && uri.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch {
      // fall through: reported below
    }
  }
  problems.push({ path: uri ?? `track ${String(id)}`, message: `Banshee track ${String(id)}: not a local file URI` });
  return undefined;
}

/** A positive number, or undefined for Banshee's 0/NULL that mean "not set". */
function positive(n: number | null): number | undefined {
  return n !== null && n > 0 ? n : undefined;
}

function text(s: string | null): string | undefined {
  return s !== null && s !== '' ? s : undefined;
}

function toSong(r: TrackRow, path: string): PlayerSong {
  const song: PlayerSong = { id: String(r.id), path };
  const set = <K extends keyof PlayerSong>(k: K, v: PlayerSong[K] | undefined): void => {
    if (v !== undefined) song[k] = v;
  };
  set('title', text(r.title));
  set('artist', text(r.artist));
  set('album', text(r.album));
  set('albumArtist', text(r.albumArtist));
  set('genre', text(r.genre));
  set('year', positive(r.year));
  set('track', positive(r.track));
  set('disc', positive(r.disc));
  const ms = positive(r.duration);
  set('durationSec', ms === undefined ? undefined : ms / 1000);
  // Stars 0–5, 0 meaning unrated.
  const stars = positive(r.rating);
  set('rating', stars === undefined ? undefined : Math.min(5, stars) * 20);
  set('playCount', r.playCount ?? undefined);
  const played = positive(r.lastPlayed);
  set('lastPlayed', played === undefined ? undefined : played * 1000);
  const added = positive(r.added);
  set('addedAt', added === undefined ? undefined : added * 1000);
  return song;
}
