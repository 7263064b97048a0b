/**
 * What a player whose library is an SQLite database must tell cratesync:
 * where the database usually is, how to recognise it, which tables and
 * columns the change-queue triggers watch, and how to read its songs and
 * playlists as the common shapes of player-model.ts. The triggers, the
 * queue and attach/detach are generic (player-queue.ts); an adapter never
 * writes to the player's tables.
 */
import type Database from 'better-sqlite3';
import type { Problem } from '../core/problem.js';
import type { PlayerName, PlayerPlaylist, PlayerSnapshot, PlayerSong } from './player-model.js';

export type PlayerDb = Database.Database;

/** One table whose changes the triggers queue. */
export interface WatchedTable {
  table: string;
  /** What a change of one of its rows is a change of: a song, or the playlist the row belongs to. */
  kind: 'song' | 'playlist';
  /**
   * The column (or ROWID) naming the song or playlist, read from NEW on
   * insert and update and from OLD on delete and update: `ROWID`, `ID`,
   * `IDPlaylist`, `playlist`.
   */
  ref: string;
  /**
   * Text the queued ref starts with, when two tables of the same kind number
   * their rows independently (Banshee's static and smart playlists): the
   * trigger queues `'<refPrefix>' || NEW.<ref>`, so smart playlist 12 is `s12`
   * while static playlist 12 stays `12`. Letters only. Absent: the bare value.
   */
  refPrefix?: string;
  /**
   * Set when a change of this table's row is a change of the rows of another
   * table that point at it: Banshee keeps an album's artist in CoreAlbums and
   * updates it there in place, which changes every CoreTracks row with that
   * AlbumID. Then only an UPDATE trigger is made (under `columns`), and it
   * queues `through.ref` of each row of `through.table` whose
   * `through.column` equals this row's `ref` (NEW, and OLD when `ref` moved).
   */
  through?: { table: string; column: string; ref: string };
  /**
   * Columns whose change matters on UPDATE (`WHEN old.x IS NOT new.x OR …`):
   * players rewrite every column on each save. Absent: the table's rows
   * only ever matter when added or removed (playlist items).
   */
  columns?: readonly string[];
}

export interface SqlitePlayerAdapter {
  kind: 'sqlite';
  name: PlayerName;
  /** How the player calls itself: `MediaMonkey`. */
  label: string;
  /** Where the player keeps its database by default on `platform`, most likely first. */
  defaultPaths(env: NodeJS.ProcessEnv, home: string, platform: NodeJS.Platform): string[];
  /**
   * Registers what the database needs to be readable, on every connection
   * before any statement (MediaMonkey's IUNICODE collation).
   */
  prepare?(db: PlayerDb): void;
  /** Undefined when `db` looks like this player's database; else why not (a missing table). */
  recognize(db: PlayerDb): string | undefined;
  watched: readonly WatchedTable[];
  /** Reads the whole library: the initial sync and every reconcile. */
  readAll(db: PlayerDb): PlayerSnapshot;
  /** Reads the songs with these ids; an id not returned is gone from the player. */
  readSongs(db: PlayerDb, ids: readonly string[]): { songs: PlayerSong[]; problems: Problem[] };
  /** Reads the playlists with these ids; an id not returned is gone from the player. */
  readPlaylists(db: PlayerDb, ids: readonly string[]): { playlists: PlayerPlaylist[]; problems: Problem[] };
}
