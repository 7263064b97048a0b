import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { copyPlayerFixture, openAsPlayer } from '../../../test/fixtures/players/queue-db.js';
import { openPlayerDb } from '../player-db.js';
import { clementine } from './clementine.js';

const DIR = '/tmp/music/ArtistA/Album1';

const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
});
function setup(): { db: Database.Database; player: Database.Database } {
  const file = copyPlayerFixture('clementine-1.4.db');
  const db = openPlayerDb(file, clementine);
  const player = openAsPlayer(file);
  open.push(db, player);
  return { db, player };
}

describe('clementine adapter', () => {
  it('reads the real database: decoded paths, titles, an unavailable song still a song', () => {
    const { db } = setup();
    const snap = clementine.readAll(db);
    expect(snap.problems).toEqual([]);
    const song = (id: number, name: string) => ({
      id: String(id),
      path: `${DIR}/${name}.wav`,
      title: name,
      album: 'Album1',
      durationSec: 2,
      playCount: 0,
    });
    // Song 3 is `unavailable` in the fixture: still a song.
    expect(snap.songs).toEqual([song(1, '01 First'), song(2, '02 Second'), song(3, '03 Third'), song(4, '04 Fourth')]);
    expect(snap.playlists).toEqual([{ id: '1', name: 'Playlist 1', smart: false, paths: [], position: 0 }]);
  });

  it('normalises rating, last played and counts', () => {
    const { db, player } = setup();
    player.prepare('UPDATE songs SET rating = 0.8, playcount = 12, lastplayed = 1600000000, year = 1999, track = 3, disc = 1 WHERE ROWID = 2').run();
    player.prepare('UPDATE songs SET rating = NULL, lastplayed = NULL WHERE ROWID = 3').run();
    const { songs } = clementine.readSongs(db, ['2', '3']);
    expect(songs[0]).toMatchObject({ id: '2', rating: 80, playCount: 12, lastPlayed: 1_600_000_000_000, year: 1999, track: 3, disc: 1 });
    expect(songs[1]).not.toHaveProperty('rating');
    expect(songs[1]).not.toHaveProperty('lastPlayed');
  });

  it("playlists: 'Library' items through library_id, 'File' items by their filename, streams skipped, order = ROWID", () => {
    const { db, player } = setup();
    player.transaction(() => {
      for (const id of [4, 2]) player.prepare("INSERT INTO playlist_items (playlist, type, library_id) VALUES (1, 'Library', ?)").run(id);
      // Clementine binds URLs as QByteArray: BLOBs.
      player.prepare("INSERT INTO playlist_items (playlist, type, filename) VALUES (1, 'File', CAST('file:///tmp/x/a%20b.mp3' AS BLOB))").run();
      player.prepare("INSERT INTO playlist_items (playlist, type, url) VALUES (1, 'Stream', 'http://radio.example/s')").run();
      // A library item whose song the player removed since.
      player.prepare("INSERT INTO playlist_items (playlist, type, library_id) VALUES (1, 'Library', 99)").run();
    })();
    player.prepare("UPDATE playlists SET ui_path = 'Sets', dynamic_playlist_type = NULL WHERE ROWID = 1").run();
    const got = clementine.readPlaylists(db, ['1']);
    expect(got.playlists).toEqual([
      { id: '1', name: 'Sets/Playlist 1', smart: false, position: 0, paths: [`${DIR}/04 Fourth.wav`, `${DIR}/02 Second.wav`, '/tmp/x/a b.mp3'] },
    ]);
    expect(got.problems).toEqual([{ path: 'Sets/Playlist 1', message: expect.stringContaining('no song') }]);
  });

  it('recognises its own database only', () => {
    const { db } = setup();
    expect(clementine.recognize(db)).toBeUndefined();
    const sb = openPlayerDb(copyPlayerFixture('strawberry-1.0.14.db'), { ...clementine, recognize: () => undefined });
    open.push(sb);
    expect(clementine.recognize(sb)).toBe('table songs has no column filename');
  });

  it('default paths per platform', () => {
    expect(clementine.defaultPaths({}, '/home/bob', 'linux')).toEqual(['/home/bob/.config/Clementine/clementine.db']);
    expect(clementine.defaultPaths({}, '/Users/bob', 'darwin')).toEqual(['/Users/bob/Library/Application Support/Clementine/clementine.db']);
    expect(clementine.defaultPaths({ USERPROFILE: 'C:\\Users\\bob' }, 'C:\\Users\\bob', 'win32')).toEqual([
      'C:\\Users\\bob\\.config\\Clementine\\clementine.db',
    ]);
  });
});
