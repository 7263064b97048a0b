/**
 * Clementine (https://www.clementine-player.org/): its library database
 * `clementine.db`. See qt-player.ts for what it shares with Strawberry and
 * the decisions on unavailable songs, streams and CUE tracks.
 */
import { posix, win32 } from 'node:path';
import type { SqlitePlayerAdapter } from '../sqlite-adapter.js';
import { qtReadAll, qtReadPlaylists, qtReadSongs, qtRecognize, qtWatched, type QtPlayerSpec } from './qt-player.js';

const SPEC: QtPlayerSpec = {
  urlColumn: 'filename',
  // A 'Library' item points at the library's row (library_id); a 'File'
  // item keeps its own `filename`; streams and radio keep `url`.
  itemsSelect:
    "SELECT p.playlist AS playlist, p.ROWID AS item, CASE WHEN p.type = 'Library' THEN s.filename " +
    "ELSE coalesce(nullif(p.filename, ''), nullif(p.url, '')) END AS url FROM playlist_items AS p " +
    'LEFT JOIN songs AS s ON s.ROWID = p.library_id',
};

export const clementine: SqlitePlayerAdapter = {
  kind: 'sqlite',
  name: 'clementine',
  label: 'Clementine',
  /**
   * Utilities::GetConfigPath(Path_Root) + `clementine.db`: `~/.config/Clementine`
   * on Linux and Windows alike (QDir::homePath, i.e. %USERPROFILE%), the
   * Application Support folder on macOS.
   */
  defaultPaths(env, home, platform) {
    if (platform === 'win32') {
      return [win32.join(env.USERPROFILE ?? home, '.config', 'Clementine', 'clementine.db')];
    }
    if (platform === 'darwin') return [posix.join(home, 'Library', 'Application Support', 'Clementine', 'clementine.db')];
    return [posix.join(home, '.config', 'Clementine', 'clementine.db')];
  },
  recognize(db) {
    return qtRecognize(db, {
      songs: ['filename', 'rating', 'playcount', 'lastplayed', 'length'],
      playlists: ['name', 'ui_path', 'ui_order', 'dynamic_playlist_type'],
      playlist_items: ['playlist', 'type', 'library_id', 'url', 'filename'],
    });
  },
  watched: qtWatched('filename'),
  readAll: (db) => qtReadAll(db, SPEC),
  readSongs: (db, ids) => qtReadSongs(db, SPEC, ids),
  readPlaylists: (db, ids) => qtReadPlaylists(db, SPEC, ids),
};
