/**
 * Strawberry (https://www.strawberrymusicplayer.org/), a fork of Clementine:
 * its collection database `strawberry.db`. See qt-player.ts for what it
 * shares with Clementine and the decisions on unavailable songs, streams
 * and CUE tracks.
 */
import { posix, win32 } from 'node:path';
import type { SqlitePlayerAdapter } from '../sqlite-adapter.js';
import { qtReadAll, qtReadPlaylists, qtReadSongs, qtRecognize, qtWatched, type QtPlayerSpec } from './qt-player.js';

const SPEC: QtPlayerSpec = {
  urlColumn: 'url',
  // An item of the collection (collection_id set) follows the collection's
  // row, so a moved file is seen at its new URL; others carry their own URL.
  itemsSelect:
    "SELECT p.playlist AS playlist, p.ROWID AS item, coalesce(s.url, nullif(p.url, '')) AS url FROM playlist_items AS p " +
    'LEFT JOIN songs AS s ON p.collection_id > 0 AND s.ROWID = p.collection_id',
};

export const strawberry: SqlitePlayerAdapter = {
  kind: 'sqlite',
  name: 'strawberry',
  label: 'Strawberry',
  /**
   * Qt's AppLocalDataLocation + `strawberry.db` (src/core/database.cpp);
   * on Linux also the Flatpak's data folder.
   */
  defaultPaths(env, home, platform) {
    if (platform === 'win32') {
      const local = env.LOCALAPPDATA ?? win32.join(home, 'AppData', 'Local');
      return [win32.join(local, 'Strawberry', 'Strawberry', 'strawberry.db')];
    }
    if (platform === 'darwin') {
      return [posix.join(home, 'Library', 'Application Support', 'Strawberry', 'Strawberry', 'strawberry.db')];
    }
    const data = env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== '' ? env.XDG_DATA_HOME : posix.join(home, '.local', 'share');
    return [
      posix.join(data, 'strawberry', 'strawberry', 'strawberry.db'),
      posix.join(home, '.var', 'app', 'org.strawberrymusicplayer.strawberry', 'data', 'strawberry', 'strawberry', 'strawberry.db'),
    ];
  },
  recognize(db) {
    return qtRecognize(db, {
      songs: ['url', 'beginning', 'rating', 'playcount', 'lastplayed', 'length'],
      playlists: ['name', 'ui_path', 'ui_order', 'dynamic_playlist_type'],
      playlist_items: ['playlist', 'collection_id', 'url'],
    });
  },
  watched: qtWatched('url'),
  readAll: (db) => qtReadAll(db, SPEC),
  readSongs: (db, ids) => qtReadSongs(db, SPEC, ids),
  readPlaylists: (db, ids) => qtReadPlaylists(db, SPEC, ids),
};
