/** The common tags cratesync keeps of an audio file (see library/tags.ts for how they are read). */
export interface Tags {
  title?: string;
  artist?: string;
  album?: string;
  albumArtist?: string;
  genre?: string;
  year?: number;
  track?: number;
  disc?: number;
  bpm?: number;
  /** 0..1, as music-metadata normalises POPM / RATING. */
  rating?: number;
  comment?: string;
  durationSec?: number;
  /** kbit/s, from the audio header (an estimate for VBR files). */
  bitrate?: number;
  /** Unsynchronised lyrics (USLT, LYRICS), bounded by the catalog codec. */
  lyrics?: string;
  /**
   * The embedded front cover, by content: `<sha256 hex>.<jpg|png|gif|webp>`,
   * the name of its object under the remote's `.cratesync/covers/` (see
   * sync/covers.ts) and of its copy in the local cover store.
   */
  cover?: string;
}

/**
 * What a media player knows of a song beyond its file: its own view of the
 * tags, and what only a player keeps (rating, play count). Published in the
 * catalog beside the object it describes, even when the file did not change.
 */
export interface PlayerMeta {
  /** The player it came from: `strawberry`. */
  source: string;
  /** 0–100, whatever the player's own scale. */
  rating?: number;
  playCount?: number;
  /** ms since the epoch. */
  lastPlayed?: number;
  /** When it was starred (ms since the epoch): a Subsonic client's star. Absent: not starred. */
  starred?: number;
  tags?: Omit<Tags, 'rating' | 'comment' | 'bpm' | 'bitrate' | 'lyrics' | 'cover'>;
}
