/**
 * What the remote catalog says of a playlist object
 * (`playlists/<user>/<name>.m3u8`) beyond its bytes: where it came from and
 * how to show it. The M3U8 itself holds the tracks.
 */
export interface PlaylistMeta {
  /** The player it came from (`strawberry`), or the tool that wrote it. */
  player: string;
  /** A smart (rule-based) playlist, whose contents the player computes. */
  smart: boolean;
  /** Its name as the player shows it, folders joined with '/' (`Sets/Peak Time`). */
  name: string;
  /** Its place among its siblings in the player, when the player orders them. */
  position?: number;
  /** How many entries the M3U8 holds. */
  tracks: number;
}
