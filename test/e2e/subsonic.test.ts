/**
 * The Subsonic server end to end, driven by a real, independent client (the
 * `subsonic-api` npm package): machine A pushes a tagged library (covers
 * embedded) to s3rver with the real CLI; machine S, which has only the
 * bucket (no library), runs `cratesync serve` as a process. Every answer of
 * the browsing methods is checked against the OpenSubsonic JSON schemas, and
 * the XML ones against the Subsonic 1.16.1 XSD.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import SubsonicAPI from 'subsonic-api';
import sharp from 'sharp';
import { makeMp3 } from '../fixtures/mp3.js';
import { makeFlac } from '../fixtures/flac.js';
import { pngCover } from '../fixtures/tags.js';
import { cli, cliJson, type CliEnv } from '../support/cli.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { validateJson, validateXml } from '../support/subsonic-validate.js';
import { S3Remote } from '../../src/remote/s3/s3-remote.js';
import { openStateDb } from '../../src/state/state-db.js';
import { RemoteMirror } from '../../src/state/remote-mirror.js';
import { RemoteCatalog } from '../../src/sync/catalog.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };
const PASSWORD = 'sesame & co';
const COVER = pngCover('disintegration', 64);
const BJORK_COVER = pngCover('homogenic', 48);

/** The library A pushes: path → bytes. */
const FILES: Record<string, Buffer> = {
  'The Cure/Disintegration (1989)/01 Plainsong.mp3': makeMp3({ title: 'Plainsong', artist: 'The Cure', album: 'Disintegration', albumArtist: 'The Cure', year: 1989, track: 1, genre: 'Rock', cover: COVER, targetBytes: 300_000, seed: 'p' }),
  'The Cure/Disintegration (1989)/02 Pictures of You.mp3': makeMp3({ title: 'Pictures of You', artist: 'The Cure', album: 'Disintegration', albumArtist: 'The Cure', year: 1989, track: 2, genre: 'Rock', cover: COVER, targetBytes: 200_000, seed: 'q' }),
  'Björk/Homogenic (1997)/01 Hunter.flac': makeFlac({ title: 'Hunter', artist: 'Björk', album: 'Homogenic', albumArtist: 'Björk', year: 1997, track: 1, genre: 'Electronic', cover: BJORK_COVER, seed: 'h' }),
  'Björk/Homogenic (1997)/02 Jóga.mp3': makeMp3({ title: 'Jóga', artist: 'Björk', album: 'Homogenic', albumArtist: 'Björk', year: 1997, track: 2, genre: 'Electronic', cover: BJORK_COVER, seed: 'j' }),
};

const dirs: string[] = [];
const tmp = async (name: string) => {
  const d = await mkdtemp(join(tmpdir(), `cs-sub-${name}-`));
  dirs.push(d);
  return d;
};

let server: S3rver;
let serve: ServeProcess;
let env: Record<string, string | undefined>;
let machineS: CliEnv;
let api: SubsonicAPI;
const url = 's3://sub/dj';

/** A raw request to the server, answered as JSON's subsonic-response (or the raw Response with `raw`). */
async function rest(method: string, params: Record<string, string | string[]>, auth: Record<string, string> | 'token' = 'token'): Promise<any> {
  const q = new URLSearchParams();
  const a = auth === 'token' ? token('dj', PASSWORD) : auth;
  for (const [k, v] of Object.entries({ v: '1.16.1', c: 'e2e', f: 'json', ...a, ...params })) for (const x of [v].flat()) q.append(k, x);
  const res = await fetch(`${serve.url}/rest/${method}?${q.toString()}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as any)['subsonic-response'];
}

/** Errors of a payload of `method` against its OpenSubsonic schema. */
const valid = (method: string, r: unknown): string[] => validateJson(method, { 'subsonic-response': r });

function token(u: string, password: string): Record<string, string> {
  const s = createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 12);
  return { u, s, t: createHash('md5').update(password + s).digest('hex') };
}

beforeAll(async () => {
  server = await startS3rver();
  await server.createBucket('sub');
  env = { ...CREDS, AWS_ENDPOINT_URL: server.endpoint };
  // This process reads the bucket too (as a second machine would).
  for (const [k, v] of Object.entries(CREDS)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  const lib = await tmp('lib');
  for (const [p, data] of Object.entries(FILES)) {
    await mkdir(dirname(join(lib, p)), { recursive: true });
    await writeFile(join(lib, p), data);
  }
  const a: CliEnv = { home: await tmp('homeA'), env };
  const push = await cliJson(a, 'push', lib, url, '--user', 'alice');
  expect(push.code, push.stderr).toBe(0);

  // Machine S: only the bucket.
  machineS = { home: await tmp('homeS'), env };
  const add = await cli({ ...machineS, input: `${PASSWORD}\n` }, 'serve', 'user', 'add', 'dj', '--password-stdin', '--remote', url);
  expect(add.code, add.stderr).toBe(0);
  // The crew user `dj`: playlists made through the server are written under playlists/dj/.
  serve = await startServe(machineS.home, { serve: [url, '--user', 'dj'] }, machineS.env);
  api = new SubsonicAPI({ url: serve.url, auth: { username: 'dj', password: PASSWORD } });
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await server?.stop();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('cratesync serve, through a Subsonic client', () => {
  it('answers ping with each form of auth, and refuses wrong credentials with error 40', async () => {
    expect((await api.ping()).status).toBe('ok');
    expect((await rest('ping', {}, { u: 'dj', p: PASSWORD })).status).toBe('ok');
    expect((await rest('ping', {}, { u: 'dj', p: `enc:${Buffer.from(PASSWORD).toString('hex')}` })).status).toBe('ok');
    const key = await cli(machineS, 'serve', 'user', 'key', 'dj', '--remote', url);
    expect(key.code, key.stderr).toBe(0);
    const apiKey = key.stdout.trim().split(/\s+/).pop()!;
    const viaKey = new SubsonicAPI({ url: serve.url, auth: { apiKey } });
    expect((await viaKey.ping()).status).toBe('ok');
    // ping is public; a method that needs a user shows the refusals.
    expect((await rest('getUser', { username: 'dj' }, { u: 'dj', p: 'wrong' })).error.code).toBe(40);
    expect((await rest('getUser', { username: 'dj' }, token('dj', 'wrong'))).error.code).toBe(40);
    expect((await rest('getUser', { username: 'nobody' }, token('nobody', PASSWORD))).error.code).toBe(40);
    expect((await rest('getUser', { username: 'dj' }, { apiKey: 'not-a-key' })).error.code).toBe(44);
    expect((await rest('getUser', { username: 'dj' }, { apiKey, u: 'dj' })).error.code).toBe(43);
    expect((await rest('getUser', { username: 'dj' }, {})).error.code).toBe(10);
    const ext = await api.getOpenSubsonicExtensions();
    expect(ext.openSubsonicExtensions.map((e) => e.name)).not.toContain('transcodeOffset');
  });

  it('browses artists → album → songs from the catalog alone, in shapes the schemas accept', async () => {
    const artists = await rest('getArtists', {});
    expect(valid('getArtists', artists)).toEqual([]);
    const byLetter = Object.fromEntries(artists.artists.index.map((i: any) => [i.name, i.artist.map((a: any) => a.name)]));
    expect(byLetter.C).toEqual(['The Cure']); // "The" is an ignored article
    expect(byLetter.B).toEqual(['Björk']);
    const cure = artists.artists.index.find((i: any) => i.name === 'C').artist[0];
    const artist = await rest('getArtist', { id: cure.id });
    expect(valid('getArtist', artist)).toEqual([]);
    expect(artist.artist.album.map((a: any) => a.name)).toEqual(['Disintegration']);
    const album = await rest('getAlbum', { id: artist.artist.album[0].id });
    expect(valid('getAlbum', album)).toEqual([]);
    expect(album.album.song.map((s: any) => [s.track, s.title, s.suffix, s.contentType])).toEqual([
      [1, 'Plainsong', 'mp3', 'audio/mpeg'],
      [2, 'Pictures of You', 'mp3', 'audio/mpeg'],
    ]);
    expect(album.album.song[0].size).toBe(FILES['The Cure/Disintegration (1989)/01 Plainsong.mp3']!.length);
    // The same through the client, and in XML against the XSD.
    const viaClient = await api.getAlbum({ id: album.album.id });
    expect(viaClient.album.song?.length).toBe(2);
    const xmlOf = async (method: string, params: Record<string, string> = {}) =>
      (await fetch(`${serve.url}/rest/${method}.view?${new URLSearchParams({ ...token('dj', PASSWORD), v: '1.16.1', c: 'e2e', ...params })}`)).text();
    for (const [method, params] of [
      ['getAlbum', { id: album.album.id }],
      ['getArtists', {}],
      ['getArtist', { id: cure.id }],
      ['getIndexes', {}],
      ['getMusicDirectory', { id: album.album.id }],
      ['getAlbumList2', { type: 'newest' }],
      ['search3', { query: '' }],
      ['getGenres', {}],
      ['getPlaylists', {}],
      ['getUser', { username: 'dj' }],
    ] as const) {
      const xml = await xmlOf(method, params);
      expect(xml, method).toContain('status="ok"');
      expect((await validateXml(xml)).errors, method).toEqual([]);
    }
    for (const type of ['newest', 'random', 'alphabeticalByName', 'frequent', 'recent', 'starred'] as const) {
      const list = await rest('getAlbumList2', { type });
      expect(valid('getAlbumList2', list), type).toEqual([]);
    }
    const genres = await rest('getGenres', {});
    expect(valid('getGenres', genres)).toEqual([]);
    expect(genres.genres.genre.map((g: any) => g.value).sort()).toEqual(['Electronic', 'Rock']);
  });

  it('search3 answers an empty query with everything, paged, and finds words without their accents', async () => {
    const all = await rest('search3', { query: '', songCount: '10', albumCount: '10', artistCount: '10' });
    expect(valid('search3', all)).toEqual([]);
    expect(all.searchResult3.song).toHaveLength(4);
    const page = await rest('search3', { query: '', songCount: '3', songOffset: '3', albumCount: '0', artistCount: '0' });
    expect(page.searchResult3.song).toHaveLength(1);
    const joga = await rest('search3', { query: 'joga' });
    expect(joga.searchResult3.song.map((s: any) => s.title)).toEqual(['Jóga']);
  });

  it('streams a whole file and a byte range from the remote, byte for byte', async () => {
    const found = await rest('search3', { query: 'Plainsong' });
    const id = found.searchResult3.song[0].id;
    const source = FILES['The Cure/Disintegration (1989)/01 Plainsong.mp3']!;
    const whole = await api.stream({ id });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await whole.arrayBuffer()).equals(source)).toBe(true);
    const q = new URLSearchParams({ ...token('dj', PASSWORD), v: '1.16.1', c: 'e2e', id });
    const part = await fetch(`${serve.url}/rest/stream?${q}`, { headers: { range: 'bytes=1000-1999' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${source.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(source.subarray(1000, 2000))).toBe(true);
    const dl = await api.download({ id });
    expect(Buffer.from(await dl.arrayBuffer()).equals(source)).toBe(true);
  });

  it('getCoverArt returns the embedded picture, and resizes it', async () => {
    const found = await rest('search3', { query: 'Disintegration' });
    const album = found.searchResult3.album[0];
    expect(album.coverArt).toBeTruthy();
    const res = await api.getCoverArt({ id: album.coverArt });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(COVER)).toBe(true);
    const small = await api.getCoverArt({ id: album.coverArt, size: 32 });
    const meta = await sharp(Buffer.from(await small.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([32, 32]);
  });

  it('playlists round-trip through the remote as M3U8', async () => {
    const songs = (await rest('search3', { query: '', songCount: '10' })).searchResult3.song;
    const created = await api.createPlaylist({ name: 'Road Trip', songId: [songs[0].id, songs[1].id] });
    expect(created.status).toBe('ok');
    const lists = await rest('getPlaylists', {});
    expect(valid('getPlaylists', lists)).toEqual([]);
    const mine = lists.playlists.playlist.find((p: any) => p.name === 'Road Trip');
    expect(mine.songCount).toBe(2);
    const remote = new S3Remote({ bucket: 'sub', prefix: 'dj/', endpoint: server.endpoint });
    try {
      const m3u = (await remote.read('playlists/dj/Road Trip.m3u8')).toString('utf8');
      expect(m3u).toContain(songs[0].path.split('/').pop());
    } finally {
      await remote.close();
    }
    await api.updatePlaylist({ playlistId: mine.id, songIdToAdd: [songs[2].id], songIndexToRemove: [0] });
    const after = await rest('getPlaylist', { id: mine.id });
    expect(valid('getPlaylist', after)).toEqual([]);
    expect(after.playlist.entry.map((s: any) => s.id)).toEqual([songs[1].id, songs[2].id]);
    expect((await api.deletePlaylist({ id: mine.id })).status).toBe('ok');
    expect(((await rest('getPlaylists', {})).playlists.playlist ?? []).map((p: any) => p.name)).not.toContain('Road Trip');
  });

  it('stars and scrobbles reach the catalog, and a second machine sees them', async () => {
    const song = (await rest('search3', { query: 'Hunter' })).searchResult3.song[0];
    expect((await api.star({ id: song.id })).status).toBe('ok');
    expect((await api.scrobble({ id: song.id, submission: true })).status).toBe('ok');
    expect((await api.setRating({ id: song.id, rating: 4 })).status).toBe('ok');
    const starred = await rest('getStarred2', {});
    expect(starred.starred2.song.map((s: any) => s.id)).toEqual([song.id]);

    const remote = new S3Remote({ bucket: 'sub', prefix: 'dj/', endpoint: server.endpoint });
    const db = openStateDb(':memory:');
    try {
      const catalog = new RemoteCatalog(remote, new RemoteMirror(db, remote.url), db, 'bob@other', 'other');
      await catalog.refresh({ full: false, problems: [] });
      const o = catalog.mirror.get('music/Björk/Homogenic (1997)/01 Hunter.flac');
      expect(o?.player).toMatchObject({ playCount: 1, rating: 80 });
      expect(o?.player?.starred).toBeGreaterThan(0);
    } finally {
      db.close();
      await remote.close();
    }
  });

  it('answers missing parameters with 10 and forged ids (paths) in every id parameter with 70', async () => {
    expect((await rest('getAlbum', {})).error.code).toBe(10);
    expect((await rest('stream', {})).error.code).toBe(10);
    const forged = ['../../../../etc/passwd', '/etc/passwd', 'music/The Cure/Disintegration (1989)/01 Plainsong.mp3', '..%2F..%2Fetc%2Fpasswd', 'C:\\Windows\\win.ini', 'tr-../../x', 'al-0000000000000000000z'];
    const idParams: Array<[string, string, Record<string, string>?]> = [
      ['getSong', 'id'],
      ['getAlbum', 'id'],
      ['getArtist', 'id'],
      ['getMusicDirectory', 'id'],
      ['getPlaylist', 'id'],
      ['deletePlaylist', 'id'],
      ['updatePlaylist', 'playlistId'],
      ['getLyricsBySongId', 'id'],
      ['setRating', 'id', { rating: '3' }],
      ['star', 'id'],
      ['scrobble', 'id'],
      ['stream', 'id'],
      ['download', 'id'],
      ['getCoverArt', 'id'],
    ];
    for (const [method, param, extra] of idParams) {
      for (const id of forged) {
        const r = await rest(method, { [param]: id, ...(extra ?? {}) });
        expect(r?.status, `${method} ${param}=${id}`).toBe('failed');
        expect(r.error.code, `${method} ${param}=${id}`).toBe(70);
      }
    }
  });

  // Last: it leaves this address refused for a while.
  it('refuses even the right password from an address after repeated failures', async () => {
    for (let i = 0; i < 6; i++) expect((await rest('getUser', { username: 'dj' }, token('dj', `guess ${i}`))).error.code).toBe(40);
    const refused = await rest('getUser', { username: 'dj' });
    expect(refused.status).toBe('failed');
    expect(refused.error.code).toBe(40);
  });
});
