import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeMp3 } from '../../test/fixtures/mp3.js';
import { pngCover } from '../../test/fixtures/tags.js';
import { startS3rver, type S3rver } from '../../test/support/s3rver.js';
import { openStateDb, type Db } from '../state/state-db.js';
import { FileIndex } from '../state/file-index.js';
import { SyncRecords } from '../state/sync-records.js';
import { FolderRemote } from '../remote/folder/folder-remote.js';
import { S3Remote } from '../remote/s3/s3-remote.js';
import type { Remote } from '../remote/remote.js';
import type { IndexedAlbum, IndexedArtist, IndexedSong, SubsonicIndex } from '../state/subsonic-index.js';
import type { Handler, ServeContext, SubsonicRequest } from './route-types.js';
import { subsonicId } from '../core/subsonic-ids.js';
import { COVERS_PREFIX } from '../core/cover-name.js';
import { storeCover } from '../library/cover-store.js';
import { attachment, mediaRoutes } from './media-routes.js';

// s3rver's built-in account; this test file runs in its own process.
process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let server: S3rver | undefined;
let buckets = 0;
afterAll(() => server?.stop());

const KEY = 'music/Artist/Album/01 Song.mp3';
const PATH = 'Artist/Album/01 Song.mp3';
const PICTURE = pngCover('media-routes', 200);
const COVER = `${sha256(PICTURE)}.png`;
const AUDIO = makeMp3({ title: 'Song', seconds: 3, cover: PICTURE });

/** A small stand-in for the index helper's SubsonicIndex: what the media routes call. */
function fakeIndex(songs: IndexedSong[], albums: IndexedAlbum[] = [], artists: IndexedArtist[] = [], folderImages: Record<string, string> = {}): SubsonicIndex {
  const by = <T extends { id: string }>(xs: T[]) => new Map(xs.map((x) => [x.id, x]));
  const [s, al, ar] = [by(songs), by(albums), by(artists)];
  return {
    song: (id: string) => s.get(id),
    album: (id: string) => al.get(id),
    artist: (id: string) => ar.get(id),
    folderImage: (folder: string) => folderImages[folder],
  } as unknown as SubsonicIndex;
}

function song(key: string, data: Uint8Array, extra: Partial<IndexedSong> = {}): IndexedSong {
  return {
    id: subsonicId('song', key),
    key,
    title: 'Song',
    album: 'Album',
    albumId: subsonicId('album', 'artist', 'album'),
    artist: 'Artist',
    artistId: subsonicId('artist', 'artist'),
    albumArtist: 'Artist',
    size: data.length,
    suffix: 'mp3',
    md5: md5(data),
    created: 0,
    hasLyrics: false,
    ...extra,
  };
}

const remotes: Array<[string, (dir: string) => Promise<Remote>]> = [
  ['folder remote', async (dir) => new FolderRemote(path.join(dir, 'remote'))],
  [
    's3 remote on s3rver',
    async () => {
      server ??= await startS3rver();
      const bucket = `media-${++buckets}`;
      await server.createBucket(bucket);
      return new S3Remote({ bucket, prefix: '', endpoint: server.endpoint });
    },
  ],
];

describe.each(remotes)('media routes over a %s', (_name, makeRemote) => {
  let dir: string;
  let db: Db;
  let remote: Remote;
  let serve: ServeContext;
  let library: string;
  const theSong = song(KEY, AUDIO, { cover: COVER });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cratesync-media-'));
    db = openStateDb(path.join(dir, 'state.db'));
    remote = await makeRemote(dir);
    library = path.join(dir, 'library');
    await mkdir(library, { recursive: true });
    await remote.put(KEY, { data: AUDIO });
    serve = {
      db,
      remote,
      catalog: {} as never,
      index: fakeIndex([theSong]),
      library,
      crewUser: 'dj',
      coversDir: path.join(dir, 'covers'),
      log: pino({ level: 'silent' }),
      refresh: async () => {},
    };
  });
  afterEach(async () => {
    await remote.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const call = async (handler: Handler | undefined, query: Record<string, string>, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(`http://127.0.0.1/rest/x?${new URLSearchParams(query)}`);
    const req: SubsonicRequest = {
      method: 'x',
      params: { get: (n) => url.searchParams.get(n) ?? undefined, all: (n) => url.searchParams.getAll(n) },
      user: { name: 'u' },
      serve,
      raw: new Request(url, init),
    };
    const res = await handler?.(req);
    if (!(res instanceof Response)) throw new Error('expected a Response');
    return res;
  };
  const bytes = async (res: Response) => Buffer.from(await res.arrayBuffer());
  const stream = (headers: Record<string, string> = {}, method = 'GET') => call(mediaRoutes.stream, { id: theSong.id, format: 'raw', maxBitRate: '128' }, { headers, method });

  /** Puts the song in the library as synced, identical to the object. */
  const syncLocal = async (data: Uint8Array = AUDIO, libPath = PATH) => {
    const abs = path.join(library, ...libPath.split('/'));
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, data);
    const st = await stat(abs);
    const index = new FileIndex(db);
    index.put({ path: libPath, size: st.size, mtimeMs: st.mtimeMs, inode: st.ino, md5: md5(data) });
    index.flush();
    const records = new SyncRecords(db, remote.url);
    records.put({ path: libPath, key: `music/${libPath}`, size: data.length, md5: md5(data) });
    records.flush();
    return abs;
  };

  it('streams the whole file', async () => {
    const res = await stream();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('content-length')).toBe(String(AUDIO.length));
    expect((await bytes(res)).equals(AUDIO)).toBe(true);
  });

  it('serves a range, an open range and a suffix range with 206 and Content-Range', async () => {
    const n = AUDIO.length;
    const mid = await stream({ Range: 'bytes=100-4195' });
    expect(mid.status).toBe(206);
    expect(mid.headers.get('content-range')).toBe(`bytes 100-4195/${n}`);
    expect(mid.headers.get('content-length')).toBe('4096');
    expect((await bytes(mid)).equals(AUDIO.subarray(100, 4196))).toBe(true);
    const open = await stream({ Range: 'bytes=5000-' });
    expect(open.status).toBe(206);
    expect(open.headers.get('content-range')).toBe(`bytes 5000-${n - 1}/${n}`);
    expect((await bytes(open)).equals(AUDIO.subarray(5000))).toBe(true);
    const suffix = await stream({ Range: 'bytes=-500' });
    expect(suffix.status).toBe(206);
    expect(suffix.headers.get('content-range')).toBe(`bytes ${n - 500}-${n - 1}/${n}`);
    expect((await bytes(suffix)).equals(AUDIO.subarray(n - 500))).toBe(true);
  });

  it('answers 416 with the size for a range past the end; several ranges get the whole file', async () => {
    const past = await stream({ Range: `bytes=${AUDIO.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${AUDIO.length}`);
    const many = await stream({ Range: 'bytes=0-10,20-30' });
    expect(many.status).toBe(200);
    expect((await bytes(many)).equals(AUDIO)).toBe(true);
  });

  it('answers HEAD with the headers only', async () => {
    const head = await stream({}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(AUDIO.length));
    expect(head.body).toBeNull();
    const ranged = await stream({ Range: 'bytes=10-19' }, 'HEAD');
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 10-19/${AUDIO.length}`);
  });

  it.each([['the remote'], ['the local copy']])('stops reading %s when the client goes away', async (from) => {
    const big = Buffer.concat([AUDIO, Buffer.alloc(8 * 1024 * 1024, 7)]);
    const bigSong = song('music/Artist/Album/02 Long.mp3', big);
    if (from === 'the local copy') await syncLocal(big, 'Artist/Album/02 Long.mp3');
    else await remote.put(bigSong.key, { data: big });
    serve.index = fakeIndex([bigSong]);
    const client = new AbortController();
    const res = await call(mediaRoutes.stream, { id: bigSong.id }, { signal: client.signal });
    const reader = res.body?.getReader();
    const first = await reader?.read();
    expect(first?.done).toBe(false);
    client.abort();
    let got = first?.value?.length ?? 0;
    const ended = await (async () => {
      for (;;) {
        const r = await reader?.read();
        if (!r || r.done) return 'done';
        got += r.value.length;
      }
    })().catch(() => 'errored');
    // Not read to its end: the read was stopped under it.
    expect(ended).toBe('errored');
    expect(got).toBeLessThan(big.length);
  });

  it('download gives the same bytes as an attachment with a safe name', async () => {
    const res = await call(mediaRoutes.download, { id: theSong.id });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="01 Song.mp3"; filename*=UTF-8''01%20Song.mp3`);
    expect((await bytes(res)).equals(AUDIO)).toBe(true);
    expect(attachment('music/x/a"b\\c;é.mp3')).toBe(`attachment; filename="a_b_c__.mp3"; filename*=UTF-8''a%22b%5Cc%3B%C3%A9.mp3`);
  });

  it('streams the identical local copy, even once the object is gone', async () => {
    await syncLocal();
    await remote.delete(KEY);
    const res = await stream({ Range: 'bytes=10-' });
    expect(res.status).toBe(206);
    expect((await bytes(res)).equals(AUDIO.subarray(10))).toBe(true);
  });

  it('does not stream a local copy changed since it was indexed: the remote has the song', async () => {
    const abs = await syncLocal();
    const changed = Buffer.from(AUDIO);
    changed.writeUInt8(changed.readUInt8(AUDIO.length - 1) ^ 0xff, AUDIO.length - 1);
    await writeFile(abs, changed);
    await utimes(abs, new Date(), new Date(Date.now() + 5000));
    expect((await bytes(await stream())).equals(AUDIO)).toBe(true);
  });

  it('does not follow a library link that leaves the library', async () => {
    const outside = path.join(dir, 'outside.mp3');
    await writeFile(outside, AUDIO);
    const abs = path.join(library, ...PATH.split('/'));
    await mkdir(path.dirname(abs), { recursive: true });
    await symlink(outside, abs);
    const st = await stat(abs);
    const index = new FileIndex(db);
    index.put({ path: PATH, size: st.size, mtimeMs: st.mtimeMs, inode: st.ino, md5: md5(AUDIO) });
    index.flush();
    const records = new SyncRecords(db, remote.url);
    records.put({ path: PATH, key: KEY, size: AUDIO.length, md5: md5(AUDIO) });
    records.flush();
    await remote.delete(KEY);
    // Not from disk (the link leads out), and the remote has it no more.
    await expect(stream()).rejects.toMatchObject({ code: 70 });
  });

  it('refuses every id that is not a known song, and songs whose key leaves music/ (70)', async () => {
    const evil = song('music/../../etc/passwd', AUDIO);
    const outside = song('.cratesync/covers/x.png', AUDIO);
    serve.index = fakeIndex([theSong, evil, outside]);
    for (const id of ['../../etc/passwd', KEY, PATH, `tr-${'0'.repeat(20)}`, 'tr-../../../etc/passwd', theSong.albumId, evil.id, outside.id]) {
      await expect(call(mediaRoutes.stream, { id }), id).rejects.toMatchObject({ code: 70 });
      await expect(call(mediaRoutes.download, { id }), id).rejects.toMatchObject({ code: 70 });
    }
    await expect(call(mediaRoutes.stream, {})).rejects.toMatchObject({ code: 10 });
  });

  describe('getCoverArt', () => {
    const album: IndexedAlbum = {
      id: theSong.albumId,
      name: 'Album',
      artist: 'Artist',
      artistId: theSong.artistId,
      songCount: 1,
      durationSec: 3,
      created: 0,
      cover: COVER,
      folder: 'music/Artist/Album/',
      playCount: 0,
    };
    const artist: IndexedArtist = { id: theSong.artistId, name: 'Artist', sortName: 'Artist', albumCount: 1, coverAlbumId: album.id };

    beforeEach(() => {
      serve.index = fakeIndex([theSong], [album], [artist]);
    });

    it('serves the embedded picture from the remote by song, album and artist id, and keeps a copy', async () => {
      await remote.put(COVERS_PREFIX + COVER, { data: PICTURE });
      for (const id of [theSong.id, album.id, artist.id]) {
        const res = await call(mediaRoutes.getCoverArt, { id });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('image/png');
        expect(res.headers.get('cache-control')).toBe('private, max-age=86400');
        expect(res.headers.get('etag')).toBe(`"${COVER}-full"`);
        expect((await bytes(res)).equals(PICTURE)).toBe(true);
      }
      expect((await readFile(path.join(serve.coversDir, COVER))).equals(PICTURE)).toBe(true);
      const again = await call(mediaRoutes.getCoverArt, { id: album.id }, { headers: { 'If-None-Match': `"${COVER}-full"` } });
      expect(again.status).toBe(304);
    });

    it('resizes to fit the size asked, and serves the resized copy from its cache the second time', async () => {
      await storeCover(serve.coversDir, COVER, PICTURE);
      const sharp = (await import('sharp')).default;
      const res = await call(mediaRoutes.getCoverArt, { id: album.id, size: '64' });
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('etag')).toBe(`"${COVER}-64"`);
      const first = await bytes(res);
      expect(await sharp(first).metadata()).toMatchObject({ width: 64, height: 64, format: 'png' });
      const cached = path.join(serve.coversDir, 'sized', '64', COVER);
      expect((await readFile(cached)).equals(first)).toBe(true);
      // What the second answer gives is the cache's: put a marker there.
      const marker = await sharp(PICTURE).resize(10, 10).png().toBuffer();
      await writeFile(cached, marker);
      expect((await bytes(await call(mediaRoutes.getCoverArt, { id: album.id, size: '64' }))).equals(marker)).toBe(true);
    });

    it('falls back to the image in the album folder', async () => {
      const jpeg = await (await import('sharp')).default(PICTURE).jpeg().toBuffer();
      await remote.put('music/Artist/Album/cover.jpg', { data: jpeg });
      serve.index = fakeIndex([song(KEY, AUDIO)], [{ ...album, cover: undefined } as IndexedAlbum], [artist], { 'music/Artist/Album/': 'music/Artist/Album/cover.jpg' });
      const res = await call(mediaRoutes.getCoverArt, { id: album.id });
      expect(res.headers.get('content-type')).toBe('image/jpeg');
      expect((await bytes(res)).equals(jpeg)).toBe(true);
    });

    it('answers 70 for no picture, unknown ids, and a remote cover that is not what its name says', async () => {
      await expect(call(mediaRoutes.getCoverArt, { id: album.id })).rejects.toMatchObject({ code: 70 });
      await remote.put(COVERS_PREFIX + COVER, { data: pngCover('something else', 20) });
      await expect(call(mediaRoutes.getCoverArt, { id: album.id })).rejects.toMatchObject({ code: 70 });
      for (const id of ['../../etc/passwd', COVER, `al-${'0'.repeat(20)}`, `pl-${'0'.repeat(20)}`]) {
        await expect(call(mediaRoutes.getCoverArt, { id }), id).rejects.toMatchObject({ code: 70 });
      }
      await expect(call(mediaRoutes.getCoverArt, { id: album.id, size: '0' })).rejects.toMatchObject({ code: 0 });
      await expect(call(mediaRoutes.getCoverArt, { id: album.id, size: '4096' })).rejects.toMatchObject({ code: 0 });
    });
  });
});
