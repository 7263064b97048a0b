import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { subsonicId } from '../core/subsonic-ids.js';
import type { Remote } from '../remote/remote.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { openStateDb, type Db } from '../state/state-db.js';
import { SubsonicIndex } from '../state/subsonic-index.js';
import type { RemoteCatalog } from '../sync/catalog.js';
import { SubsonicCode, SubsonicError } from './api-error.js';
import { browseRoutes } from './browse-routes.js';
import { contentType } from './child.js';
import type { ServeContext, SubsonicBody } from './route-types.js';

const REMOTE = 's3://bucket/dj';
let dir: string;
let db: Db;
let serve: ServeContext;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'browse-'));
  db = openStateDb(join(dir, 'state.db'));
  const mirror = new RemoteMirror(db, REMOTE);
  const put = (key: string, tags?: object, more: object = {}) => mirror.put({ key, size: 1234, md5: 'b'.repeat(32), ...(tags ? { tags } : {}), ...more });
  put('music/Beatles/Abbey Road/01 Come Together.mp3', { title: 'Come Together', artist: 'The Beatles', album: 'Abbey Road', year: 1969, track: 1, disc: 1, genre: 'Rock', durationSec: 259.6, bitrate: 320 }, { writtenAt: 1000, player: { source: 's', rating: 80, playCount: 2, lastPlayed: 2000, starred: 3000 } });
  put('music/Beatles/Abbey Road/02 Something.mp3', { title: 'Something', artist: 'The Beatles', album: 'Abbey Road', year: 1969, track: 2, genre: 'Rock', lyrics: 'Something in the way\nshe moves' });
  put('music/Beatles/Abbey Road/cover.jpg');
  put('music/Air/Moon Safari/01.flac', { title: 'La Femme d’Argent', artist: 'Air', album: 'Moon Safari', year: 1998, genre: 'Électronique', lyrics: '[ar:Air]\n[00:01.50]la la\n[01:02.25]fin' });
  mirror.flush();
  const index = new SubsonicIndex(db, REMOTE);
  index.refresh();
  serve = {
    db,
    remote: { url: REMOTE, kind: 's3' } as unknown as Remote,
    catalog: {} as RemoteCatalog,
    index,
    crewUser: 'ann',
    coversDir: join(dir, 'covers'),
    log: pino({ level: 'silent' }),
    refresh: async () => void index.refresh(),
  };
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, query: Record<string, string> = {}): Promise<SubsonicBody> {
  const handler = browseRoutes[method];
  if (!handler) throw new Error(`no route ${method}`);
  const sp = new URLSearchParams(query);
  const out = await handler({
    method,
    params: { get: (n) => sp.get(n) ?? undefined, all: (n) => sp.getAll(n) },
    user: { name: 'alice' },
    serve,
    raw: new Request(`http://127.0.0.1/rest/${method}?${sp}`),
  });
  if (out instanceof Response) throw new Error('unexpected Response');
  return out;
}

async function failure(method: string, query: Record<string, string> = {}): Promise<number> {
  try {
    await call(method, query);
  } catch (err) {
    if (err instanceof SubsonicError) return err.code;
    throw err;
  }
  throw new Error(`${method} did not fail`);
}

const ABBEY = subsonicId('album', 'the beatles', 'abbey road');
const BEATLES = subsonicId('artist', 'the beatles');
const COME = subsonicId('song', 'music/Beatles/Abbey Road/01 Come Together.mp3');
const FEMME = subsonicId('song', 'music/Air/Moon Safari/01.flac');

describe('browseRoutes', () => {
  it('lists one music folder, the indexes and the artists by letter, without articles', async () => {
    expect(await call('getMusicFolders')).toEqual({ musicFolders: { musicFolder: [{ id: 1, name: REMOTE }] } });
    const { indexes } = (await call('getIndexes')) as { indexes: { ignoredArticles: string; lastModified: number; index: Array<{ name: string; artist: Array<{ name: string }> }> } };
    expect(indexes.ignoredArticles.split(' ')).toContain('The');
    expect(indexes.index.map((i) => [i.name, i.artist.map((a) => a.name)])).toEqual([['A', ['Air']], ['B', ['The Beatles']]]);
    expect(await call('getIndexes', { ifModifiedSince: String(indexes.lastModified) })).toEqual({ indexes: { ignoredArticles: indexes.ignoredArticles, lastModified: indexes.lastModified } });
    const { artists } = (await call('getArtists')) as { artists: { index: Array<{ name: string; artist: SubsonicBody[] }> } };
    expect(artists.index[1]).toEqual({ name: 'B', artist: [{ id: BEATLES, name: 'The Beatles', coverArt: ABBEY, albumCount: 1, sortName: 'beatles' }] });
  });

  it('answers an artist with its albums, an album with its songs, and a song as a Child', async () => {
    const { artist } = (await call('getArtist', { id: BEATLES })) as { artist: { album: SubsonicBody[] } };
    expect(artist).toMatchObject({ id: BEATLES, name: 'The Beatles', albumCount: 1 });
    expect(artist.album).toEqual([
      expect.objectContaining({ id: ABBEY, name: 'Abbey Road', artist: 'The Beatles', artistId: BEATLES, coverArt: ABBEY, songCount: 2, duration: 260, year: 1969, genre: 'Rock', playCount: 2 }),
    ]);
    const { album } = (await call('getAlbum', { id: ABBEY })) as { album: { song: SubsonicBody[] } };
    expect(album.song.map((s) => s.title)).toEqual(['Come Together', 'Something']);
    expect((await call('getSong', { id: COME })).song).toEqual({
      id: COME,
      parent: ABBEY,
      isDir: false,
      title: 'Come Together',
      album: 'Abbey Road',
      artist: 'The Beatles',
      track: 1,
      year: 1969,
      genre: 'Rock',
      coverArt: ABBEY,
      size: 1234,
      contentType: 'audio/mpeg',
      suffix: 'mp3',
      duration: 260,
      bitRate: 320,
      path: 'Beatles/Abbey Road/01 Come Together.mp3',
      discNumber: 1,
      created: new Date(1000).toISOString(),
      albumId: ABBEY,
      artistId: BEATLES,
      type: 'music',
      isVideo: false,
      playCount: 2,
      played: new Date(2000).toISOString(),
      userRating: 4,
      starred: new Date(3000).toISOString(),
      mediaType: 'song',
      sortName: 'Come Together',
      displayArtist: 'The Beatles',
      displayAlbumArtist: 'The Beatles',
      genres: [{ name: 'Rock' }],
      artists: [{ id: BEATLES, name: 'The Beatles' }],
      albumArtists: [{ id: BEATLES, name: 'The Beatles' }],
    });
  });

  it('answers a music directory of an artist (albums) and of an album (songs)', async () => {
    const a = (await call('getMusicDirectory', { id: BEATLES })) as { directory: { child: SubsonicBody[] } };
    expect(a.directory).toMatchObject({ id: BEATLES, name: 'The Beatles' });
    expect(a.directory.child).toEqual([expect.objectContaining({ id: ABBEY, isDir: true, title: 'Abbey Road', parent: BEATLES })]);
    const b = (await call('getMusicDirectory', { id: ABBEY })) as { directory: { child: SubsonicBody[] } };
    expect(b.directory).toMatchObject({ id: ABBEY, parent: BEATLES, name: 'Abbey Road' });
    expect(b.directory.child.map((c) => c.isDir)).toEqual([false, false]);
  });

  it('answers album lists, genres, songs by genre, search, random songs and stars', async () => {
    const list = (await call('getAlbumList2', { type: 'alphabeticalByName', size: '1', offset: '1' })) as { albumList2: { album: SubsonicBody[] } };
    expect(list.albumList2.album.map((a) => a.name)).toEqual(['Moon Safari']);
    const years = (await call('getAlbumList', { type: 'byYear', fromYear: '2000', toYear: '1900' })) as { albumList: { album: SubsonicBody[] } };
    expect(years.albumList.album.map((a) => [a.title, a.isDir])).toEqual([['Moon Safari', true], ['Abbey Road', true]]);
    const genre = (await call('getAlbumList2', { type: 'byGenre', genre: 'electronique' })) as { albumList2: { album: SubsonicBody[] } };
    expect(genre.albumList2.album.map((a) => a.name)).toEqual(['Moon Safari']);
    expect(await call('getGenres')).toEqual({ genres: { genre: [{ value: 'Électronique', songCount: 1, albumCount: 1 }, { value: 'Rock', songCount: 2, albumCount: 1 }] } });
    const byGenre = (await call('getSongsByGenre', { genre: 'rock', count: '1', offset: '1' })) as { songsByGenre: { song: SubsonicBody[] } };
    expect(byGenre.songsByGenre.song).toHaveLength(1);
    const s3 = (await call('search3', { query: 'femme' })) as { searchResult3: { artist: SubsonicBody[]; album: SubsonicBody[]; song: SubsonicBody[] } };
    expect(s3.searchResult3.song.map((s) => s.id)).toEqual([FEMME]);
    const everything = (await call('search3', { query: '""', songCount: '2', songOffset: '1' })) as { searchResult3: { artist: SubsonicBody[]; album: SubsonicBody[]; song: SubsonicBody[] } };
    expect([everything.searchResult3.artist.length, everything.searchResult3.album.length, everything.searchResult3.song.length]).toEqual([2, 2, 2]);
    const s2 = (await call('search2', { query: 'beatles' })) as { searchResult2: { artist: SubsonicBody[]; album: SubsonicBody[] } };
    expect(s2.searchResult2.artist).toEqual([{ id: BEATLES, name: 'The Beatles' }]);
    expect(s2.searchResult2.album.map((a) => a.isDir)).toEqual([true]);
    const random = (await call('getRandomSongs', { size: '10', genre: 'Rock' })) as { randomSongs: { song: SubsonicBody[] } };
    expect(random.randomSongs.song).toHaveLength(2);
    serve.index.setStar(ABBEY, 5000);
    const starred2 = (await call('getStarred2')) as { starred2: { album: SubsonicBody[]; song: SubsonicBody[]; artist: SubsonicBody[] } };
    expect(starred2.starred2.album.map((a) => [a.id, a.starred])).toEqual([[ABBEY, new Date(5000).toISOString()]]);
    expect(starred2.starred2.song.map((a) => a.id)).toEqual([COME]);
    const starred = (await call('getStarred')) as { starred: { album: SubsonicBody[] } };
    expect(starred.starred.album[0]).toMatchObject({ id: ABBEY, isDir: true });
    expect(await call('getScanStatus')).toEqual({ scanStatus: { scanning: false, count: 3 } });
    expect(await call('getTopSongs', { artist: 'The Beatles' })).toEqual({ topSongs: { song: [] } });
    expect(await call('getArtistInfo2', { id: BEATLES })).toEqual({ artistInfo2: {} });
    expect(await call('getAlbumInfo2', { id: COME })).toEqual({ albumInfo: {} });
  });

  it('answers lyrics by artist and title, and by song id as structured lyrics', async () => {
    expect(await call('getLyrics', { artist: 'the beatles', title: 'something' })).toEqual({
      lyrics: { artist: 'The Beatles', title: 'Something', value: 'Something in the way\nshe moves' },
    });
    expect(await call('getLyrics', { artist: 'Air', title: 'Something' })).toEqual({ lyrics: { value: '' } });
    expect(await call('getLyricsBySongId', { id: COME })).toEqual({ lyricsList: { structuredLyrics: [] } });
    const something = subsonicId('song', 'music/Beatles/Abbey Road/02 Something.mp3');
    expect(await call('getLyricsBySongId', { id: something })).toEqual({
      lyricsList: {
        structuredLyrics: [
          { displayArtist: 'The Beatles', displayTitle: 'Something', lang: 'xxx', synced: false, line: [{ value: 'Something in the way' }, { value: 'she moves' }] },
        ],
      },
    });
    const synced = (await call('getLyricsBySongId', { id: FEMME })) as { lyricsList: { structuredLyrics: SubsonicBody[] } };
    expect(synced.lyricsList.structuredLyrics[0]).toMatchObject({ synced: true, line: [{ start: 1500, value: 'la la' }, { start: 62250, value: 'fin' }] });
  });

  it('answers ids of the wrong kind, forged ids and paths with not found (70)', async () => {
    for (const id of ['../etc/passwd', 'tr-zzz', 'music/Beatles/Abbey Road/01 Come Together.mp3', ABBEY, subsonicId('song', 'music/none.mp3')]) {
      expect(await failure('getSong', { id }), id).toBe(SubsonicCode.notFound);
    }
    expect(await failure('getAlbum', { id: COME })).toBe(SubsonicCode.notFound);
    expect(await failure('getAlbum', { id: '/etc/passwd' })).toBe(SubsonicCode.notFound);
    expect(await failure('getArtist', { id: ABBEY })).toBe(SubsonicCode.notFound);
    expect(await failure('getMusicDirectory', { id: COME })).toBe(SubsonicCode.notFound);
    expect(await failure('getMusicDirectory', { id: '1' })).toBe(SubsonicCode.notFound);
    expect(await failure('getLyricsBySongId', { id: '..%2f..%2fetc' })).toBe(SubsonicCode.notFound);
    expect(await failure('getArtistInfo2', { id: subsonicId('artist', 'nobody') })).toBe(SubsonicCode.notFound);
  });

  it('answers missing parameters with code 10 and malformed numbers with code 0', async () => {
    for (const m of ['getSong', 'getAlbum', 'getArtist', 'getMusicDirectory', 'getLyricsBySongId', 'getArtistInfo2', 'getAlbumInfo2']) {
      expect(await failure(m), m).toBe(SubsonicCode.missingParameter);
    }
    expect(await failure('getAlbumList2')).toBe(SubsonicCode.missingParameter);
    expect(await failure('getAlbumList', { type: 'byYear', fromYear: '1990' })).toBe(SubsonicCode.missingParameter);
    expect(await failure('getAlbumList2', { type: 'byGenre' })).toBe(SubsonicCode.missingParameter);
    expect(await failure('getSongsByGenre')).toBe(SubsonicCode.missingParameter);
    expect(await failure('getTopSongs')).toBe(SubsonicCode.missingParameter);
    expect(await failure('getAlbumList2', { type: 'sideways' })).toBe(SubsonicCode.generic);
    expect(await failure('getAlbumList2', { type: 'newest', size: 'ten' })).toBe(SubsonicCode.generic);
    const big = (await call('getAlbumList2', { type: 'newest', size: '100000', offset: '-5' })) as { albumList2: { album: unknown[] } };
    expect(big.albumList2.album).toHaveLength(2);
  });

  it('knows the content type of each audio suffix', () => {
    expect(['mp3', 'FLAC', 'm4a', 'ogg', 'opus', 'wav', 'aiff', 'wma', 'xyz'].map(contentType)).toEqual([
      'audio/mpeg',
      'audio/flac',
      'audio/mp4',
      'audio/ogg',
      'audio/ogg',
      'audio/wav',
      'audio/aiff',
      'audio/x-ms-wma',
      'application/octet-stream',
    ]);
  });
});
