/**
 * The layout under a remote root, shared with DJ-Tools "beatcloud" buckets:
 * audio at `music/<library path>`; playlists at `playlists/<user>/<name>.m3u8`; everything cratesync keeps for itself
 * under one hidden prefix, `.cratesync/`.
 */
export const MUSIC_PREFIX = 'music/';
export const META_PREFIX = '.cratesync/';
/** Playlists: `playlists/<user>/<name>.m3u8` (see sync/playlist-publish.ts). Never music. */
export const PLAYLISTS_PREFIX = 'playlists/';
export const TRASH_PREFIX = `${META_PREFIX}trash/`;

/** Local trash folder, inside the library root so that moving there is a rename. */
export const LOCAL_TRASH_DIR = '.cratesync-trash';

/** musicKey is the remote key of library path `path` (NFC, '/'-separated). */
export function musicKey(path: string): string {
  return MUSIC_PREFIX + path;
}

/**
 * trashStamp names a trash batch by the time of its run, to the millisecond:
 * sortable, distinct for runs in the same second, and valid as a key and as a
 * folder name on every OS (no colons).
 */
export function trashStamp(now: Date = new Date()): string {
  return now.toISOString().replace(/:/g, '-');
}

/** True for a key of a playlist object (under PLAYLISTS_PREFIX), which the music planner must never see. */
export function isPlaylistKey(key: string): boolean {
  return key.startsWith(PLAYLISTS_PREFIX);
}
