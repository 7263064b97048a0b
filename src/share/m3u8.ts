/**
 * M3U8 playlists (stub: interface first).
 */
import { posix } from 'node:path';

/** One entry of a playlist. */
export interface M3uEntry {
  /** Relative to the playlist file, '/'-separated. */
  path: string;
  durationSec?: number;
  artist?: string;
  title?: string;
}

/** '#EXTM3U\n' then per entry '#EXTINF:<secs or -1>,<Artist - Title>\n<path>\n'. */
export function renderM3u8(entries: readonly M3uEntry[]): string {
  return '#EXTM3U\n' + entries.map((e) => `#EXTINF:-1,\n${e.path}\n`).join('');
}

/** Relative path from the folder of playlist file `playlistAbs` to `fileAbs`, with '/' separators. */
export function playlistRelative(playlistAbs: string, fileAbs: string): string {
  return posix.relative(posix.dirname(playlistAbs), fileAbs);
}
