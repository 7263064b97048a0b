/**
 * The browsing routes of the Subsonic API: folders, indexes, artists,
 * albums, songs, album lists, genres, search, random songs, lyrics, stars
 * and the scan status, all read from the server's index (state/
 * subsonic-index.ts), which the server brings up to date before a request.
 * An id parameter is first checked for the kind it must name (see
 * core/subsonic-ids.ts): anything else, a path included, is not found.
 */
import { idKind, type SubsonicIdKind } from '../core/subsonic-ids.js';
import { IGNORED_ARTICLES, type AlbumListType, type IndexedArtist } from '../state/subsonic-index.js';
import { badParameter, notFound } from './api-error.js';
import { int, optionalInt, required } from './params.js';
import { albumChild, albumID3, albumWithSongs, artistEntry, artistID3, songChild } from './child.js';
import type { RouteTable, SubsonicBody, SubsonicRequest } from './route-types.js';

/** The most a page may hold, whatever a client asks. */
const MAX_PAGE = 500;

/** A page size: `def` when absent, clamped to 0..MAX_PAGE. */
function pageSize(req: SubsonicRequest, name: string, def: number): number {
  return int(req.params, name, { default: def, min: 0, max: MAX_PAGE });
}

/** An offset: 0 when absent, never below 0. */
function offset(req: SubsonicRequest, name: string): number {
  return int(req.params, name, { default: 0, min: 0 });
}

/** The `id` parameter when it names a thing of one of `kinds`; notFound (70) otherwise, whatever it holds. */
function idOf(req: SubsonicRequest, what: string, ...kinds: SubsonicIdKind[]): string {
  const id = required(req.params, 'id');
  const kind = idKind(id);
  if (kind === undefined || !kinds.includes(kind)) throw notFound(what);
  return id;
}

const IGNORED = IGNORED_ARTICLES.join(' ');

/** The index letter of an artist: the first letter of its sort name, `#` when that is no A–Z letter. */
function letterOf(a: IndexedArtist): string {
  const c = a.sortName.charAt(0).toUpperCase();
  return c >= 'A' && c <= 'Z' ? c : '#';
}

/** Artists under their letters, A to Z, then `#`. */
function byLetter(artists: readonly IndexedArtist[], shape: (a: IndexedArtist) => SubsonicBody): SubsonicBody[] {
  const groups = new Map<string, SubsonicBody[]>();
  for (const a of artists) {
    const letter = letterOf(a);
    let list = groups.get(letter);
    if (!list) groups.set(letter, (list = []));
    list.push(shape(a));
  }
  return [...groups.keys()]
    .sort((x, y) => (x === '#' ? 1 : y === '#' ? -1 : x < y ? -1 : x > y ? 1 : 0))
    .map((name) => ({ name, artist: groups.get(name)! }));
}

const ALBUM_LIST_TYPES: ReadonlySet<string> = new Set<AlbumListType>([
  'random',
  'newest',
  'highest',
  'frequent',
  'recent',
  'alphabeticalByName',
  'alphabeticalByArtist',
  'starred',
  'byYear',
  'byGenre',
]);

/** The index's page of albums a getAlbumList(2) request asks for. */
function albumPage(req: SubsonicRequest) {
  const type = required(req.params, 'type');
  if (!ALBUM_LIST_TYPES.has(type)) throw badParameter('type', `is not a list type: ${type.slice(0, 40)}`);
  const q = { type: type as AlbumListType, size: pageSize(req, 'size', 10), offset: offset(req, 'offset') };
  if (type === 'byYear') {
    return req.serve.index.albumList({ ...q, fromYear: int(req.params, 'fromYear'), toYear: int(req.params, 'toYear') });
  }
  if (type === 'byGenre') return req.serve.index.albumList({ ...q, genre: required(req.params, 'genre') });
  return req.serve.index.albumList(q);
}

/** The words of a search's `query`: absent, empty or `""` (what some clients send) is everything. */
function searchQuery(req: SubsonicRequest) {
  const query = (req.params.get('query') ?? '').trim().replace(/^"+|"+$/g, '');
  return {
    query,
    artistCount: pageSize(req, 'artistCount', 20),
    artistOffset: offset(req, 'artistOffset'),
    albumCount: pageSize(req, 'albumCount', 20),
    albumOffset: offset(req, 'albumOffset'),
    songCount: pageSize(req, 'songCount', 20),
    songOffset: offset(req, 'songOffset'),
  };
}

const LRC_TIME = /^\[(\d{1,3}):(\d{1,2}(?:[.:]\d{1,3})?)\](.*)$/;
const LRC_TAG = /^\[[a-z]+:[^\]]*\]$/i;

/**
 * The lines of a lyrics tag as OpenSubsonic structured lyrics: synced (with
 * a start in ms) when the text is LRC (every line a timed line or an LRC tag),
 * else one unsynced line per line.
 */
function structured(lyrics: string, artist: string, title: string): SubsonicBody {
  const lines = lyrics.replace(/\r\n?/g, '\n').split('\n');
  const filled = lines.filter((l) => l.trim() !== '');
  const timed = filled.filter((l) => LRC_TIME.test(l.trim()));
  const synced = timed.length > 0 && filled.every((l) => LRC_TIME.test(l.trim()) || LRC_TAG.test(l.trim()));
  const line = synced
    ? timed.map((l) => {
        const [, min, sec, words] = LRC_TIME.exec(l.trim())!;
        return { start: Math.round((Number(min) * 60 + Number(sec!.replace(':', '.'))) * 1000), value: words!.trim() };
      })
    : lines.map((l) => ({ value: l }));
  return { displayArtist: artist, displayTitle: title, lang: 'xxx', synced, line };
}

export const browseRoutes: RouteTable = {
  getMusicFolders: (req) => ({ musicFolders: { musicFolder: [{ id: 1, name: req.serve.remote.url }] } }),

  getIndexes: (req) => {
    const since = optionalInt(req.params, 'ifModifiedSince');
    const lastModified = req.serve.index.stats().lastChange ?? 0;
    const indexes: SubsonicBody = { ignoredArticles: IGNORED, lastModified };
    // Unchanged since the client's copy: no index, as the spec says.
    if (since === undefined || lastModified > since) indexes.index = byLetter(req.serve.index.artists(), artistEntry);
    return { indexes };
  },

  getArtists: (req) => ({ artists: { ignoredArticles: IGNORED, index: byLetter(req.serve.index.artists(), artistID3) } }),

  getArtist: (req) => {
    const id = idOf(req, 'Artist', 'artist');
    const artist = req.serve.index.artist(id);
    if (!artist) throw notFound('Artist');
    return { artist: { ...artistID3(artist), album: req.serve.index.albumsOf(id).map(albumID3) } };
  },

  getAlbum: (req) => {
    const id = idOf(req, 'Album', 'album');
    const album = req.serve.index.album(id);
    if (!album) throw notFound('Album');
    return { album: albumWithSongs(album, req.serve.index.albumSongs(id)) };
  },

  getSong: (req) => {
    const song = req.serve.index.song(idOf(req, 'Song', 'song'));
    if (!song) throw notFound('Song');
    return { song: songChild(song) };
  },

  getMusicDirectory: (req) => {
    const id = idOf(req, 'Directory', 'artist', 'album');
    const index = req.serve.index;
    if (idKind(id) === 'artist') {
      const artist = index.artist(id);
      if (!artist) throw notFound('Directory');
      const directory: SubsonicBody = { id, name: artist.name };
      if (artist.starred !== undefined) directory.starred = new Date(artist.starred).toISOString();
      directory.child = index.albumsOf(id).map(albumChild);
      return { directory };
    }
    const album = index.album(id);
    if (!album) throw notFound('Directory');
    const directory: SubsonicBody = { id, parent: album.artistId, name: album.name };
    if (album.starred !== undefined) directory.starred = new Date(album.starred).toISOString();
    directory.playCount = album.playCount;
    directory.child = index.albumSongs(id).map(songChild);
    return { directory };
  },

  getAlbumList: (req) => ({ albumList: { album: albumPage(req).map(albumChild) } }),

  getAlbumList2: (req) => ({ albumList2: { album: albumPage(req).map(albumID3) } }),

  getGenres: (req) => ({
    genres: { genre: req.serve.index.genres().map((g) => ({ value: g.name, songCount: g.songCount, albumCount: g.albumCount })) },
  }),

  getSongsByGenre: (req) => {
    const genre = required(req.params, 'genre');
    return { songsByGenre: { song: req.serve.index.songsByGenre(genre, pageSize(req, 'count', 10), offset(req, 'offset')).map(songChild) } };
  },

  search2: (req) => {
    const r = req.serve.index.search(searchQuery(req));
    return { searchResult2: { artist: r.artists.map(artistEntry), album: r.albums.map(albumChild), song: r.songs.map(songChild) } };
  },

  search3: (req) => {
    const r = req.serve.index.search(searchQuery(req));
    return { searchResult3: { artist: r.artists.map(artistID3), album: r.albums.map(albumID3), song: r.songs.map(songChild) } };
  },

  getRandomSongs: (req) => {
    const q: { size: number; genre?: string; fromYear?: number; toYear?: number } = { size: pageSize(req, 'size', 10) };
    const genre = req.params.get('genre');
    if (genre) q.genre = genre;
    const fromYear = optionalInt(req.params, 'fromYear');
    if (fromYear !== undefined) q.fromYear = fromYear;
    const toYear = optionalInt(req.params, 'toYear');
    if (toYear !== undefined) q.toYear = toYear;
    return { randomSongs: { song: req.serve.index.randomSongs(q).map(songChild) } };
  },

  getLyrics: (req) => {
    const title = req.params.get('title');
    const artist = req.params.get('artist');
    const found = title ? req.serve.index.findLyrics(artist || undefined, title) : undefined;
    if (!found) return { lyrics: { value: '' } };
    return { lyrics: { artist: found.song.artist, title: found.song.title, value: found.lyrics } };
  },

  getLyricsBySongId: (req) => {
    const song = req.serve.index.song(idOf(req, 'Song', 'song'));
    if (!song) throw notFound('Song');
    const lyrics = song.hasLyrics ? req.serve.index.lyrics(song.id) : undefined;
    return { lyricsList: { structuredLyrics: lyrics === undefined ? [] : [structured(lyrics, song.artist, song.title)] } };
  },

  getStarred: (req) => {
    const s = req.serve.index.starred();
    return { starred: { artist: s.artists.map(artistEntry), album: s.albums.map(albumChild), song: s.songs.map(songChild) } };
  },

  getStarred2: (req) => {
    const s = req.serve.index.starred();
    return { starred2: { artist: s.artists.map(artistID3), album: s.albums.map(albumID3), song: s.songs.map(songChild) } };
  },

  getScanStatus: (req) => ({ scanStatus: req.serve.index.scanStatus() }),

  // No play statistics from outside the library: an empty list, as the spec allows.
  getTopSongs: (req) => {
    required(req.params, 'artist');
    pageSize(req, 'count', 50);
    return { topSongs: { song: [] } };
  },

  getArtistInfo: (req) => artistInfo(req, 'artistInfo'),
  getArtistInfo2: (req) => artistInfo(req, 'artistInfo2'),
  getAlbumInfo: (req) => albumInfo(req),
  getAlbumInfo2: (req) => albumInfo(req),
};

/** No biography or images from outside the library: an empty info of an artist that exists. */
function artistInfo(req: SubsonicRequest, field: 'artistInfo' | 'artistInfo2'): SubsonicBody {
  if (!req.serve.index.artist(idOf(req, 'Artist', 'artist'))) throw notFound('Artist');
  return { [field]: {} };
}

/** No notes or images from outside the library: an empty info of an album (or a song's album) that exists. */
function albumInfo(req: SubsonicRequest): SubsonicBody {
  const id = idOf(req, 'Album', 'album', 'song');
  const found = idKind(id) === 'album' ? req.serve.index.album(id) : req.serve.index.song(id);
  if (!found) throw notFound('Album');
  return { albumInfo: {} };
}
