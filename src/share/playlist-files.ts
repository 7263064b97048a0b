/**
 * Playlists written into the library as M3U8 files, under
 * `<library>/Playlists/<user>/` (PLAYLISTS_DIR: never sent as music), one per
 * playlist, in folders as the playlist tree has them. Names come from another
 * user's XML: each component is made a valid file name on every OS, and can
 * never climb out of its folder. A file that would be replaced with other
 * content goes to the local trash first.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PLAYLISTS_DIR } from '../library/filter.js';
import { fileName } from '../library/names.js';
import { renderM3u8, playlistRelative, type M3uEntry } from '../core/m3u8.js';
import { trashLocal } from '../sync/trash.js';
import { trashStamp } from '../sync/layout.js';

/** The library path of the M3U8 of playlist `playlistPath` ('Sets/Peak Time') of `user`. */
export function playlistFilePath(user: string, playlistPath: string): string {
  return [PLAYLISTS_DIR, fileName(user), ...playlistPath.split('/').map(fileName)].join('/') + '.m3u8';
}

export interface PlaylistTrack {
  /** Absolute path of the file in this library. */
  abs: string;
  durationSec?: number;
  artist?: string;
  title?: string;
}

/**
 * writePlaylist writes the M3U8 at library path `file` (see playlistFilePath)
 * under `root`: atomically, and only when its content changes; the file it
 * replaces goes to the local trash. Returns false when it was already so.
 */
export async function writePlaylist(root: string, file: string, tracks: readonly PlaylistTrack[]): Promise<boolean> {
  const abs = join(root, ...file.split('/'));
  const entries: M3uEntry[] = tracks.map((t) => ({
    path: playlistRelative(abs, t.abs),
    ...(t.durationSec !== undefined ? { durationSec: t.durationSec } : {}),
    ...(t.artist !== undefined ? { artist: t.artist } : {}),
    ...(t.title !== undefined ? { title: t.title } : {}),
  }));
  const text = renderM3u8(entries);
  const old = await readFile(abs, 'utf8').catch(() => undefined);
  if (old === text) return false;
  if (old !== undefined) await trashLocal(root, trashStamp(), file, abs);
  await mkdir(dirname(abs), { recursive: true });
  const tmp = `${abs}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, abs);
  return true;
}
