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

/** One entry of a parsed playlist, with the line its path is on (1-based), for messages. */
export interface ParsedM3uEntry extends M3uEntry {
  line: number;
}

/**
 * parseM3u8 reads an M3U or M3U8 text: a path per line, each optionally
 * preceded by `#EXTINF:<seconds>,<label>` (a label `Artist - Title` gives
 * both; otherwise it is the title). Other `#` lines and blank lines are
 * skipped; a leading BOM and CR line ends are accepted. Paths are returned
 * exactly as written (a file name may begin or end with a blank) and unchecked: the caller decides
 * what a path may be (the text may come from anyone).
 */
export function parseM3u8(text: string): ParsedM3uEntry[] {
  const out: ParsedM3uEntry[] = [];
  let info: Omit<M3uEntry, 'path'> | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const bare = line.trim();
    if (bare === '') continue;
    if (bare.startsWith('#')) {
      const m = /^#EXTINF:\s*(-?[0-9.]+)?[^,]*,(.*)$/i.exec(bare);
      if (m) info = extinf(m[1], m[2] ?? '');
      continue;
    }
    out.push({ path: line, ...info, line: i + 1 });
    info = undefined;
  }
  return out;
}

function extinf(secs: string | undefined, label: string): Omit<M3uEntry, 'path'> {
  const e: Omit<M3uEntry, 'path'> = {};
  const n = secs === undefined ? NaN : Number(secs);
  if (Number.isFinite(n) && n >= 0) e.durationSec = n;
  const l = label.trim();
  const dash = l.indexOf(' - ');
  if (dash > 0) {
    e.artist = l.slice(0, dash).trim();
    e.title = l.slice(dash + 3).trim();
  } else if (l !== '') {
    e.title = l;
  }
  return e;
}
