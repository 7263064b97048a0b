/**
 * The common view of a media player's library that every adapter maps its
 * own tables or XML to: songs with the fields cratesync syncs, and
 * playlists (static, or smart with a rule cratesync evaluates itself).
 * Nothing here knows SQL or XML; adapters (sqlite-adapter.ts,
 * xml-adapter.ts) produce these shapes and the sync layer consumes them.
 */
import type { Problem } from '../core/problem.js';

/** The players cratesync has an adapter for. */
export const PLAYER_NAMES = ['mediamonkey', 'clementine', 'strawberry', 'banshee', 'beets', 'rhythmbox', 'itunes'] as const;
export type PlayerName = (typeof PLAYER_NAMES)[number];

/** One song as the player knows it, its fields mapped to the common ones. */
export interface PlayerSong {
  /**
   * The player's own id of the row (ROWID, ID, TrackID, a location URI), as
   * text. Players reuse ids after a delete, so identity across reads is
   * `path`; the id only narrows what to read again after a change.
   */
  id: string;
  /** Absolute path on this machine, decoded from the player's form, with this OS's separators. */
  path: string;
  title?: string;
  artist?: string;
  album?: string;
  albumArtist?: string;
  genre?: string;
  year?: number;
  track?: number;
  disc?: number;
  durationSec?: number;
  /** 0–100 whatever the player's scale; absent when unrated. */
  rating?: number;
  playCount?: number;
  /** ms since the epoch; absent when never played. */
  lastPlayed?: number;
  /** ms since the epoch when the player added it, when it says (smart rules use it). */
  addedAt?: number;
}

/** The fields of a song a smart rule may test or sort by. */
export type SongField = Exclude<keyof PlayerSong, 'id'>;

export type RuleOp = 'eq' | 'ne' | 'contains' | 'notContains' | 'startsWith' | 'endsWith' | 'lt' | 'lte' | 'gt' | 'gte' | 'isSet' | 'notSet' | 'withinDays';

export interface RuleCondition {
  field: SongField;
  op: RuleOp;
  /** Text compares case-insensitively; numbers as numbers; `withinDays` takes a number of days (dates in ms). */
  value?: string | number;
}

/** A smart playlist's rule in common terms, evaluated by smart-rule.ts against the songs read. */
export interface SmartRule {
  match: 'all' | 'any';
  conditions: RuleCondition[];
  order?: { field: SongField | 'random'; desc: boolean }[];
  /** At most this many songs, the first in `order`. */
  limit?: number;
  /**
   * At most this many seconds of music: songs are taken in `order` until the
   * next would pass it (MediaMonkey's "74 min" CD, Rhythmbox's time limit).
   */
  limitSec?: number;
}

/** One playlist as the player knows it. */
export interface PlayerPlaylist {
  /** The player's own id, as text. */
  id: string;
  /** Its name with the folders it sits in, '/'-separated: `Sets/Peak Time`. */
  name: string;
  smart: boolean;
  /**
   * The songs in order, as absolute paths (PlayerSong.path). For a smart
   * playlist the player materialises (Banshee, iTunes), what it holds now;
   * for one with a `rule`, filled by evaluating the rule.
   */
  paths: string[];
  /** Set when the contents are to be computed from the songs (MediaMonkey, Rhythmbox). */
  rule?: SmartRule;
  /** Its place among its siblings in the player, when the player orders them. */
  position?: number;
}

/** Everything read from a player at once (initial sync, reconcile, an XML library's new version). */
export interface PlayerSnapshot {
  songs: PlayerSong[];
  playlists: PlayerPlaylist[];
  /** Rows or entries that could not be read (bad path, unknown rule); the rest is still usable. */
  problems: Problem[];
}
