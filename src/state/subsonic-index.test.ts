import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { subsonicId } from '../core/subsonic-ids.js';
import type { Tags } from '../core/tags.js';
import { RemoteMirror, type MirrorObject } from './remote-mirror.js';
import { openStateDb, type Db } from './state-db.js';
import { fold, sortName, SubsonicIndex, type AlbumListType } from './subsonic-index.js';

const REMOTE = 's3://b/dj';
let dir: string;
let db: Db;
let mirror: RemoteMirror;
let index: SubsonicIndex;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sub-index-'));
  db = openStateDb(join(dir, 'state.db'));
  mirror = new RemoteMirror(db, REMOTE);
  index = new SubsonicIndex(db, REMOTE);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function put(key: string, tags?: Tags, more: Partial<MirrorObject> = {}): void {
  mirror.put({ key, size: 100, md5: 'a'.repeat(32), ...(tags ? { tags } : {}), ...more });
  mirror.flush();
}

const albumId = (artist: string, album: string) => subsonicId('album', artist.toLowerCase(), album.toLowerCase());
const artistId = (name: string) => subsonicId('artist', name.toLowerCase());
const all = { artistCount: 100, artistOffset: 0, albumCount: 100, albumOffset: 0, songCount: 100, songOffset: 0 };

function library(): void {
  put('music/Beatles/Abbey Road/01.mp3', { title: 'Come Together', artist: 'The Beatles', album: 'Abbey Road', year: 1969, track: 1, disc: 1, genre: 'Rock', durationSec: 259.6, bitrate: 320 });
  put('music/Beatles/Abbey Road/02.mp3', { title: 'Something', artist: 'The Beatles', album: 'Abbey Road', year: 1969, track: 2, disc: 1, genre: 'Rock', durationSec: 182 });
  put('music/Beatles/Abbey Road/cover.jpg');
  put('music/Beyonce/Lemonade/01.flac', { title: 'Formation', artist: 'Beyoncé', album: 'Lemonade', year: 2016, track: 1, genre: 'R&B', lyrics: 'Y’all haters corny' }, { writtenAt: 5000 });
  put('music/Various/Hits/01.mp3', { title: 'Song A', artist: 'Alpha', albumArtist: 'Various Artists', album: 'Hits', year: 2001, genre: 'Pop' });
  put('music/Various/Hits/02.mp3', { title: 'Song B', artist: 'Beta', albumArtist: 'Various Artists', album: 'Hits', year: 2003, genre: 'Pop', cover: 'f'.repeat(64) + '.jpg' });
  put('music/Untagged/Some Folder/track.ogg');
  put('music/notes.txt');
}

describe('SubsonicIndex', () => {
  it('builds songs, albums and artists from the mirror, with the documented fallbacks', () => {
    library();
    expect(index.refresh()).toEqual({ changed: 6 });
    expect(index.stats()).toMatchObject({ songs: 6, albums: 4, artists: 4 });
    const abbey = index.album(albumId('The Beatles', 'Abbey Road'))!;
    expect(abbey).toMatchObject({ name: 'Abbey Road', artist: 'The Beatles', artistId: artistId('The Beatles'), songCount: 2, year: 1969, genre: 'Rock', folder: 'music/Beatles/Abbey Road/', image: 'music/Beatles/Abbey Road/cover.jpg' });
    expect(abbey.durationSec).toBeCloseTo(441.6);
    expect(index.albumSongs(abbey.id).map((s) => s.title)).toEqual(['Come Together', 'Something']);
    const untagged = index.songsByKeys(['music/Untagged/Some Folder/track.ogg', 'music/notes.txt']);
    expect(untagged[0]).toMatchObject({ title: 'track', artist: 'Unknown Artist', albumArtist: 'Unknown Artist', album: 'Some Folder', suffix: 'ogg' });
    expect(untagged[1]).toBeUndefined();
    // A compilation: its songs' own artists are no album artists, so their artist id is the album artist's.
    const hits = index.albumSongs(albumId('Various Artists', 'Hits'));
    expect(hits.map((s) => [s.artist, s.artistId])).toEqual([['Alpha', artistId('Various Artists')], ['Beta', artistId('Various Artists')]]);
    expect(index.album(albumId('Various Artists', 'Hits'))).toMatchObject({ year: 2003, cover: 'f'.repeat(64) + '.jpg' });
    expect(hits.every((s) => s.albumHasCover)).toBe(true);
    expect(index.song(subsonicId('song', 'music/Beyonce/Lemonade/01.flac'))).toMatchObject({ created: 5000, hasLyrics: true, suffix: 'flac' });
    expect(index.lyrics(subsonicId('song', 'music/Beyonce/Lemonade/01.flac'))).toBe('Y’all haters corny');
    expect(index.findLyrics('beyonce', 'FORMATION')?.song.title).toBe('Formation');
    expect(index.findLyrics('someone else', 'Formation')).toBeUndefined();
    expect(index.folderImage('music/Beatles/Abbey Road/')).toBe('music/Beatles/Abbey Road/cover.jpg');
    expect(index.folderImage('music/Beyonce/Lemonade/')).toBeUndefined();
  });

  it('sorts and indexes artists without a leading article', () => {
    library();
    index.refresh();
    expect(index.artists().map((a) => [a.name, a.sortName])).toEqual([
      ['The Beatles', 'beatles'],
      ['Beyoncé', 'beyonce'],
      ['Unknown Artist', 'unknown artist'],
      ['Various Artists', 'various artists'],
    ]);
    expect(sortName('Los Lobos')).toBe('lobos');
    expect(sortName('The')).toBe('the');
    expect(sortName('Theatre')).toBe('theatre');
    expect(fold('Beyoncé Ｘ')).toBe('beyonce x');
  });

  it('notes changed keys once built, and a refresh applies them to songs, albums, artists and genres', () => {
    library();
    index.refresh();
    expect(index.refresh()).toEqual({ changed: 0 });
    // Retag: the Beatles song moves album; a song is removed; a new artist arrives; the cover goes.
    put('music/Beatles/Abbey Road/02.mp3', { title: 'Something', artist: 'The Beatles', album: 'Abbey Road (Remaster)', year: 2019, genre: 'Rock' });
    mirror.remove('music/Beyonce/Lemonade/01.flac');
    mirror.remove('music/Beatles/Abbey Road/cover.jpg');
    put('music/New/One/01.mp3', { title: 'Fresh', artist: 'Newcomer', album: 'One', genre: 'Jazz' });
    mirror.flush();
    expect(db.prepare('SELECT count(*) FROM sub_dirty').pluck().get()).toBe(4);
    expect(index.refresh()).toEqual({ changed: 3 });
    expect(db.prepare('SELECT count(*) FROM sub_dirty').pluck().get()).toBe(0);
    expect(index.stats()).toMatchObject({ songs: 6, albums: 5, artists: 4 });
    expect(index.album(albumId('The Beatles', 'Abbey Road'))).toMatchObject({ songCount: 1 });
    expect(index.album(albumId('The Beatles', 'Abbey Road'))?.image).toBeUndefined();
    expect(index.album(albumId('The Beatles', 'Abbey Road (Remaster)'))).toMatchObject({ songCount: 1, year: 2019 });
    expect(index.artist(artistId('Beyoncé'))).toBeUndefined();
    expect(index.album(albumId('Beyoncé', 'Lemonade'))).toBeUndefined();
    expect(index.artist(artistId('The Beatles'))).toMatchObject({ albumCount: 2 });
    expect(index.genres()).toEqual([
      { name: 'Jazz', songCount: 1, albumCount: 1 },
      { name: 'Pop', songCount: 2, albumCount: 1 },
      { name: 'Rock', songCount: 2, albumCount: 2 },
    ]);
    expect(index.search({ ...all, query: 'fresh' }).songs.map((s) => s.title)).toEqual(['Fresh']);
    expect(index.search({ ...all, query: 'formation' }).songs).toEqual([]);
  });

  it('ignores updates that change nothing it reads, and keeps a song first written when a player edits it', () => {
    put('music/a/b/1.mp3', { title: 'One', artist: 'A', album: 'B' }, { writtenAt: 1000 });
    index.refresh();
    db.prepare("UPDATE remote_objects SET log_key = 'x', mtime_ms = 5 WHERE key = 'music/a/b/1.mp3'").run();
    expect(db.prepare('SELECT count(*) FROM sub_dirty').pluck().get()).toBe(0);
    put('music/a/b/1.mp3', { title: 'One', artist: 'A', album: 'B' }, { writtenAt: 9000, player: { source: 'subsonic', playCount: 3, lastPlayed: 8000, rating: 80, starred: 7000 } });
    expect(index.refresh()).toEqual({ changed: 1 });
    const s = index.songsByKeys(['music/a/b/1.mp3'])[0]!;
    expect(s).toMatchObject({ created: 1000, playCount: 3, lastPlayed: 8000, rating: 80, starred: 7000 });
    expect(index.album(s.albumId)).toMatchObject({ playCount: 3, lastPlayed: 8000, rating: 80 });
    expect(index.starred().songs.map((x) => x.id)).toEqual([s.id]);
  });

  it('searches words by their start, whatever the case and accents, and pages; no word is everything', () => {
    library();
    index.refresh();
    expect(index.search({ ...all, query: 'BEYON' }).artists.map((a) => a.name)).toEqual(['Beyoncé']);
    const b = index.search({ ...all, query: 'beyon' });
    expect(b.songs.map((s) => s.title)).toEqual(['Formation']);
    expect(b.albums.map((a) => a.name)).toEqual(['Lemonade']);
    expect(index.search({ ...all, query: 'Beyoncé formation' }).songs).toHaveLength(1);
    expect(index.search({ ...all, query: 'abbey ro' }).albums.map((a) => a.name)).toEqual(['Abbey Road']);
    expect(index.search({ ...all, query: 'beatles' }).artists.map((a) => a.name)).toEqual(['The Beatles']);
    expect(index.search({ ...all, query: 'eatles' }).artists).toEqual([]);
    expect(index.search({ ...all, query: '"' }).songs).toHaveLength(6);
    const everything = index.search({ ...all, query: '' });
    expect([everything.artists.length, everything.albums.length, everything.songs.length]).toEqual([4, 4, 6]);
    const pages = [0, 3, 6].map((songOffset) => index.search({ ...all, query: '', songCount: 3, songOffset }).songs.map((s) => s.key));
    expect(pages.flat()).toEqual(everything.songs.map((s) => s.key));
    expect(pages.map((p) => p.length)).toEqual([3, 3, 0]);
  });

  it('answers every album list type', () => {
    library();
    index.refresh();
    put('music/Beatles/Abbey Road/01.mp3', { title: 'Come Together', artist: 'The Beatles', album: 'Abbey Road', year: 1969, genre: 'Rock' }, { player: { source: 's', playCount: 5, lastPlayed: 100, rating: 100 } });
    put('music/Various/Hits/01.mp3', { title: 'Song A', artist: 'Alpha', albumArtist: 'Various Artists', album: 'Hits', year: 2001, genre: 'Pop' }, { player: { source: 's', playCount: 9, lastPlayed: 50, rating: 40 } });
    index.refresh();
    const names = (type: AlbumListType, more: object = {}) => index.albumList({ type, size: 10, offset: 0, ...more }).map((a) => a.name);
    expect(names('alphabeticalByName')).toEqual(['Abbey Road', 'Hits', 'Lemonade', 'Some Folder']);
    expect(names('alphabeticalByArtist')).toEqual(['Abbey Road', 'Lemonade', 'Some Folder', 'Hits']);
    expect(names('frequent')).toEqual(['Hits', 'Abbey Road']);
    expect(names('recent')).toEqual(['Abbey Road', 'Hits']);
    expect(names('highest')).toEqual(['Abbey Road', 'Hits']);
    expect(names('byYear', { fromYear: 1960, toYear: 2010 })).toEqual(['Abbey Road', 'Hits']);
    expect(names('byYear', { fromYear: 2020, toYear: 1960 })).toEqual(['Lemonade', 'Hits', 'Abbey Road']);
    expect(names('byGenre', { genre: 'r&b' })).toEqual(['Lemonade']);
    expect(names('newest')).toHaveLength(4);
    expect(names('newest')[3]).toBe('Lemonade');
    expect(new Set(names('random'))).toEqual(new Set(['Abbey Road', 'Hits', 'Lemonade', 'Some Folder']));
    expect(names('starred')).toEqual([]);
    expect(index.albumList({ type: 'alphabeticalByName', size: 2, offset: 1 }).map((a) => a.name)).toEqual(['Hits', 'Lemonade']);
    expect(index.randomSongs({ size: 3, genre: 'ROCK' }).map((s) => s.title).sort()).toEqual(['Come Together', 'Something']);
    expect(index.randomSongs({ size: 10, fromYear: 2000, toYear: 2002 }).map((s) => s.title)).toEqual(['Song A']);
    expect(index.randomSongs({ size: 0 })).toEqual([]);
    expect(index.songsByGenre('pop', 10, 1)).toHaveLength(1);
  });

  it('stars albums and artists, newest first, and refuses ids it does not know', () => {
    library();
    index.refresh();
    const abbey = albumId('The Beatles', 'Abbey Road');
    const hits = albumId('Various Artists', 'Hits');
    expect(index.setStar(abbey, 10)).toBe(true);
    expect(index.setStar(hits, 20)).toBe(true);
    expect(index.setStar(artistId('The Beatles'), 30)).toBe(true);
    expect(index.setStar(subsonicId('album', 'x', 'y'), 40)).toBe(false);
    expect(index.setStar(subsonicId('song', 'music/Beatles/Abbey Road/01.mp3'), 40)).toBe(false);
    const s = index.starred();
    expect(s.albums.map((a) => [a.name, a.starred])).toEqual([['Hits', 20], ['Abbey Road', 10]]);
    expect(s.artists.map((a) => [a.name, a.starred])).toEqual([['The Beatles', 30]]);
    expect(index.albumList({ type: 'starred', size: 10, offset: 0 }).map((a) => a.name)).toEqual(['Hits', 'Abbey Road']);
    expect(index.setStar(hits, undefined)).toBe(true);
    expect(index.starred().albums.map((a) => a.name)).toEqual(['Abbey Road']);
    expect(index.album(abbey)?.starred).toBe(10);
  });

  it('keeps remotes apart', () => {
    library();
    const other = new RemoteMirror(db, 's3://b/other');
    other.put({ key: 'music/x/y/z.mp3', size: 1, tags: { title: 'Other', artist: 'O', album: 'Y' } });
    other.flush();
    index.refresh();
    const otherIndex = new SubsonicIndex(db, 's3://b/other');
    otherIndex.refresh();
    expect(otherIndex.stats()).toMatchObject({ songs: 1, albums: 1, artists: 1 });
    expect(index.search({ ...all, query: 'other' }).songs).toEqual([]);
    expect(otherIndex.search({ ...all, query: '' }).songs.map((s) => s.title)).toEqual(['Other']);
  });

  it('answers the hot queries from indexes, not by scanning the songs', () => {
    library();
    index.refresh();
    const plan = (sql: string, ...args: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((r) => r.detail).join('\n');
    const scans = (p: string) => p.split('\n').filter((l) => /^SCAN (s|sub_songs|a|sub_albums|r|sub_artists)\b/.test(l) && !/USING (COVERING )?INDEX/.test(l));
    const queries: Array<[string, unknown[]]> = [
      ['SELECT r.*, st.starred_at FROM sub_artists r LEFT JOIN sub_stars st ON st.remote = r.remote AND st.id = r.id WHERE r.remote = ? ORDER BY r.sort_name, r.n', [REMOTE]],
      ['SELECT * FROM sub_albums a WHERE a.n IN (SELECT a.n FROM sub_albums a WHERE a.remote = ? ORDER BY a.created DESC, a.n DESC LIMIT 10 OFFSET 0) ORDER BY a.created DESC, a.n DESC', [REMOTE]],
      ['SELECT * FROM sub_albums a WHERE a.n IN (SELECT a.n FROM sub_albums a WHERE a.remote = ? ORDER BY a.artist_sort, a.sort_name, a.n LIMIT 10 OFFSET 0) ORDER BY a.artist_sort, a.sort_name, a.n', [REMOTE]],
      ['SELECT * FROM sub_albums a WHERE a.n IN (SELECT a.n FROM sub_albums a WHERE a.remote = ? AND a.genre_fold = ? ORDER BY a.sort_name, a.n LIMIT 10 OFFSET 0) ORDER BY a.sort_name, a.n', [REMOTE, 'rock']],
      ['SELECT * FROM sub_songs s WHERE s.n IN (SELECT n FROM sub_songs WHERE remote = ? ORDER BY key LIMIT 10 OFFSET 5) ORDER BY s.key', [REMOTE]],
      ['SELECT s.* FROM sub_song_words w CROSS JOIN sub_songs s ON s.n = w.rowid WHERE sub_song_words MATCH ? AND s.remote = ? ORDER BY w.rowid LIMIT 20', ['"ab"*', REMOTE]],
      ['SELECT * FROM sub_songs s WHERE s.remote = ? AND s.album_id = ? ORDER BY coalesce(s.disc, 1), s.track, s.key', [REMOTE, 'x']],
      ['SELECT * FROM sub_songs s WHERE s.remote = ? AND s.id = ?', [REMOTE, 'x']],
    ];
    for (const [sql, args] of queries) expect(scans(plan(sql, ...args)), sql).toEqual([]);
  });
});

describe('lyrics in the index', () => {
  it('notes which songs have lyrics without reading them, when built and when updated; getLyrics reads them whole', () => {
    const long = `${'la '.repeat(20_000)}end`;
    put('music/L/A/01.mp3', { title: 'Long', artist: 'L', album: 'A', lyrics: long });
    put('music/L/A/02.mp3', { title: 'Blank', artist: 'L', album: 'A', lyrics: ' \n\t\u00a0' });
    // Forged: not text.
    put('music/L/A/03.mp3', { title: 'Number', artist: 'L', album: 'A', lyrics: 42 as unknown as string });
    put('music/L/A/04.mp3', { title: 'None', artist: 'L', album: 'A' });
    index.refresh();
    const flags = () => Object.fromEntries(index.search({ query: '', ...all }).songs.map((s) => [s.title, s.hasLyrics]));
    expect(flags()).toEqual({ Long: true, Blank: false, Number: false, None: false });
    expect(index.lyrics(subsonicId('song', 'music/L/A/01.mp3'))).toBe(long);
    put('music/L/A/04.mp3', { title: 'None', artist: 'L', album: 'A', lyrics: 'now some' });
    put('music/L/A/01.mp3', { title: 'Long', artist: 'L', album: 'A' });
    index.refresh();
    expect(flags()).toEqual({ Long: false, Blank: false, Number: false, None: true });
    expect(index.lyrics(subsonicId('song', 'music/L/A/04.mp3'))).toBe('now some');
  });
});
