import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyMediaMonkeyDb, iunicodeExtension, openAsMediaMonkey } from '../../../test/fixtures/players/mediamonkey-db.js';
import { schemaOf } from '../../../test/fixtures/players/queue-db.js';
import { openPlayerDb } from '../player-db.js';
import { ackChanges, attachQueue, detachQueue, queueHealth, queueLength, takeChanges } from '../player-queue.js';
import type { PlayerDb } from '../sqlite-adapter.js';
import { mediamonkey } from './mediamonkey.js';

let file: string;
let cleanup: () => void;
let db: PlayerDb;
let player: Database.Database;

beforeEach(() => {
  ({ file, cleanup } = copyMediaMonkeyDb());
  db = openPlayerDb(file, mediamonkey);
  player = openAsMediaMonkey(file);
});
afterEach(() => {
  player.close();
  db.close();
  cleanup();
});

const hasIunicode = iunicodeExtension() !== null;

describe('mediamonkey: the change queue in a real MM.DB', () => {
  it('attach then detach leaves sqlite_master exactly as it was', () => {
    const before = schemaOf(file);
    attachQueue(db, mediamonkey);
    expect(queueHealth(db, mediamonkey)).toEqual({ state: 'attached' });
    expect(schemaOf(file)).not.toEqual(before);
    detachQueue(db);
    expect(schemaOf(file)).toEqual(before);
    expect(queueHealth(db, mediamonkey)).toEqual({ state: 'detached' });
  });

  it('an UPDATE of Rating queues one change, and MediaMonkey\'s own Songs trigger still runs', () => {
    attachQueue(db, mediamonkey);
    const tracks = (): number => player.prepare('SELECT Tracks FROM Albums WHERE ID = (SELECT IDAlbum FROM Songs WHERE ID = 1)').pluck().get() as number;
    const albumTracks = tracks();
    player.exec('UPDATE Songs SET Rating = 80 WHERE ID = 1');
    expect(tracks()).toBe(albumTracks); // update_songs: -1 then +1 on the same album
    expect(queueLength(db)).toBe(1);
    expect(takeChanges(db)).toEqual({ songs: ['1'], playlists: [] });
    ackChanges(db);
    expect(mediamonkey.readSongs(db, ['1']).songs[0]!.rating).toBe(80);
  });

  it('a save that rewrites the synced columns with the same values queues nothing', () => {
    attachQueue(db, mediamonkey);
    player.exec('UPDATE Songs SET Rating = Rating, PlayCounter = PlayCounter, LastTimePlayed = LastTimePlayed, SongLength = SongLength, Year = Year, TrackNumber = TrackNumber WHERE ID <= 10');
    expect(queueLength(db)).toBe(0);
    player.exec('UPDATE Songs SET PlayCounter = PlayCounter + 1, LastTimePlayed = 46000 WHERE ID IN (3, 4)');
    expect(takeChanges(db)).toEqual({ songs: ['3', '4'], playlists: [] });
  });

  it('playlist edits queue their playlist once, and MediaMonkey\'s playlist triggers still run', () => {
    attachQueue(db, mediamonkey);
    player.exec("UPDATE Playlists SET LastModified = '2000-01-01' WHERE IDPlaylist = 16");
    expect(queueLength(db)).toBe(0); // not a synced column
    // a save of Work Mix: its items deleted and written again in a new order
    player.transaction(() => {
      const items = player.prepare('SELECT IDSong FROM PlaylistSongs WHERE IDPlaylist = 16 ORDER BY SongOrder').pluck().all() as number[];
      player.prepare('DELETE FROM PlaylistSongs WHERE IDPlaylist = 16').run();
      const add = player.prepare('INSERT INTO PlaylistSongs (IDPlaylist, IDSong, SongOrder) VALUES (16, ?, ?)');
      [...items].reverse().forEach((song, i) => add.run(song, i));
    })();
    // insert_playlistsongs, MediaMonkey's own, stamped the playlist
    expect(player.prepare('SELECT LastModified FROM Playlists WHERE IDPlaylist = 16').pluck().get()).not.toBe('2000-01-01');
    // deleting a playlist: MediaMonkey's delete_playlists removes its items
    player.exec('DELETE FROM Playlists WHERE IDPlaylist = 14');
    expect(player.prepare('SELECT count(*) FROM PlaylistSongs WHERE IDPlaylist = 14').pluck().get()).toBe(0);
    expect(takeChanges(db)).toEqual({ songs: [], playlists: ['16', '14'] });
    ackChanges(db);
    const { playlists } = mediamonkey.readPlaylists(db, ['16', '14']);
    expect(playlists.map((p) => p.id)).toEqual(['16']);
    expect(playlists[0]!.paths[0]).toMatch(/07 One Way Glass\.mp3$/);
  });

  // MediaMonkey compares IUNICODE text case-insensitively: a trigger condition
  // using the column's collation would miss an edit of the case alone
  it('the triggers need no IUNICODE: a connection without it (any tool but MediaMonkey) still writes', () => {
    attachQueue(db, mediamonkey);
    const plain = new Database(file);
    try {
      plain.exec('UPDATE Songs SET Rating = 20 WHERE ID = 7');
      plain.exec('INSERT INTO PlaylistSongs (IDPlaylist, IDSong, SongOrder) VALUES (16, 7, 25)');
    } finally {
      plain.close();
    }
    expect(takeChanges(db)).toEqual({ songs: ['7'], playlists: ['16'] });
  });

  it.skipIf(!hasIunicode)('an edit of the case alone is a change (under MediaMonkey\'s own IUNICODE)', () => {
    attachQueue(db, mediamonkey);
    player.exec("UPDATE Playlists SET PlaylistName = 'WORK MIX' WHERE IDPlaylist = 16");
    expect(takeChanges(db)).toEqual({ songs: [], playlists: ['16'] });
  });
});
