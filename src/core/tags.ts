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
}
