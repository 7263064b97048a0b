import { describe, expect, it } from 'vitest';
import { openStateDb } from '../state/state-db.js';
import { ActivityLog } from '../state/activity-log.js';
import { FileIndex } from '../state/file-index.js';
import { PlayerState } from '../state/player-state.js';
import { PlaylistMirror, PulledPlaylists } from '../state/remote-playlists.js';
import { playlistKey } from '../sync/playlist-publish.js';
import { libraryOverview } from './library-overview.js';
import type { PlayerStatus } from './control.js';

const REMOTE = 's3://bucket/dj';

describe('libraryOverview', () => {
  it('gathers formats, audio against tag-only changes, players and the playlists published and pulled', () => {
    const db = openStateDb(':memory:');
    const index = new FileIndex(db);
    index.put(
      { path: 'A/1.mp3', size: 100, mtimeMs: 0, inode: 1, md5: 'a' },
      { path: 'A/2.FLAC', size: 1000, mtimeMs: 0, inode: 2, md5: 'b' },
      { path: 'A/3.flac', size: 500, mtimeMs: 0, inode: 3, md5: 'c' },
    );
    index.flush();
    const activity = new ActivityLog(db);
    const row = { at: 1, runId: 'r', kind: 'upload' as const, path: 'A/1.mp3', bytes: 1, ok: true };
    activity.add({ ...row, reason: 'tags-changed' }, { ...row, reason: 'tags-changed', kind: 'download' }, { ...row, reason: 'content-differs' }, { ...row, reason: 'tags-changed', ok: false }, { ...row, reason: 'new' });

    new PlayerState(db).markPublished(REMOTE, 'playlist', 'strawberry:7', 'digest', 'Sets/Peak Time');
    new PlayerState(db).markPublished(REMOTE, 'playlist', 'strawberry:8', 'digest', 'Never Listed');
    new PlayerState(db).markPublished('s3://other', 'playlist', 'strawberry:9', 'digest', 'Elsewhere');
    const mirror = new PlaylistMirror(db, REMOTE);
    mirror.put({ key: playlistKey('me', 'Sets/Peak Time'), size: 10, playlist: { player: 'strawberry', smart: false, name: 'Sets/Peak Time', tracks: 12 } });
    mirror.put({ key: 'playlists/ana/Chill.m3u8', size: 10, playlist: { player: 'rhythmbox', smart: true, name: 'Chill', tracks: 4 } });
    const pulled = new PulledPlaylists(db, REMOTE);
    pulled.note({ file: 'Playlists/ana/Chill.m3u8', key: 'playlists/ana/Chill.m3u8', version: 'v' });
    pulled.note({ file: 'Playlists/bo/Old Tool.m3u8', key: 'playlists/bo/Old Tool.m3u8', version: 'v' });

    const players: PlayerStatus[] = [{ name: 'strawberry', database: '/db', health: 'ok', songs: 3, problems: 0, firstProblems: [] }];
    expect(libraryOverview({ db, remote: REMOTE, user: 'me', activity, players })).toEqual({
      files: 3,
      bytes: 1600,
      formats: [
        { ext: 'flac', files: 2, bytes: 1500 },
        { ext: 'mp3', files: 1, bytes: 100 },
      ],
      changes: { audio: 1, tagsOnly: 2 },
      players,
      playlists: [
        { name: 'Never Listed', player: 'strawberry', user: 'me', tracks: 0, where: 'published' },
        { name: 'Sets/Peak Time', player: 'strawberry', user: 'me', tracks: 12, where: 'published' },
        { name: 'Chill', player: 'rhythmbox', user: 'ana', tracks: 4, where: 'pulled' },
        { name: 'Old Tool', user: 'bo', tracks: 0, where: 'pulled' },
      ],
    });
  });
});
