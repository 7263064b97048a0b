/**
 * Extended M3U playlists in UTF-8 (M3U8), the form DJ software and media
 * players read: `#EXTM3U`, then `#EXTINF:<seconds>,<Artist - Title>` and the
 * file's path for each entry.
 */
import { dirname, relative, sep } from 'node:path';
import { FileError } from '../errors.js';

/** One entry of a playlist. */
export interface M3uEntry {
  /** Relative to the playlist file, '/'-separated. */
  path: string;
  durationSec?: number;
  artist?: string;
  title?: string;
}

const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ').trim();

/**
 * '#EXTM3U\n' then per entry '#EXTINF:<secs or -1>,<Artist - Title>\n<path>\n' (UTF-8; newline/CR in tags → space;
 * seconds rounded; the label is 'Artist - Title', or whichever of the two is known, or empty).
 * Throws FileError for a path holding a line break, which no M3U line can carry.
 */
export function renderM3u8(entries: readonly M3uEntry[]): string {
  let out = '#EXTM3U\n';
  for (const e of entries) {
    if (/[\r\n]/.test(e.path)) throw new FileError(e.path, 'a line break in a file name cannot be written to an M3U8 playlist');
    const secs = e.durationSec !== undefined && Number.isFinite(e.durationSec) && e.durationSec >= 0 ? Math.round(e.durationSec) : -1;
    const label = [e.artist, e.title].map((s) => oneLine(s ?? '')).filter((s) => s !== '').join(' - ');
    out += `#EXTINF:${secs},${label}\n${e.path}\n`;
  }
  return out;
}

/** Relative path from the folder of playlist file `playlistAbs` to `fileAbs` (both native absolute paths of this
 *  machine), with '/' separators. */
export function playlistRelative(playlistAbs: string, fileAbs: string): string {
  const rel = relative(dirname(playlistAbs), fileAbs);
  return sep === '\\' ? rel.replace(/\\/g, '/') : rel;
}
