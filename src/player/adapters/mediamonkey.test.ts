import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyMediaMonkeyDb, MEDIAMONKEY_FIXTURE, openAsMediaMonkey } from '../../../test/fixtures/players/mediamonkey-db.js';
import { FileError } from '../../errors.js';
import type { PlayerDb } from '../sqlite-adapter.js';
import { evaluateRule } from '../smart-rule.js';
import { openPlayerDb } from '../player-db.js';
import { decodeSongPath, mediamonkey, oleDateToMs, wslDatabases } from './mediamonkey.js';

const DIR = 'C:\\Users\\testuser\\Desktop\\songs\\';
const CLEMENTINE = MEDIAMONKEY_FIXTURE.replace('mediamonkey4-sample.db', 'clementine-1.4.db');

let file: string;
let cleanup: () => void;
let db: PlayerDb;

beforeEach(async () => {
  ({ file, cleanup } = copyMediaMonkeyDb());
  db = openPlayerDb(file, mediamonkey);
});
afterEach(async () => {
  db.close();
  cleanup();
});

/** A write as MediaMonkey would make it, on its own connection (sqlite3 CLI semantics: no cratesync code). */
function playerWrite(sql: string): void {
  const player = openAsMediaMonkey(file);
  try {
    player.exec(sql);
  } finally {
    player.close();
  }
}

describe('mediamonkey: reading the real MM.DB', () => {
  it('recognises it, and refuses a database of another player naming the file', () => {
    expect(mediamonkey.recognize(db)).toBeUndefined();
    expect(() => openPlayerDb(CLEMENTINE, mediamonkey)).toThrow(FileError);
    expect(() => openPlayerDb(CLEMENTINE, mediamonkey)).toThrow(/clementine-1\.4\.db: not a MediaMonkey database: no table Medias, PlaylistSongs$/);
  });

  it('reads the 76 songs with drive letter + SongPath and normalised fields', () => {
    const snap = mediamonkey.readAll(db);
    expect(snap.songs).toHaveLength(76);
    expect(snap.songs.every((s) => s.path.startsWith(DIR))).toBe(true);
    const byId = new Map(snap.songs.map((s) => [s.id, s]));
    expect(byId.get('1')).toEqual({
      id: '1',
      path: `${DIR}01 2049.mp3`,
      title: '2049',
      artist: 'Hans Zimmer & Benjamin Wallfisch',
      album: 'Blade Runner 2049',
      albumArtist: 'Hans Zimmer & Benjamin Wallfisch',
      genre: 'Ambient',
      year: 2017, // 20171117
      track: 1,
      disc: 1,
      durationSec: 217.835, // SongLength 217835 ms
      playCount: 0,
      // DateAdded 43966.0121957523 (OLE): 2020-05-15 00:17:33.713 UTC, the minute MediaMonkey's LastModified says
      addedAt: Date.UTC(2020, 4, 15, 0, 17, 33, 713),
    });
    // unrated (-1) and never played (0.0): absent
    expect(byId.get('1')).not.toHaveProperty('rating');
    expect(byId.get('1')).not.toHaveProperty('lastPlayed');
    expect(byId.get('3')!.year).toBe(2013); // 20130000
    expect(byId.get('17')!.track).toBe(2); // '02'
    expect(byId.get('71')).toMatchObject({ track: 17, disc: 2, path: `${DIR}17 To the Stars.mp3` });
    expect(byId.get('4')!.title).toBe('Jack’s Dream');
    expect(byId.get('18')).not.toHaveProperty('genre'); // ''
    expect(byId.get('30')!.path).toBe(`${DIR}03 Everything.m4a`);
  });

  it('reads ratings, play counts and last played times as MediaMonkey writes them', () => {
    playerWrite('UPDATE Songs SET Rating = 90, PlayCounter = 7, LastTimePlayed = 45000.5 WHERE ID = 2; UPDATE Songs SET Rating = 0 WHERE ID = 3');
    const [two, three] = mediamonkey.readSongs(db, ['2', '3']).songs;
    expect(two).toMatchObject({ id: '2', rating: 90, playCount: 7, lastPlayed: Date.UTC(2023, 2, 15, 12) });
    expect(three).toMatchObject({ id: '3', rating: 0 });
  });

  it('readSongs returns only the ids still there', () => {
    const r = mediamonkey.readSongs(db, ['5', '999', 'x', '76']);
    expect(r.songs.map((s) => s.id)).toEqual(['5', '76']);
    expect(r.problems).toEqual([]);
  });

  it('reports each song whose media has no drive letter', () => {
    playerWrite('UPDATE Medias SET DriveLetter = NULL WHERE IDMedia = 5');
    const snap = mediamonkey.readAll(db);
    expect(snap.songs).toEqual([]);
    expect(snap.problems.filter((p) => p.path.startsWith('Songs.ID'))).toHaveLength(76);
    expect(snap.problems[0]).toEqual({
      path: 'Songs.ID 1',
      message: expect.stringContaining('MediaMonkey song without an absolute path (SongPath ":\\\\Users\\\\testuser\\\\Desktop\\\\songs\\\\01 2049.mp3", media 5 drive letter none)'),
    });
  });

  it('builds the playlist tree and keeps SongOrder', () => {
    const snap = mediamonkey.readAll(db);
    const lists = new Map(snap.playlists.map((p) => [p.name, p]));
    expect([...lists.keys()]).toEqual([
      'Favorites - Top 50',
      'Last 50 played',
      'Accessible Tracks',
      'Favorites - 1 Audio CD Worth (74 min)',
      'Favorites - 1 MP3 CD Worth (650 MB)',
      'Favorites - Not Heard Recently (1 hr)',
      'Recently Added',
      'Imported playlists',
      'Imported playlists/KSP',
      'Work Mix',
    ]);
    const ksp = lists.get('Imported playlists/KSP')!;
    expect(ksp).toMatchObject({ id: '14', smart: false });
    expect(ksp.paths).toHaveLength(51);
    // SongOrder 0, 1, 2 … 50: songs 20, 4, 8 … 45
    expect(ksp.paths.slice(0, 3)).toEqual([`${DIR}02 Gipsy Danger.mp3`, `${DIR}01 Jack’s Dream.mp3`, `${DIR}01 Space Oddity.mp3`]);
    expect(ksp.paths.at(-1)).toBe(`${DIR}05 Rocket Man (I Think It’s Going to Be a Long, Long Time).mp3`);
    expect(lists.get('Work Mix')!.paths).toHaveLength(25);
    expect(lists.get('Imported playlists')).toMatchObject({ smart: false, paths: [] });
  });

  it('readPlaylists reads the order MediaMonkey saved, whatever the rows order', () => {
    // a save that moves the first song last: SongOrder rewritten, rows kept
    playerWrite('UPDATE PlaylistSongs SET SongOrder = 99 WHERE IDPlaylist = 16 AND SongOrder = 0');
    const { playlists } = mediamonkey.readPlaylists(db, ['16', '404']);
    expect(playlists.map((p) => p.id)).toEqual(['16']);
    expect(playlists[0]!.paths[0]).toBe(`${DIR}02 2 Bit Blues.mp3`);
    expect(playlists[0]!.paths.at(-1)).toBe(`${DIR}02 Heikki.mp3`);
  });

  it('translates four auto-playlists and evaluates them; reports the other three, left empty', () => {
    const snap = mediamonkey.readAll(db);
    const lists = new Map(snap.playlists.map((p) => [p.name, p]));
    for (const name of ['Last 50 played', 'Favorites - 1 Audio CD Worth (74 min)', 'Favorites - Not Heard Recently (1 hr)', 'Recently Added']) {
      expect(lists.get(name), name).toMatchObject({ smart: true, rule: expect.any(Object) });
    }
    // nothing played, nothing rated, nothing added since 2020: all empty today, as in MediaMonkey
    expect(snap.playlists.filter((p) => p.smart).map((p) => p.paths.length)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(snap.problems).toEqual([
      { path: 'Favorites - Top 50', message: expect.stringMatching(/^MediaMonkey auto-playlist not translated, .*\(0 songs\): \[AdvCond1\] DBField=Songs\.PlayCounter \+/) },
      { path: 'Accessible Tracks', message: expect.stringContaining('[AdvCond1] DBField=STAT Condition=201') },
      { path: 'Favorites - 1 MP3 CD Worth (650 MB)', message: expect.stringContaining('LimitMB=1') },
    ]);
    for (const name of ['Favorites - Top 50', 'Accessible Tracks', 'Favorites - 1 MP3 CD Worth (650 MB)']) expect(lists.get(name)).not.toHaveProperty('rule');
    // "Recently Added" five days after the import: every song, newest first
    // (checked by hand: SELECT ID FROM Songs ORDER BY DateAdded DESC → 76, 75, … 1)
    const songs = snap.songs;
    const recent = evaluateRule(lists.get('Recently Added')!.rule!, songs, Date.UTC(2020, 4, 20));
    expect(recent).toEqual([...songs].reverse().map((s) => s.path));
    expect(evaluateRule(lists.get('Recently Added')!.rule!, songs, Date.UTC(2020, 5, 20))).toEqual([]);
  });

  it('evaluates the auto-playlists over what the player changed', () => {
    playerWrite(
      'UPDATE Songs SET Rating = 100; UPDATE Songs SET PlayCounter = 3, LastTimePlayed = 45000.5 WHERE ID = 2; ' +
        'UPDATE Songs SET PlayCounter = 1, LastTimePlayed = 44000 WHERE ID = 4',
    );
    const snap = mediamonkey.readAll(db);
    const lists = new Map(snap.playlists.map((p) => [p.name, p]));
    const ids = (paths: string[]): string[] => paths.map((p) => snap.songs.find((s) => s.path === p)!.id);
    // checked by hand: SELECT ID FROM Songs WHERE PlayCounter > 0 ORDER BY LastTimePlayed DESC LIMIT 50 → 2, 4
    expect(ids(lists.get('Last 50 played')!.paths)).toEqual(['2', '4']);
    // checked by hand: SELECT ID FROM (SELECT ID, sum(SongLength) OVER (ORDER BY LastTimePlayed, ID) t FROM Songs
    //   WHERE Rating >= 80) WHERE t <= 3600000 → 1, 3, 5 … 14 (never played first, then by ID)
    expect(ids(lists.get('Favorites - Not Heard Recently (1 hr)')!.paths)).toEqual(['1', '3', '5', '6', '7', '8', '9', '10', '11', '12', '13', '14']);
    const cd = lists.get('Favorites - 1 Audio CD Worth (74 min)')!.paths;
    const seconds = cd.reduce((t, p) => t + snap.songs.find((s) => s.path === p)!.durationSec!, 0);
    expect(seconds).toBeLessThanOrEqual(74 * 60);
    expect(cd.length).toBeGreaterThan(10);
    expect(new Set(cd).size).toBe(cd.length);
    // a random order that stays put between reads: nothing to push again until its songs change
    expect(mediamonkey.readAll(db).playlists.find((p) => p.id === '4')!.paths).toEqual(cd);
  });
});

describe('mediamonkey: paths and dates', () => {
  it('decodeSongPath', () => {
    expect(decodeSongPath(':\\Music\\a.mp3', 2)).toBe('C:\\Music\\a.mp3');
    expect(decodeSongPath(':\\a.mp3', 0)).toBe('A:\\a.mp3');
    expect(decodeSongPath(':\\a.mp3', 25)).toBe('Z:\\a.mp3');
    expect(decodeSongPath('\\\\nas\\music\\a.mp3', null)).toBe('\\\\nas\\music\\a.mp3');
    expect(decodeSongPath('D:\\a.mp3', null)).toBe('D:\\a.mp3');
    expect(decodeSongPath(':\\a.mp3', null)).toBeUndefined();
    expect(decodeSongPath(':\\a.mp3', 26)).toBeUndefined();
    expect(decodeSongPath('a.mp3', 2)).toBeUndefined();
    expect(decodeSongPath('', 2)).toBeUndefined();
  });
  it('oleDateToMs', () => {
    expect(oleDateToMs(25569)).toBe(0);
    expect(oleDateToMs(25569.5)).toBe(43_200_000);
    expect(oleDateToMs(0)).toBeUndefined();
    expect(oleDateToMs(-1)).toBeUndefined();
    expect(oleDateToMs(null)).toBeUndefined();
  });
  it('defaultPaths: MM5 then MM4 under %APPDATA% on Windows; nothing on macOS', () => {
    expect(mediamonkey.defaultPaths({ APPDATA: 'C:\\Users\\me\\AppData\\Roaming' }, 'C:\\Users\\me', 'win32')).toEqual([
      'C:\\Users\\me\\AppData\\Roaming\\MediaMonkey5\\MM5.DB',
      'C:\\Users\\me\\AppData\\Roaming\\MediaMonkey\\MM.DB',
    ]);
    expect(mediamonkey.defaultPaths({}, 'C:\\Users\\me', 'win32')[1]).toBe('C:\\Users\\me\\AppData\\Roaming\\MediaMonkey\\MM.DB');
    expect(mediamonkey.defaultPaths({}, '/Users/me', 'darwin')).toEqual([]);
  });
  it('wslDatabases: the databases that exist under each Windows profile', () => {
    const users = mkdtempSync(join(tmpdir(), 'cratesync-users-'));
    try {
      for (const f of ['ann/AppData/Roaming/MediaMonkey/MM.DB', 'bob/AppData/Roaming/MediaMonkey5/MM5.DB', 'bob/AppData/Roaming/MediaMonkey/MM.DB']) {
        mkdirSync(dirname(join(users, f)), { recursive: true });
        writeFileSync(join(users, f), '');
      }
      mkdirSync(join(users, 'Public'));
      expect(wslDatabases(users).map((p) => p.slice(users.length + 1)).sort()).toEqual([
        'ann/AppData/Roaming/MediaMonkey/MM.DB',
        'bob/AppData/Roaming/MediaMonkey/MM.DB',
        'bob/AppData/Roaming/MediaMonkey5/MM5.DB',
      ]);
      expect(wslDatabases(join(users, 'nobody'))).toEqual([]);
    } finally {
      rmSync(users, { recursive: true, force: true });
    }
  });
});
