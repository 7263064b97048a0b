/**
 * The Subsonic server's browsing index.
 *
 * Songs, albums, artists and genres of one remote's `music/`, as the catalog
 * (the mirror, remote_objects) describes them, kept in tables of their own
 * so that a request reads an index, never the whole mirror. Triggers on
 * remote_objects note each changed key once the index was built for a
 * remote; refresh() applies them. Ids come from core/subsonic-ids.ts.
 *
 * Derivation from a song's tags (the file's own; a player's view of them is
 * not used): title, else the file name without its extension; artist, else
 * the album artist, else "Unknown Artist"; album artist, else the artist;
 * album, else the name of the song's folder (when it is not `music/`
 * itself), else "Unknown Album". Albums are songs grouped by lower-cased
 * album artist and album; artists are album artists. Names are matched and
 * sorted by a folded copy (see fold()), sorted without a leading ignored
 * article.
 */
import { cached, type Db } from './state-db.js';
import type { Tags } from '../core/tags.js';
import { subsonicId } from '../core/subsonic-ids.js';
import { indexWorkerAvailable, runIndexWorker } from './subsonic-index-thread.js';
import {
  commonFolder,
  deriveSong,
  fold,
  folderOf,
  imageRank,
  isSongKey,
  matchQuery,
  MUSIC,
  parseJson,
  songWords,
  sortName,
  text,
  type ObjectRow,
  type SongValues,
} from './subsonic-derive.js';

export interface IndexedSong {
  id: string;
  /** The object's key relative to the remote root (`music/…`). */
  key: string;
  title: string;
  album: string;
  albumId: string;
  artist: string;
  /** Its artist's id when that artist is an album artist here (getArtist finds it), else its album artist's. */
  artistId: string;
  albumArtist: string;
  genre?: string;
  year?: number;
  track?: number;
  disc?: number;
  durationSec?: number;
  /** kbit/s. */
  bitrate?: number;
  size: number;
  /** Lower-case extension without the dot: `mp3`. */
  suffix: string;
  md5?: string;
  /** Cover name (Tags.cover) when the file has an embedded one. */
  cover?: string;
  /** ms since the epoch: when the catalog says it was written, else when first indexed. */
  created: number;
  playCount?: number;
  lastPlayed?: number;
  /** 0–100. */
  rating?: number;
  starred?: number;
  hasLyrics: boolean;
  /** Its album has a cover (an embedded one of any of its songs, or an image file in its folder). */
  albumHasCover?: boolean;
}

export interface IndexedAlbum {
  id: string;
  name: string;
  artist: string;
  artistId: string;
  year?: number;
  genre?: string;
  songCount: number;
  durationSec: number;
  created: number;
  /** A cover name of one of its songs, when any has one. */
  cover?: string;
  /** The album's folder (the common key prefix of its songs), for a cover image file beside them. */
  folder: string;
  /** The key of a cover image object in its folder (`music/…/cover.jpg`), when there is one. */
  image?: string;
  playCount: number;
  lastPlayed?: number;
  /** 0–100: the mean of its rated songs' ratings. */
  rating?: number;
  starred?: number;
}

export interface IndexedArtist {
  id: string;
  name: string;
  /** The name without a leading ignored article, for sorting and indexing. */
  sortName: string;
  albumCount: number;
  starred?: number;
  /** An album of theirs with a cover, for the artist's picture. */
  coverAlbumId?: string;
}

export interface IndexedGenre {
  name: string;
  songCount: number;
  albumCount: number;
}

export type AlbumListType =
  | 'random'
  | 'newest'
  | 'highest'
  | 'frequent'
  | 'recent'
  | 'alphabeticalByName'
  | 'alphabeticalByArtist'
  | 'starred'
  | 'byYear'
  | 'byGenre';

export interface AlbumListQuery {
  type: AlbumListType;
  size: number;
  offset: number;
  fromYear?: number;
  toYear?: number;
  genre?: string;
}

export interface SearchQuery {
  /** Words that must all occur (case- and accent-insensitive) in a name; empty: everything. */
  query: string;
  artistCount: number;
  artistOffset: number;
  albumCount: number;
  albumOffset: number;
  songCount: number;
  songOffset: number;
}

export { IGNORED_ARTICLES, AUDIO_SUFFIXES, fold, sortName } from './subsonic-derive.js';

/** The first key after every `music/…` key: a range on the primary key, not LIKE. */
const MUSIC_END = 'music0';
/** Keys, ids or folds per statement (a JSON array bound as one parameter). */
const CHUNK = 500;
/** Below this many candidates a random pick sorts them by random(); above, it probes row numbers. */
const RANDOM_SORT_MAX = 2000;
/** The page cache while building (negative: KiB). */
const BUILD_CACHE = -8192;
/**
 * From this many noted keys an update is large enough for a worker thread
 * (a full listing that changed much): fewer are applied on the caller's
 * thread, where they cost less than starting a worker.
 */
export const WORKER_DIRTY_MIN = 2000;

interface SongRow extends SongValues {
  n: number;
  artist_ref: string;
  album_cover: number;
}

interface AlbumRow {
  n: number;
  id: string;
  name: string;
  artist: string;
  artist_id: string;
  year: number | null;
  genre: string | null;
  song_count: number;
  duration: number;
  created: number;
  cover: string | null;
  folder: string;
  image: string | null;
  play_count: number;
  last_played: number | null;
  rating: number | null;
  starred_at: number | null;
}

interface ArtistRow {
  n: number;
  id: string;
  name: string;
  sort_name: string;
  album_count: number;
  cover_album: string | null;
  starred_at: number | null;
}

// A song's artist id is its own artist's when that artist is an album
// artist here, else its album artist's: an id a client follows is always found.
const SONG_FIELDS = `s.*, CASE WHEN ar.id IS NOT NULL THEN s.artist_id ELSE COALESCE(al.artist_id, s.artist_id) END AS artist_ref,
    (s.cover IS NOT NULL OR al.cover IS NOT NULL OR al.image IS NOT NULL) AS album_cover`;
const SONG_JOINS = `LEFT JOIN sub_albums al ON al.remote = s.remote AND al.id = s.album_id
  LEFT JOIN sub_artists ar ON ar.remote = s.remote AND ar.id = s.artist_id`;
const SONG_SELECT = `SELECT ${SONG_FIELDS} FROM sub_songs s ${SONG_JOINS}`;
/** Songs found by words (bind the match first): the full-text table leads (CROSS JOIN keeps that order), the tables add their columns. */
const SONG_MATCH = `SELECT ${SONG_FIELDS} FROM sub_song_words w CROSS JOIN sub_songs s ON s.n = w.rowid ${SONG_JOINS} WHERE sub_song_words MATCH ?`;
const ALBUM_SELECT = 'SELECT a.*, st.starred_at FROM sub_albums a LEFT JOIN sub_stars st ON st.remote = a.remote AND st.id = a.id';
const ARTIST_SELECT = 'SELECT r.*, st.starred_at FROM sub_artists r LEFT JOIN sub_stars st ON st.remote = r.remote AND st.id = r.id';

function toSong(r: SongRow): IndexedSong {
  const s: IndexedSong = {
    id: r.id,
    key: r.key,
    title: r.title,
    album: r.album,
    albumId: r.album_id,
    artist: r.artist,
    artistId: r.artist_ref,
    albumArtist: r.album_artist,
    size: r.size,
    suffix: r.suffix,
    created: r.created,
    hasLyrics: r.has_lyrics === 1,
    albumHasCover: r.album_cover === 1,
  };
  if (r.genre !== null) s.genre = r.genre;
  if (r.year !== null) s.year = r.year;
  if (r.track !== null) s.track = r.track;
  if (r.disc !== null) s.disc = r.disc;
  if (r.duration !== null) s.durationSec = r.duration;
  if (r.bitrate !== null) s.bitrate = r.bitrate;
  if (r.md5 !== null) s.md5 = r.md5;
  if (r.cover !== null) s.cover = r.cover;
  if (r.play_count !== null) s.playCount = r.play_count;
  if (r.last_played !== null) s.lastPlayed = r.last_played;
  if (r.rating !== null) s.rating = r.rating;
  if (r.starred !== null) s.starred = r.starred;
  return s;
}

function toAlbum(r: AlbumRow): IndexedAlbum {
  const a: IndexedAlbum = {
    id: r.id,
    name: r.name,
    artist: r.artist,
    artistId: r.artist_id,
    songCount: r.song_count,
    durationSec: r.duration,
    created: r.created,
    folder: r.folder,
    playCount: r.play_count,
  };
  if (r.year !== null) a.year = r.year;
  if (r.genre !== null) a.genre = r.genre;
  if (r.cover !== null) a.cover = r.cover;
  if (r.image !== null) a.image = r.image;
  if (r.last_played !== null) a.lastPlayed = r.last_played;
  if (r.rating !== null) a.rating = r.rating;
  if (r.starred_at !== null) a.starred = r.starred_at;
  return a;
}

function toArtist(r: ArtistRow): IndexedArtist {
  const a: IndexedArtist = { id: r.id, name: r.name, sortName: r.sort_name, albumCount: r.album_count };
  if (r.starred_at !== null) a.starred = r.starred_at;
  if (r.cover_album !== null) a.coverAlbumId = r.cover_album;
  return a;
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

const SONG_COLUMNS = [
  'key', 'id', 'title', 'album', 'album_id', 'artist', 'artist_id', 'album_artist', 'title_fold', 'artist_fold', 'genre', 'genre_fold',
  'year', 'track', 'disc', 'duration', 'bitrate', 'size', 'suffix', 'md5', 'cover', 'folder', 'created', 'play_count', 'last_played',
  'rating', 'starred', 'has_lyrics',
] as const;

const ALBUM_COLUMNS = [
  'id', 'name', 'sort_name', 'artist', 'artist_id', 'artist_sort', 'year', 'genre', 'genre_fold', 'song_count', 'duration', 'created',
  'cover', 'folder', 'image', 'play_count', 'last_played', 'rating',
] as const;

/** An upsert of `columns` on (remote, `conflict`), answering the row number. */
function upsertSql(table: string, columns: readonly string[], conflict: string): string {
  const set = columns.filter((c) => c !== conflict).map((c) => `${c} = excluded.${c}`).join(', ');
  return `INSERT INTO ${table} (remote, ${columns.join(', ')}) VALUES (?, ${columns.map(() => '?').join(', ')})
    ON CONFLICT(remote, ${conflict}) DO UPDATE SET ${set} RETURNING n`;
}

/** What a refresh tells and asks of its caller (see SubsonicIndex.refresh). */
export interface RefreshHooks {
  onProgress?: (songs: number) => void;
  pause?: () => void;
}

/** Mirror rows a build reads and indexes per step. */
const BUILD_PAGE = 1000;

/** The whitespace a lyrics tag of nothing else is made of (what JavaScript's trim() removes, but the rarest). */
const BLANK = 'char(9, 10, 11, 12, 13, 32, 160, 8232, 8233, 12288, 65279)';

/**
 * What the index reads of a mirror row. A lyrics tag can be long, and the
 * index only notes whether there is one (getLyrics reads it when asked): it
 * is read as a one-letter stand-in, or as null when blank or not text.
 */
const OBJECT_COLUMNS = `key, size, md5, player, written_at,
  CASE WHEN json_valid(tags) AND json_type(tags, '$.lyrics') IS NOT NULL
    THEN json_set(tags, '$.lyrics', CASE WHEN json_type(tags, '$.lyrics') = 'text' AND trim(json_extract(tags, '$.lyrics'), ${BLANK}) <> '' THEN 'x' END)
    ELSE tags END AS tags`;

/** How long a build's steps run back to back before its `pause`. */
export const LOCK_RUN_MS = 500;

export class SubsonicIndex {
  /** Set while {@link refreshAside} refreshes this index (a worker, or a build here a step at a time): the songs indexed so far. */
  private away: { songs?: number; done: Promise<{ changed: number; onWorker: boolean }> } | undefined;

  constructor(
    readonly db: Db,
    readonly remote: string,
  ) {}

  private sql(text: string) {
    return cached(this.db, text);
  }

  /**
   * refresh brings the index up to date with the mirror: the first call for
   * a remote builds it whole (and from then on triggers note changed keys),
   * later ones apply the noted keys. Returns how many songs changed. Cheap
   * when nothing changed (one indexed read). While {@link refreshAside}
   * refreshes it, it does nothing: that refresh applies what there is. `onProgress` hears the songs indexed
   * so far during a build. `pause`, when given, is called between the
   * build's steps once they have held the write lock for {@link LOCK_RUN_MS}:
   * a thread of its own sleeps there, so that other writers get the lock.
   */
  refresh(o: RefreshHooks = {}): { changed: number } {
    if (this.away) return { changed: 0 };
    if (!this.built()) {
      // Run the steps back to back, pausing (on a thread of its own) for other writers now and then.
      const steps = this.build(o.onProgress);
      let ran = Date.now();
      for (;;) {
        const r = steps.next();
        if (r.done) return r.value;
        if (o.pause && Date.now() - ran >= LOCK_RUN_MS) {
          o.pause();
          ran = Date.now();
        }
      }
    }
    if (this.sql('SELECT 1 FROM sub_dirty WHERE remote = ? LIMIT 1').get(this.remote) === undefined) return { changed: 0 };
    // IMMEDIATE: another process writing the mirror meanwhile waits, so no noted key is dropped unapplied.
    return this.db.transaction(() => this.applyDirty()).immediate();
  }

  /** True once a build of the remote's index has ended (a build under way or cut short leaves `built_at` 0). */
  built(): boolean {
    return this.sql('SELECT 1 FROM sub_built WHERE remote = ? AND built_at > 0').get(this.remote) !== undefined;
  }

  /**
   * largeRefreshDue says whether the next refresh is a large one: the first
   * build, or at least {@link WORKER_DIRTY_MIN} noted keys (counted no
   * further).
   */
  largeRefreshDue(): boolean {
    if (this.away) return false;
    if (!this.built()) return true;
    const noted = this.sql('SELECT count(*) FROM (SELECT 1 FROM sub_dirty WHERE remote = ? LIMIT ?)').pluck().get(this.remote, WORKER_DIRTY_MIN) as number;
    return noted >= WORKER_DIRTY_MIN;
  }

  /**
   * refreshAside is {@link refresh} without holding this thread's event
   * loop for long: on a worker thread with its own connection, when the database is a
   * file, the compiled worker is there and `o.worker` is not false; else on
   * this thread, a build's steps one at a time with the event loop free
   * between them (an update of noted keys is then one step). One at a time:
   * a call while one runs gets that one's result. A stop (`signal`) ends the
   * build where it is (a build cut short leaves the index not built, to be
   * built again) and rejects once the worker's connection is closed. Rejects
   * with the refresh's error.
   */
  refreshAside(signal?: AbortSignal, o: { worker?: boolean } = {}): Promise<{ changed: number; onWorker: boolean }> {
    if (this.away) return this.away.done;
    if (o.worker === false || this.db.memory || !indexWorkerAvailable()) {
      if (this.built()) {
        try {
          return Promise.resolve({ ...this.refresh(), onWorker: false });
        } catch (err) {
          return Promise.reject(err);
        }
      }
      const done = this.buildHere(signal)
        .then(({ changed }) => ({ changed, onWorker: false }))
        .finally(() => {
          this.away = undefined;
        });
      this.away = { done };
      return done;
    }
    const onProgress = (songs: number) => {
      if (this.away) this.away.songs = songs;
    };
    const done = runIndexWorker({ file: this.db.name, remote: this.remote }, { onProgress, ...(signal ? { signal } : {}) })
      .then(({ changed }) => ({ changed, onWorker: true }))
      .finally(() => {
        this.away = undefined;
      });
    this.away = { done };
    return done;
  }

  /**
   * scanStatus is what getScanStatus says: scanning while {@link refreshAside}
   * refreshes the index, with the songs indexed so far during a build,
   * else the songs of the committed index.
   */
  scanStatus(): { scanning: boolean; count: number } {
    if (this.away) return { scanning: true, count: this.away.songs ?? this.stats().songs };
    return { scanning: false, count: this.stats().songs };
  }

  /**
   * Builds the index on this thread a step at a time (see build), giving
   * the event loop a turn between steps; `signal` stops it between two.
   */
  private async buildHere(signal?: AbortSignal): Promise<{ changed: number }> {
    const steps = this.build((songs) => {
      if (this.away) this.away.songs = songs;
    });
    try {
      for (;;) {
        signal?.throwIfAborted();
        const r = steps.next();
        if (r.done) return r.value;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      // Cut short: the generator's own finally puts the page cache back.
      steps.return({ changed: 0 });
    }
  }

  /**
   * Builds the remote's index whole from the mirror, in many short
   * transactions rather than one: a build of a large library takes a while,
   * and other writers of the state (this process's own, on the main thread,
   * when a worker builds) must not wait for all of it. The remote's row in
   * sub_built is there from the first step, with `built_at` 0 until the last
   * one: the triggers note what changes meanwhile (applied by the next
   * refresh), and a build cut short is done again from the start.
   */
  private *build(onProgress?: (songs: number) => void): Generator<void, { changed: number }> {
    const step = <T>(fn: () => T): T => this.db.transaction(fn).immediate();
    // A build writes every index of the tables at random places: a page cache
    // that holds them spares re-reading pages for each row. Back to what it was after.
    const cache = this.db.pragma('cache_size', { simple: true }) as number;
    this.db.pragma(`cache_size = ${BUILD_CACHE}`);
    try {
      const now = Date.now();
      step(() => {
        for (const t of ['sub_songs', 'sub_albums', 'sub_artists']) {
          const words = t.replace(/s$/, '_words');
          this.sql(`DELETE FROM ${words} WHERE rowid IN (SELECT n FROM ${t} WHERE remote = ?)`).run(this.remote);
          this.sql(`DELETE FROM ${t} WHERE remote = ?`).run(this.remote);
        }
        for (const t of ['sub_genres', 'sub_images', 'sub_dirty']) this.sql(`DELETE FROM ${t} WHERE remote = ?`).run(this.remote);
        this.sql('INSERT OR REPLACE INTO sub_built (remote, built_at, last_change, songs, albums, artists) VALUES (?, 0, ?, 0, 0, 0)').run(this.remote, now);
      });
      yield;
      const page = this.sql(
        `SELECT ${OBJECT_COLUMNS} FROM remote_objects WHERE remote = ? AND key > ? AND key < ? ORDER BY key LIMIT ${BUILD_PAGE}`,
      );
      let after = MUSIC.slice(0, -1);
      let songs = 0;
      for (;;) {
        const rows = page.all(this.remote, after, MUSIC_END) as ObjectRow[];
        if (rows.length === 0) break;
        step(() => {
          for (const o of rows) {
            if (isSongKey(o.key)) {
              this.putSong(deriveSong(o, o.written_at ?? now), false);
              songs++;
            } else this.putImage(o.key, true);
          }
        });
        after = rows[rows.length - 1]!.key;
        onProgress?.(songs);
        yield;
      }
      const albums = this.sql('SELECT DISTINCT album_id FROM sub_songs WHERE remote = ? ORDER BY album_id').pluck().all(this.remote) as string[];
      const artists = new Set<string>();
      for (const part of chunks(albums)) {
        for (const a of step(() => this.recomputeAlbums(part, true))) artists.add(a);
        yield;
      }
      for (const part of chunks([...artists])) {
        step(() => this.recomputeArtists(part));
        yield;
      }
      step(() => {
        this.recomputeGenres('all');
        this.sql('UPDATE sub_built SET built_at = ? WHERE remote = ?').run(now, this.remote);
        this.updateCounts(now);
      });
      return { changed: songs };
    } finally {
      this.db.pragma(`cache_size = ${cache}`);
    }
  }

  /** Applies the keys the triggers noted (inside a transaction). */
  private applyDirty(): { changed: number } {
    const keys = (this.sql('SELECT key FROM sub_dirty WHERE remote = ?').pluck().all(this.remote) as string[]);
    const now = Date.now();
    const albums = new Set<string>();
    const genres = new Set<string>();
    const folders = new Set<string>();
    let changed = 0;
    for (const part of chunks(keys)) {
      const json = JSON.stringify(part);
      const objects = new Map(
        (this.sql(`SELECT ${OBJECT_COLUMNS} FROM remote_objects WHERE remote = ? AND key IN (SELECT value FROM json_each(?))`)
          .all(this.remote, json) as ObjectRow[]).map((o) => [o.key, o]),
      );
      const olds = new Map(
        (this.sql('SELECT n, key, album_id, genre_fold, created FROM sub_songs WHERE remote = ? AND key IN (SELECT value FROM json_each(?))')
          .all(this.remote, json) as Array<{ n: number; key: string; album_id: string; genre_fold: string | null; created: number }>).map((r) => [r.key, r]),
      );
      for (const key of part) {
        const o = objects.get(key);
        if (imageRank(key) !== undefined) {
          this.putImage(key, o !== undefined);
          folders.add(folderOf(key));
        }
        const old = olds.get(key);
        if (old) {
          albums.add(old.album_id);
          if (old.genre_fold !== null) genres.add(old.genre_fold);
        }
        if (o && isSongKey(key)) {
          // Created: when first written as far as is known (a player's edit re-stamps written_at, and must not make a song new).
          const created = old ? (o.written_at !== null ? Math.min(old.created, o.written_at) : old.created) : (o.written_at ?? now);
          const s = deriveSong(o, created);
          this.putSong(s, old !== undefined);
          albums.add(s.album_id);
          if (s.genre_fold !== null) genres.add(s.genre_fold);
          changed++;
        } else if (old) {
          this.sql('DELETE FROM sub_song_words WHERE rowid = ?').run(old.n);
          this.sql('DELETE FROM sub_songs WHERE n = ?').run(old.n);
          changed++;
        }
      }
    }
    for (const part of chunks([...folders])) {
      const ids = this.sql('SELECT id FROM sub_albums WHERE remote = ? AND folder IN (SELECT value FROM json_each(?))').pluck().all(this.remote, JSON.stringify(part)) as string[];
      for (const id of ids) albums.add(id);
    }
    const artists = this.recomputeAlbums([...albums]);
    this.recomputeArtists([...artists]);
    this.recomputeGenres([...genres]);
    this.sql('DELETE FROM sub_dirty WHERE remote = ?').run(this.remote);
    this.updateCounts(changed > 0 || albums.size > 0 ? now : undefined);
    return { changed };
  }

  private putSong(s: SongValues, replacing: boolean): void {
    const n = this.sql(upsertSql('sub_songs', SONG_COLUMNS, 'key')).pluck().get(this.remote, ...SONG_COLUMNS.map((c) => s[c])) as number;
    if (replacing) this.sql('DELETE FROM sub_song_words WHERE rowid = ?').run(n);
    this.sql('INSERT INTO sub_song_words (rowid, words) VALUES (?, ?)').run(n, songWords(s));
  }

  private putImage(key: string, present: boolean): void {
    const rank = imageRank(key);
    if (rank === undefined) return;
    if (present) this.sql('INSERT OR REPLACE INTO sub_images (remote, folder, key, rank) VALUES (?, ?, ?, ?)').run(this.remote, folderOf(key), key, rank);
    else this.sql('DELETE FROM sub_images WHERE remote = ? AND folder = ? AND key = ?').run(this.remote, folderOf(key), key);
  }

  /**
   * Derives the albums `ids` anew from their songs: added, changed, or
   * removed when no song is left. Returns the ids of the artists they had
   * or have now. `fresh`: a build, where no album has a row yet.
   */
  private recomputeAlbums(ids: readonly string[], fresh = false): Set<string> {
    const artists = new Set<string>();
    for (const part of chunks(ids)) {
      const json = JSON.stringify(part);
      const songs = this.sql(
        `SELECT album_id, key, album, album_artist, genre, genre_fold, year, duration, created, cover, folder, play_count, last_played, rating
         FROM sub_songs WHERE remote = ? AND album_id IN (SELECT value FROM json_each(?)) ORDER BY album_id, coalesce(disc, 1), track, key`,
      ).all(this.remote, json) as Array<Pick<SongValues, 'album_id' | 'key' | 'album' | 'album_artist' | 'genre' | 'genre_fold' | 'year' | 'duration' | 'created' | 'cover' | 'folder' | 'play_count' | 'last_played' | 'rating'>>;
      const byAlbum = new Map<string, typeof songs>();
      for (const s of songs) {
        let list = byAlbum.get(s.album_id);
        if (!list) byAlbum.set(s.album_id, (list = []));
        list.push(s);
      }
      if (!fresh) {
        const olds = this.sql('SELECT n, id, artist_id FROM sub_albums WHERE remote = ? AND id IN (SELECT value FROM json_each(?))').all(this.remote, json) as Array<{
          n: number;
          id: string;
          artist_id: string;
        }>;
        for (const o of olds) {
          artists.add(o.artist_id);
          if (!byAlbum.has(o.id)) {
            this.sql('DELETE FROM sub_album_words WHERE rowid = ?').run(o.n);
            this.sql('DELETE FROM sub_albums WHERE n = ?').run(o.n);
          }
        }
      }
      for (const [id, list] of byAlbum) {
        const first = list[0]!;
        const genreCount = new Map<string, { name: string; count: number }>();
        let year: number | null = null;
        let duration = 0;
        let created = Infinity;
        let cover: string | null = null;
        let minFolder = first.folder;
        let maxFolder = first.folder;
        let plays = 0;
        let lastPlayed: number | null = null;
        let ratingSum = 0;
        let rated = 0;
        for (const s of list) {
          if (s.genre_fold !== null) {
            const g = genreCount.get(s.genre_fold);
            if (g) g.count++;
            else genreCount.set(s.genre_fold, { name: s.genre!, count: 1 });
          }
          if (s.year !== null && (year === null || s.year > year)) year = s.year;
          duration += s.duration ?? 0;
          created = Math.min(created, s.created);
          cover ??= s.cover;
          if (s.folder < minFolder) minFolder = s.folder;
          if (s.folder > maxFolder) maxFolder = s.folder;
          plays += s.play_count ?? 0;
          if (s.last_played !== null && (lastPlayed === null || s.last_played > lastPlayed)) lastPlayed = s.last_played;
          if (s.rating !== null) {
            ratingSum += s.rating;
            rated++;
          }
        }
        let genre: { name: string; count: number } | undefined;
        for (const g of genreCount.values()) if (!genre || g.count > genre.count) genre = g;
        // Every folder of its songs shares this one (the common prefix of the least and greatest is everyone's).
        const folder = commonFolder(minFolder, maxFolder);
        const image = this.folderImage(folder) ?? null;
        const artistId = subsonicId('artist', first.album_artist.toLowerCase());
        artists.add(artistId);
        const row: Record<(typeof ALBUM_COLUMNS)[number], string | number | null> = {
          id,
          name: first.album,
          sort_name: sortName(first.album),
          artist: first.album_artist,
          artist_id: artistId,
          artist_sort: sortName(first.album_artist),
          year,
          genre: genre?.name ?? null,
          genre_fold: genre ? fold(genre.name) : null,
          song_count: list.length,
          duration,
          created,
          cover,
          folder,
          image,
          play_count: plays,
          last_played: lastPlayed,
          rating: rated > 0 ? Math.round(ratingSum / rated) : null,
        };
        const n = this.sql(upsertSql('sub_albums', ALBUM_COLUMNS, 'id')).pluck().get(this.remote, ...ALBUM_COLUMNS.map((c) => row[c])) as number;
        if (!fresh) this.sql('DELETE FROM sub_album_words WHERE rowid = ?').run(n);
        this.sql('INSERT INTO sub_album_words (rowid, words) VALUES (?, ?)').run(n, fold(`${first.album} ${first.album_artist}`));
      }
    }
    return artists;
  }

  /** Derives the artists `ids` anew from their albums: added, changed, or removed when they have none left. */
  private recomputeArtists(ids: readonly string[]): void {
    for (const part of chunks(ids)) {
      const json = JSON.stringify(part);
      const albums = this.sql(
        'SELECT n, id, artist, artist_id, cover, image, year FROM sub_albums WHERE remote = ? AND artist_id IN (SELECT value FROM json_each(?)) ORDER BY artist_id, n',
      ).all(this.remote, json) as Array<{ n: number; id: string; artist: string; artist_id: string; cover: string | null; image: string | null; year: number | null }>;
      const byArtist = new Map<string, typeof albums>();
      for (const a of albums) {
        let list = byArtist.get(a.artist_id);
        if (!list) byArtist.set(a.artist_id, (list = []));
        list.push(a);
      }
      const olds = this.sql('SELECT n, id FROM sub_artists WHERE remote = ? AND id IN (SELECT value FROM json_each(?))').all(this.remote, json) as Array<{ n: number; id: string }>;
      const oldN = new Map(olds.map((o) => [o.id, o.n]));
      for (const id of part) {
        const list = byArtist.get(id);
        const was = oldN.get(id);
        if (was !== undefined) this.sql('DELETE FROM sub_artist_words WHERE rowid = ?').run(was);
        if (!list) {
          if (was !== undefined) this.sql('DELETE FROM sub_artists WHERE n = ?').run(was);
          continue;
        }
        const name = list[0]!.artist;
        // The newest album with a cover pictures the artist.
        let coverAlbum: (typeof list)[number] | undefined;
        for (const a of list) if ((a.cover !== null || a.image !== null) && (!coverAlbum || (a.year ?? 0) > (coverAlbum.year ?? 0))) coverAlbum = a;
        const n = this.sql(
          `INSERT INTO sub_artists (remote, id, name, sort_name, album_count, cover_album) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(remote, id) DO UPDATE SET name = excluded.name, sort_name = excluded.sort_name, album_count = excluded.album_count,
             cover_album = excluded.cover_album RETURNING n`,
        ).pluck().get(this.remote, id, name, sortName(name), list.length, coverAlbum?.id ?? null) as number;
        this.sql('INSERT INTO sub_artist_words (rowid, words) VALUES (?, ?)').run(n, fold(name));
      }
    }
  }

  /** Counts the genres `folds` (or all) anew from the songs. */
  private recomputeGenres(folds: readonly string[] | 'all'): void {
    const count = `SELECT genre_fold AS fold, min(genre) AS name, count(*) AS songs, count(DISTINCT album_id) AS albums FROM sub_songs WHERE remote = ?`;
    const put = this.sql('INSERT OR REPLACE INTO sub_genres (remote, fold, name, song_count, album_count) VALUES (?, ?, ?, ?, ?)');
    type Row = { fold: string; name: string; songs: number; albums: number };
    if (folds === 'all') {
      for (const r of this.sql(`${count} AND genre_fold IS NOT NULL GROUP BY genre_fold`).all(this.remote) as Row[]) put.run(this.remote, r.fold, r.name, r.songs, r.albums);
      return;
    }
    for (const f of folds) {
      const r = this.sql(`${count} AND genre_fold = ?`).get(this.remote, f) as Row | { songs: 0 };
      if (r.songs > 0) put.run(this.remote, f, (r as Row).name, r.songs, (r as Row).albums);
      else this.sql('DELETE FROM sub_genres WHERE remote = ? AND fold = ?').run(this.remote, f);
    }
  }

  private updateCounts(changedAt: number | undefined): void {
    const songs = this.sql('SELECT count(*) FROM sub_songs WHERE remote = ?').pluck().get(this.remote) as number;
    const albums = this.sql('SELECT count(*) FROM sub_albums WHERE remote = ?').pluck().get(this.remote) as number;
    const artists = this.sql('SELECT count(*) FROM sub_artists WHERE remote = ?').pluck().get(this.remote) as number;
    this.sql('UPDATE sub_built SET songs = ?, albums = ?, artists = ?, last_change = COALESCE(?, last_change) WHERE remote = ?').run(
      songs,
      albums,
      artists,
      changedAt ?? null,
      this.remote,
    );
  }

  /** The key of the preferred cover image object (cover.jpg, folder.png…) directly in `folder` (`music/…/`), if any. */
  folderImage(folder: string): string | undefined {
    return this.sql('SELECT key FROM sub_images WHERE remote = ? AND folder = ? ORDER BY rank, key LIMIT 1').pluck().get(this.remote, folder) as string | undefined;
  }

  song(id: string): IndexedSong | undefined {
    const r = this.sql(`${SONG_SELECT} WHERE s.remote = ? AND s.id = ?`).get(this.remote, id) as SongRow | undefined;
    return r ? toSong(r) : undefined;
  }

  /** The songs of `ids`, in the order given; ids not found are left out. */
  songs(ids: readonly string[]): IndexedSong[] {
    const byId = new Map<string, IndexedSong>();
    for (const part of chunks(ids)) {
      for (const r of this.sql(`${SONG_SELECT} WHERE s.remote = ? AND s.id IN (SELECT value FROM json_each(?))`).all(this.remote, JSON.stringify(part)) as SongRow[]) {
        byId.set(r.id, toSong(r));
      }
    }
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** The songs at `keys` (`music/…`), in order; undefined where the mirror has none. */
  songsByKeys(keys: readonly string[]): Array<IndexedSong | undefined> {
    const byKey = new Map<string, IndexedSong>();
    for (const part of chunks(keys)) {
      for (const r of this.sql(`${SONG_SELECT} WHERE s.remote = ? AND s.key IN (SELECT value FROM json_each(?))`).all(this.remote, JSON.stringify(part)) as SongRow[]) {
        byKey.set(r.key, toSong(r));
      }
    }
    return keys.map((k) => byKey.get(k));
  }

  /** Every artist, by sort name. */
  artists(): IndexedArtist[] {
    return (this.sql(`${ARTIST_SELECT} WHERE r.remote = ? ORDER BY r.sort_name, r.n`).all(this.remote) as ArtistRow[]).map(toArtist);
  }

  artist(id: string): IndexedArtist | undefined {
    const r = this.sql(`${ARTIST_SELECT} WHERE r.remote = ? AND r.id = ?`).get(this.remote, id) as ArtistRow | undefined;
    return r ? toArtist(r) : undefined;
  }

  /** The artist's albums, by year, then name. */
  albumsOf(artistId: string): IndexedAlbum[] {
    return (this.sql(`${ALBUM_SELECT} WHERE a.remote = ? AND a.artist_id = ? ORDER BY a.year, a.sort_name`).all(this.remote, artistId) as AlbumRow[]).map(toAlbum);
  }

  album(id: string): IndexedAlbum | undefined {
    const r = this.sql(`${ALBUM_SELECT} WHERE a.remote = ? AND a.id = ?`).get(this.remote, id) as AlbumRow | undefined;
    return r ? toAlbum(r) : undefined;
  }

  /** The album's songs by disc (none is the first), then track, then key. */
  albumSongs(albumId: string): IndexedSong[] {
    return (this.sql(`${SONG_SELECT} WHERE s.remote = ? AND s.album_id = ? ORDER BY coalesce(s.disc, 1), s.track, s.key`).all(this.remote, albumId) as SongRow[]).map(toSong);
  }

  /**
   * A page of albums: newest (first indexed or written), highest (mean song
   * rating), frequent (plays), recent (last played), alphabetical by name or
   * by artist (then name), starred (newest star first), byYear (from
   * fromYear to toYear, downwards when fromYear is the greater), byGenre (an
   * album's genre is the commonest of its songs'), random (offset ignored).
   */
  albumList(q: AlbumListQuery): IndexedAlbum[] {
    // The page is found on an index alone (an offset skips index entries, not joined rows), then read.
    const page = (where: string, order: string, ...args: unknown[]) =>
      (
        this.sql(`${ALBUM_SELECT} WHERE a.n IN (SELECT a.n FROM sub_albums a WHERE a.remote = ? ${where} ORDER BY ${order} LIMIT ? OFFSET ?) ORDER BY ${order}`).all(
          this.remote,
          ...args,
          q.size,
          q.offset,
        ) as AlbumRow[]
      ).map(toAlbum);
    switch (q.type) {
      case 'newest':
        return page('', 'a.created DESC, a.n DESC');
      case 'highest':
        return page('AND a.rating IS NOT NULL', 'a.rating DESC, a.n DESC');
      case 'frequent':
        return page('AND a.play_count > 0', 'a.play_count DESC, a.n DESC');
      case 'recent':
        return page('AND a.last_played IS NOT NULL', 'a.last_played DESC, a.n DESC');
      case 'alphabeticalByName':
        return page('', 'a.sort_name, a.n');
      case 'alphabeticalByArtist':
        return page('', 'a.artist_sort, a.sort_name, a.n');
      case 'byYear': {
        const from = q.fromYear ?? 0;
        const to = q.toYear ?? 9999;
        return from <= to
          ? page('AND a.year BETWEEN ? AND ?', 'a.year, a.sort_name, a.n', from, to)
          : page('AND a.year BETWEEN ? AND ?', 'a.year DESC, a.sort_name DESC, a.n DESC', to, from);
      }
      case 'byGenre':
        return page('AND a.genre_fold = ?', 'a.sort_name, a.n', fold(q.genre ?? ''));
      case 'starred':
        return (
          this.sql(
            `SELECT a.*, st.starred_at FROM sub_stars st JOIN sub_albums a ON a.remote = st.remote AND a.id = st.id
             WHERE st.remote = ? ORDER BY st.starred_at DESC, a.n DESC LIMIT ? OFFSET ?`,
          ).all(this.remote, q.size, q.offset) as AlbumRow[]
        ).map(toAlbum);
      case 'random': {
        const ns = this.randomRows('sub_albums', q.size);
        return this.byRowNumbers<AlbumRow>(`${ALBUM_SELECT} WHERE a.remote = ? AND a.n IN (SELECT value FROM json_each(?))`, ns).map(toAlbum);
      }
    }
  }

  /** Rows of `select` (a query with the remote and a JSON array of row numbers as parameters), in the order of `ns`. */
  private byRowNumbers<R extends { n: number }>(select: string, ns: readonly number[]): R[] {
    if (ns.length === 0) return [];
    const byN = new Map((this.sql(select).all(this.remote, JSON.stringify(ns)) as R[]).map((r) => [r.n, r]));
    return ns.flatMap((n) => byN.get(n) ?? []);
  }

  /**
   * Up to `size` distinct row numbers of `table` picked at random among
   * those matching `where` (with `args`). Few candidates are sorted by
   * random(); many are probed: a random number in the table's range, then
   * the first matching row at or after it (rows after gaps are a little
   * likelier: cheap beats exact here).
   */
  private randomRows(table: 'sub_songs' | 'sub_albums', size: number, where = '', ...args: unknown[]): number[] {
    if (size <= 0) return [];
    const count = this.sql(`SELECT count(*) FROM ${table} WHERE remote = ? ${where}`).pluck().get(this.remote, ...args) as number;
    if (count <= RANDOM_SORT_MAX) {
      return this.sql(`SELECT n FROM ${table} WHERE remote = ? ${where} ORDER BY random() LIMIT ?`).pluck().all(this.remote, ...args, size) as number[];
    }
    // `+remote`: by the row number, not by an index on the remote (which would sort all its rows).
    const lo = this.sql(`SELECT n FROM ${table} WHERE +remote = ? ORDER BY n LIMIT 1`).pluck().get(this.remote) as number;
    const hi = this.sql(`SELECT n FROM ${table} WHERE +remote = ? ORDER BY n DESC LIMIT 1`).pluck().get(this.remote) as number;
    const probe = this.sql(`SELECT n FROM ${table} WHERE n >= ? AND +remote = ? ${where.replaceAll('AND ', 'AND +')} ORDER BY n LIMIT 1`).pluck();
    const picked = new Set<number>();
    const want = Math.min(size, count);
    for (let tries = 0; picked.size < want && tries < want * 8; tries++) {
      const n = (probe.get(lo + Math.floor(Math.random() * (hi - lo + 1)), this.remote, ...args) ?? probe.get(lo, this.remote, ...args)) as number | undefined;
      if (n !== undefined) picked.add(n);
    }
    return [...picked];
  }

  /** Every genre, by name, with its song and album counts (an album counts for each genre of its songs). */
  genres(): IndexedGenre[] {
    return this.sql('SELECT name, song_count AS songCount, album_count AS albumCount FROM sub_genres WHERE remote = ? ORDER BY fold').all(this.remote) as IndexedGenre[];
  }

  /** A page of the songs of `genre` (any case or accents), album by album. */
  songsByGenre(genre: string, count: number, offset: number): IndexedSong[] {
    return (
      this.sql(
        `${SONG_SELECT} WHERE s.n IN (SELECT n FROM sub_songs WHERE remote = ? AND genre_fold = ? ORDER BY album_id, n LIMIT ? OFFSET ?) ORDER BY s.album_id, s.n`,
      ).all(this.remote, fold(genre), count, offset) as SongRow[]
    ).map(toSong);
  }

  /**
   * Artists, albums and songs whose names hold every word of the query as
   * the start of a word (case and accents aside): artists by name, albums
   * by name or artist, songs by title, artist or album. Artists and albums
   * come by sort name; songs in the order they were indexed (by key at the
   * build). No word: everything, paged.
   */
  search(q: SearchQuery): { artists: IndexedArtist[]; albums: IndexedAlbum[]; songs: IndexedSong[] } {
    const match = matchQuery(q.query);
    if (match === undefined) {
      return {
        artists: q.artistCount > 0
          ? (this.sql(`${ARTIST_SELECT} WHERE r.remote = ? ORDER BY r.sort_name, r.n LIMIT ? OFFSET ?`).all(this.remote, q.artistCount, q.artistOffset) as ArtistRow[]).map(toArtist)
          : [],
        albums: q.albumCount > 0
          ? (
              this.sql(
                `${ALBUM_SELECT} WHERE a.n IN (SELECT n FROM sub_albums WHERE remote = ? ORDER BY sort_name, n LIMIT ? OFFSET ?) ORDER BY a.sort_name, a.n`,
              ).all(this.remote, q.albumCount, q.albumOffset) as AlbumRow[]
            ).map(toAlbum)
          : [],
        songs: q.songCount > 0
          ? (
              this.sql(
                `${SONG_SELECT} WHERE s.n IN (SELECT n FROM sub_songs WHERE remote = ? ORDER BY key LIMIT ? OFFSET ?) ORDER BY s.key`,
              ).all(this.remote, q.songCount, q.songOffset) as SongRow[]
            ).map(toSong)
          : [],
      };
    }
    // The full-text tables lead (CROSS JOIN keeps that order): they find the rows; the tables add their columns.
    return {
      artists: q.artistCount > 0
        ? (
            this.sql(
              `SELECT r.*, st.starred_at FROM sub_artist_words w CROSS JOIN sub_artists r ON r.n = w.rowid
               LEFT JOIN sub_stars st ON st.remote = r.remote AND st.id = r.id
               WHERE sub_artist_words MATCH ? AND r.remote = ? ORDER BY r.sort_name, r.n LIMIT ? OFFSET ?`,
            ).all(match, this.remote, q.artistCount, q.artistOffset) as ArtistRow[]
          ).map(toArtist)
        : [],
      albums: q.albumCount > 0
        ? (
            this.sql(
              `SELECT a.*, st.starred_at FROM sub_album_words w CROSS JOIN sub_albums a ON a.n = w.rowid
               LEFT JOIN sub_stars st ON st.remote = a.remote AND st.id = a.id
               WHERE sub_album_words MATCH ? AND a.remote = ? ORDER BY a.sort_name, a.n LIMIT ? OFFSET ?`,
            ).all(match, this.remote, q.albumCount, q.albumOffset) as AlbumRow[]
          ).map(toAlbum)
        : [],
      songs: q.songCount > 0
        ? (this.sql(`${SONG_MATCH} AND s.remote = ? ORDER BY w.rowid LIMIT ? OFFSET ?`).all(match, this.remote, q.songCount, q.songOffset) as SongRow[]).map(toSong)
        : [],
    };
  }

  /** Up to `size` songs picked at random, of `genre` and within the years when given. */
  randomSongs(q: { size: number; genre?: string; fromYear?: number; toYear?: number }): IndexedSong[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.genre !== undefined) {
      where.push('AND genre_fold = ?');
      args.push(fold(q.genre));
    }
    if (q.fromYear !== undefined) {
      where.push('AND year >= ?');
      args.push(q.fromYear);
    }
    if (q.toYear !== undefined) {
      where.push('AND year <= ?');
      args.push(q.toYear);
    }
    const ns = this.randomRows('sub_songs', q.size, where.join(' '), ...args);
    return this.byRowNumbers<SongRow>(`${SONG_SELECT} WHERE s.remote = ? AND s.n IN (SELECT value FROM json_each(?))`, ns).map(toSong);
  }

  /** Starred things, newest star first. */
  starred(): { artists: IndexedArtist[]; albums: IndexedAlbum[]; songs: IndexedSong[] } {
    return {
      artists: (
        this.sql(
          `SELECT r.*, st.starred_at FROM sub_stars st JOIN sub_artists r ON r.remote = st.remote AND r.id = st.id
           WHERE st.remote = ? ORDER BY st.starred_at DESC, r.n`,
        ).all(this.remote) as ArtistRow[]
      ).map(toArtist),
      albums: (
        this.sql(
          `SELECT a.*, st.starred_at FROM sub_stars st JOIN sub_albums a ON a.remote = st.remote AND a.id = st.id
           WHERE st.remote = ? ORDER BY st.starred_at DESC, a.n`,
        ).all(this.remote) as AlbumRow[]
      ).map(toAlbum),
      songs: (this.sql(`${SONG_SELECT} WHERE s.remote = ? AND s.starred IS NOT NULL ORDER BY s.starred DESC, s.n`).all(this.remote) as SongRow[]).map(toSong),
    };
  }

  /**
   * Stars an album or artist (kept in this state: the catalog has no object
   * for them); `at` undefined unstars. Returns false when `id` names no
   * album or artist of this index (songs are starred in the catalog), and
   * then changes nothing; an unstar of one that is gone answers true.
   */
  setStar(id: string, at: number | undefined): boolean {
    if (at === undefined) {
      const gone = this.sql('DELETE FROM sub_stars WHERE remote = ? AND id = ?').run(this.remote, id).changes > 0;
      return gone || this.knows(id);
    }
    if (!this.knows(id)) return false;
    this.sql('INSERT OR REPLACE INTO sub_stars (remote, id, starred_at) VALUES (?, ?, ?)').run(this.remote, id, at);
    return true;
  }

  private knows(id: string): boolean {
    return (
      this.sql('SELECT 1 FROM sub_albums WHERE remote = ? AND id = ?').get(this.remote, id) !== undefined ||
      this.sql('SELECT 1 FROM sub_artists WHERE remote = ? AND id = ?').get(this.remote, id) !== undefined
    );
  }

  /** The lyrics tag of a song, when it has one. */
  lyrics(id: string): string | undefined {
    const tags = this.sql(
      'SELECT o.tags FROM sub_songs s JOIN remote_objects o ON o.remote = s.remote AND o.key = s.key WHERE s.remote = ? AND s.id = ? AND s.has_lyrics = 1',
    ).pluck().get(this.remote, id) as string | null | undefined;
    return text(parseJson<Tags>(tags ?? null)?.lyrics);
  }

  /**
   * The first song (by key) titled `title` and, when given, by `artist`
   * (its artist or album artist; case and accents aside) that has lyrics,
   * with them; undefined when there is none.
   */
  findLyrics(artist: string | undefined, title: string): { song: IndexedSong; lyrics: string } | undefined {
    const match = matchQuery(title);
    if (match === undefined) return undefined;
    const rows = this.sql(`${SONG_MATCH} AND s.remote = ? AND s.title_fold = ? AND s.has_lyrics = 1 ORDER BY s.key LIMIT 50`).all(
      match,
      this.remote,
      fold(title.trim()),
    ) as SongRow[];
    const want = artist === undefined ? undefined : fold(artist.trim());
    for (const r of rows) {
      if (want !== undefined && r.artist_fold !== want && fold(r.album_artist) !== want) continue;
      const lyrics = this.lyrics(r.id);
      if (lyrics !== undefined) return { song: toSong(r), lyrics };
    }
    return undefined;
  }

  /** Total songs, albums and artists, and the newest change (ms), for getScanStatus and the folder's index. */
  stats(): { songs: number; albums: number; artists: number; lastChange?: number } {
    const r = this.sql('SELECT songs, albums, artists, last_change FROM sub_built WHERE remote = ?').get(this.remote) as
      | { songs: number; albums: number; artists: number; last_change: number }
      | undefined;
    return r ? { songs: r.songs, albums: r.albums, artists: r.artists, lastChange: r.last_change } : { songs: 0, albums: 0, artists: 0 };
  }
}
