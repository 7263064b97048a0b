/**
 * The Subsonic server's browsing index (STUB: the index helper replaces the
 * bodies; the signatures are the contract the routes are written against).
 *
 * Songs, albums, artists and genres of one remote's `music/`, as the catalog
 * (the mirror, remote_objects) describes them, kept in tables of their own
 * so that a request reads an index, never the whole mirror. Triggers on
 * remote_objects note each changed key once the index was built for a
 * remote; refresh() applies them. Ids come from core/subsonic-ids.ts.
 */
import type { Db } from './state-db.js';

export interface IndexedSong {
  id: string;
  /** The object's key relative to the remote root (`music/…`). */
  key: string;
  title: string;
  album: string;
  albumId: string;
  artist: string;
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
  playCount: number;
  lastPlayed?: number;
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

/** Words a name starts with that sorting and the A–Z index skip (`The Beatles` under B). */
export const IGNORED_ARTICLES = ['The', 'El', 'La', 'Los', 'Las', 'Le', 'Les', 'Die', 'Der', 'Das'];

const STUB = 'subsonic index: not built yet';

export class SubsonicIndex {
  constructor(
    readonly db: Db,
    readonly remote: string,
  ) {}

  /**
   * refresh brings the index up to date with the mirror: the first call for
   * a remote builds it whole (and from then on triggers note changed keys),
   * later ones apply the noted keys. Returns how many songs changed. Cheap
   * when nothing changed (one indexed read).
   */
  refresh(): { changed: number } {
    throw new Error(STUB);
  }
  song(_id: string): IndexedSong | undefined {
    throw new Error(STUB);
  }
  /** The songs of `ids`, in the order given; ids not found are left out. */
  songs(_ids: readonly string[]): IndexedSong[] {
    throw new Error(STUB);
  }
  /** The songs at `keys` (`music/…`), in order; undefined where the mirror has none. */
  songsByKeys(_keys: readonly string[]): Array<IndexedSong | undefined> {
    throw new Error(STUB);
  }
  artists(): IndexedArtist[] {
    throw new Error(STUB);
  }
  artist(_id: string): IndexedArtist | undefined {
    throw new Error(STUB);
  }
  albumsOf(_artistId: string): IndexedAlbum[] {
    throw new Error(STUB);
  }
  album(_id: string): IndexedAlbum | undefined {
    throw new Error(STUB);
  }
  /** The album's songs by disc, then track, then key. */
  albumSongs(_albumId: string): IndexedSong[] {
    throw new Error(STUB);
  }
  albumList(_q: AlbumListQuery): IndexedAlbum[] {
    throw new Error(STUB);
  }
  genres(): IndexedGenre[] {
    throw new Error(STUB);
  }
  songsByGenre(_genre: string, _count: number, _offset: number): IndexedSong[] {
    throw new Error(STUB);
  }
  search(_q: SearchQuery): { artists: IndexedArtist[]; albums: IndexedAlbum[]; songs: IndexedSong[] } {
    throw new Error(STUB);
  }
  randomSongs(_q: { size: number; genre?: string; fromYear?: number; toYear?: number }): IndexedSong[] {
    throw new Error(STUB);
  }
  /** Starred things, newest star first. */
  starred(): { artists: IndexedArtist[]; albums: IndexedAlbum[]; songs: IndexedSong[] } {
    throw new Error(STUB);
  }
  /** Stars an album or artist (kept in this state: the catalog has no object for them); `at` undefined unstars. */
  setStar(_id: string, _at: number | undefined): boolean {
    throw new Error(STUB);
  }
  /** The lyrics tag of a song, when it has one. */
  lyrics(_id: string): string | undefined {
    throw new Error(STUB);
  }
  /** Total songs, albums and artists, and the newest change (ms), for getScanStatus and the folder's index. */
  stats(): { songs: number; albums: number; artists: number; lastChange?: number } {
    throw new Error(STUB);
  }
}
