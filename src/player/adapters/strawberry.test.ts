import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { copyPlayerFixture, openAsPlayer } from '../../../test/fixtures/players/queue-db.js';
import { openPlayerDb } from '../player-db.js';
import { strawberry } from './strawberry.js';

const DIR = '/tmp/music/ArtistA/Album1';

const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
});
function setup(): { db: Database.Database; player: Database.Database } {
  const file = copyPlayerFixture('strawberry-1.0.14.db');
  const db = openPlayerDb(file, strawberry);
  const player = openAsPlayer(file);
  open.push(db, player);
  return { db, player };
}

/** Adds a song as Strawberry's collection does, copying song 1's row with other values. */
function addSong(player: Database.Database, values: Record<string, unknown>): string {
  const cols = (player.prepare("SELECT name FROM pragma_table_info('songs')").pluck().all() as string[]).filter((c) => !(c in values));
  const names = [...cols, ...Object.keys(values)].map((c) => `"${c}"`).join(', ');
  const info = player
    .prepare(`INSERT INTO songs (${names}) SELECT ${cols.map((c) => `"${c}"`).join(', ')}, ${Object.keys(values).map(() => '?').join(', ')} FROM songs WHERE ROWID = 1`)
    .run(...Object.values(values));
  return String(info.lastInsertRowid);
}

describe('strawberry adapter', () => {
  it('reads the real database: decoded paths, unset fields absent, length in seconds', () => {
    const { db } = setup();
    const snap = strawberry.readAll(db);
    expect(snap.problems).toEqual([]);
    expect(snap.songs).toEqual([
      { id: '1', path: `${DIR}/01 First.wav`, durationSec: 2, playCount: 0 },
      { id: '2', path: `${DIR}/04 Fourth.wav`, durationSec: 2, playCount: 0 },
      { id: '3', path: `${DIR}/02 Second.wav`, durationSec: 2, playCount: 0 },
    ]);
    expect(snap.playlists).toEqual([{ id: '1', name: 'Playlist 1', smart: false, paths: [], position: 0 }]);
  });

  it('normalises rating 0..1 to 0..100, last played seconds to ms, keeps year/track/disc when set', () => {
    const { db, player } = setup();
    player
      .prepare(
        "UPDATE songs SET title = 'First', artist = 'Artist A', album = 'Album 1', albumartist = 'AA', genre = 'Techno', " +
          'year = 2001, track = 1, disc = 2, rating = 0.6, playcount = 7, lastplayed = 1700000000, length = 183500000000 WHERE ROWID = 1',
      )
      .run();
    player.prepare('UPDATE songs SET rating = 0 WHERE ROWID = 2').run();
    const { songs } = strawberry.readSongs(db, ['1', '2']);
    expect(songs).toEqual([
      {
        id: '1',
        path: `${DIR}/01 First.wav`,
        title: 'First',
        artist: 'Artist A',
        album: 'Album 1',
        albumArtist: 'AA',
        genre: 'Techno',
        year: 2001,
        track: 1,
        disc: 2,
        durationSec: 183.5,
        rating: 60,
        playCount: 7,
        lastPlayed: 1_700_000_000_000,
      },
      { id: '2', path: `${DIR}/04 Fourth.wav`, durationSec: 2, playCount: 0, rating: 0 },
    ]);
  });

  it('playlists: items in ROWID order through the collection, folder from ui_path, dynamic ones smart', () => {
    const { db, player } = setup();
    player.transaction(() => {
      player.prepare('DELETE FROM playlist_items WHERE playlist = 1').run();
      for (const id of [3, 1, 2]) {
        player.prepare('INSERT INTO playlist_items (playlist, type, collection_id, url) SELECT 1, 2, ROWID, url FROM songs WHERE ROWID = ?').run(id);
      }
      // A stream in the playlist is no file: skipped.
      player.prepare("INSERT INTO playlist_items (playlist, type, url) VALUES (1, 5, 'http://radio.example/stream')").run();
      // A local file outside the collection carries its own URL.
      player.prepare("INSERT INTO playlist_items (playlist, type, url) VALUES (1, 1, 'file:///tmp/other/x%23y.flac')").run();
    })();
    player.prepare("UPDATE playlists SET ui_path = '/Sets/Techno', ui_order = 3 WHERE ROWID = 1").run();
    const dyn = player
      .prepare("INSERT INTO playlists (name, ui_order, dynamic_playlist_type, dynamic_playlist_backend) VALUES ('Dyn', 1, 1, 'songs')")
      .run().lastInsertRowid;
    player.prepare('INSERT INTO playlist_items (playlist, type, collection_id, url) SELECT ?, 2, ROWID, url FROM songs WHERE ROWID = 2').run(dyn);
    const got = strawberry.readPlaylists(db, ['1', String(dyn), '99', 'x']);
    expect(got.problems).toEqual([]);
    expect(got.playlists).toEqual([
      {
        id: '1',
        name: 'Sets/Techno/Playlist 1',
        smart: false,
        position: 3,
        paths: [`${DIR}/02 Second.wav`, `${DIR}/01 First.wav`, `${DIR}/04 Fourth.wav`, '/tmp/other/x#y.flac'],
      },
      { id: String(dyn), name: 'Dyn', smart: true, position: 1, paths: [`${DIR}/04 Fourth.wav`] },
    ]);
  });

  it('a collection item follows the song when the player moves the file', () => {
    const { db, player } = setup();
    player.prepare('INSERT INTO playlist_items (playlist, type, collection_id, url) SELECT 1, 2, ROWID, url FROM songs WHERE ROWID = 1').run();
    player.prepare("UPDATE songs SET url = 'file:///tmp/music/moved.wav' WHERE ROWID = 1").run();
    expect(strawberry.readPlaylists(db, ['1']).playlists[0]?.paths).toEqual(['/tmp/music/moved.wav']);
  });

  it('unavailable songs stay songs; streams are skipped; CUE tracks are two songs and one problem; a bad URL is one problem', () => {
    const { db, player } = setup();
    player.prepare('UPDATE songs SET unavailable = 1 WHERE ROWID = 2').run();
    addSong(player, { source: 5, url: 'http://radio.example/stream' });
    const cue1 = addSong(player, { url: 'file:///tmp/music/set.flac', beginning: 0, cue_path: '/tmp/music/set.cue' });
    const cue2 = addSong(player, { url: 'file:///tmp/music/set.flac', beginning: 300_000_000_000, cue_path: '/tmp/music/set.cue' });
    addSong(player, { url: 'file:///tmp/music/bad%ZZ.wav' });
    const snap = strawberry.readAll(db);
    expect(snap.songs.map((s) => [s.id, s.path])).toEqual([
      ['1', `${DIR}/01 First.wav`],
      ['2', `${DIR}/04 Fourth.wav`],
      ['3', `${DIR}/02 Second.wav`],
      [cue1, '/tmp/music/set.flac'],
      [cue2, '/tmp/music/set.flac'],
    ]);
    expect(snap.problems).toEqual([
      { path: 'file:///tmp/music/bad%ZZ.wav', message: expect.stringContaining('percent-encoding') },
      { path: '/tmp/music/set.flac', message: expect.stringContaining('CUE') },
    ]);
  });

  it('recognises its own database only', () => {
    const { db } = setup();
    expect(strawberry.recognize(db)).toBeUndefined();
    const cl = openPlayerDb(copyPlayerFixture('clementine-1.4.db'), { ...strawberry, recognize: () => undefined });
    open.push(cl);
    expect(strawberry.recognize(cl)).toBe('table songs has no column url');
  });

  it('default paths per platform', () => {
    expect(strawberry.defaultPaths({}, '/home/bob', 'linux')).toEqual([
      '/home/bob/.local/share/strawberry/strawberry/strawberry.db',
      '/home/bob/.var/app/org.strawberrymusicplayer.strawberry/data/strawberry/strawberry/strawberry.db',
    ]);
    expect(strawberry.defaultPaths({ XDG_DATA_HOME: '/data' }, '/home/bob', 'linux')[0]).toBe('/data/strawberry/strawberry/strawberry.db');
    expect(strawberry.defaultPaths({}, '/Users/bob', 'darwin')).toEqual([
      '/Users/bob/Library/Application Support/Strawberry/Strawberry/strawberry.db',
    ]);
    expect(strawberry.defaultPaths({ LOCALAPPDATA: 'C:\\Users\\bob\\AppData\\Local' }, 'C:\\Users\\bob', 'win32')).toEqual([
      'C:\\Users\\bob\\AppData\\Local\\Strawberry\\Strawberry\\strawberry.db',
    ]);
  });
});
