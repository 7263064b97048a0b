/**
 * The backfill of what a newer media reader knows (bitrate, lyrics, cover) for
 * files an older cratesync hashed: a real tagged library is pushed, its state
 * and catalog are made to look as an older version wrote them, and the next
 * push restates the objects in the catalog (as a second machine reads it)
 * and sends their covers, without uploading any audio again.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeMp3 } from '../../test/fixtures/mp3.js';
import { makeFlac } from '../../test/fixtures/flac.js';
import { pngCover } from '../../test/fixtures/tags.js';
import { startS3rver, type S3rver } from '../../test/support/s3rver.js';
import type { Remote } from '../remote/remote.js';
import type { Db } from '../state/state-db.js';
import type { RunEvent } from './events.js';
import { S3Remote } from '../remote/s3/s3-remote.js';
import { FolderRemote } from '../remote/folder/folder-remote.js';
import { makeFilter } from '../library/filter.js';
import { openStateDb } from '../state/state-db.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { FileIndex } from '../state/file-index.js';
import { COVERS_PREFIX } from '../core/cover-name.js';
import { MEDIA_VERSION } from '../library/tags.js';
import { LibrarySession } from './library-session.js';
import { RemoteCatalog } from './catalog.js';
import { runSync, type SyncResult } from './engine.js';
import { LOG_PREFIX, SNAP_PREFIX } from './catalog-codec.js';
import { MUSIC_PREFIX } from './layout.js';

process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const ALBUM = pngCover('refresh album', 32);
const SINGLE = pngCover('refresh single', 24);

/** The library: path → bytes (covers embedded, one song without). */
const FILES: Record<string, Buffer> = {
  'Artist/Album/01 One.mp3': makeMp3({ title: 'One', artist: 'Artist', album: 'Album', track: 1, cover: ALBUM, lyrics: 'la la la', seed: 'one' }),
  'Artist/Album/02 Two.mp3': makeMp3({ title: 'Two', artist: 'Artist', album: 'Album', track: 2, cover: ALBUM, seed: 'two' }),
  'Artist/Single/Three.flac': makeFlac({ title: 'Three', artist: 'Artist', album: 'Single', cover: SINGLE, seed: 'three' }),
  'Artist/Bare.mp3': makeMp3({ title: 'Bare', artist: 'Artist', seed: 'bare' }),
};
const PATHS = Object.keys(FILES).sort();

let server: S3rver | undefined;
afterAll(() => server?.stop());

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cratesync-refresh-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function writeLibrary(root: string): Promise<void> {
  for (const [p, data] of Object.entries(FILES)) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), data);
  }
}

/** push runs one push of `root` to `remote` with the state at `stateFile`, as the CLI does (a session per run). */
async function push(root: string, stateFile: string, remote: Remote, listeners: Array<(e: RunEvent) => void> = [], signal?: AbortSignal): Promise<SyncResult> {
  const session = await LibrarySession.open({ root, stateFile, user: 'alice', mode: 'write' });
  try {
    return await runSync(session, { direction: 'push', remote, filter: makeFilter(), delete: false, maxDelete: { percent: 50 }, dryRun: false, transfers: 4, listeners, ...(signal ? { signal } : {}) });
  } finally {
    session.close();
  }
}

const NEW_FIELDS = `'$.bitrate', '$.cover', '$.lyrics'`;

/**
 * makeOld turns what a push left into what an older cratesync would have
 * left: index rows without a media version or the new tags, a mirror and a
 * catalog (its log objects rewritten) without them, no covers on the remote
 * and none known to be there.
 */
async function makeOld(stateFile: string, remote: Remote): Promise<void> {
  const db = openStateDb(stateFile);
  try {
    db.exec(`UPDATE files SET media_v = NULL, tags = json_remove(tags, ${NEW_FIELDS}) WHERE tags IS NOT NULL`);
    db.exec(`UPDATE remote_objects SET tags = json_remove(tags, ${NEW_FIELDS}) WHERE tags IS NOT NULL`);
    db.exec('DELETE FROM cover_uploads');
  } finally {
    db.close();
  }
  for await (const o of remote.list(COVERS_PREFIX)) await remote.delete(o.key);
  for await (const o of remote.list(SNAP_PREFIX)) await remote.delete(o.key);
  for await (const o of remote.list(LOG_PREFIX)) {
    const doc = JSON.parse(gunzipSync(await remote.read(o.key)).toString('utf8')) as { entries: Array<{ tags?: Record<string, unknown> }> };
    for (const e of doc.entries) for (const f of ['bitrate', 'cover', 'lyrics']) delete e.tags?.[f];
    await remote.put(o.key, { data: gzipSync(JSON.stringify(doc)) });
  }
}

/** What machine B, which has only the remote, knows of the music objects after reading the catalog. */
async function machineB(db: Db, remote: Remote): Promise<RemoteMirror> {
  const mirror = new RemoteMirror(db, remote.url);
  const problems: never[] = [];
  await new RemoteCatalog(remote, mirror, db, 'bob@b', 'b').refresh({ full: false, problems, readOnly: true });
  expect(problems).toEqual([]);
  return mirror;
}

async function keys(remote: Remote, prefix: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for await (const o of remote.list(prefix)) m.set(o.key, `${o.size}:${o.etag ?? ''}:${o.mtime?.getTime() ?? ''}`);
  return m;
}

describe('push backfills the media an older cratesync did not read', () => {
  it('restates the in-sync objects with cover, bitrate and lyrics on s3rver, sends the covers, uploads no audio, and does it once', async () => {
    server ??= await startS3rver();
    await server.createBucket('refresh');
    const remote = new S3Remote({ bucket: 'refresh', prefix: 'dj', endpoint: server.endpoint });
    const root = join(dir, 'library');
    const stateFile = join(dir, 'a', 'lib.db');
    const dbB = openStateDb(join(dir, 'b', 'lib.db'));
    try {
      await writeLibrary(root);
      const first = await push(root, stateFile, remote);
      expect(first.exec?.done).toHaveLength(PATHS.length);
      await makeOld(stateFile, remote);
      // A player's meta on one object, as the mirror knows it: the restatement keeps it.
      const player = { source: 'strawberry', rating: 80, playCount: 3 };
      const dbA = openStateDb(stateFile);
      dbA.prepare('UPDATE remote_objects SET player = ? WHERE key = ?').run(JSON.stringify(player), `${MUSIC_PREFIX}Artist/Album/02 Two.mp3`);
      dbA.close();
      const before = await machineB(dbB, remote);
      expect(before.get(`${MUSIC_PREFIX}Artist/Album/01 One.mp3`)?.tags).toMatchObject({ title: 'One' });
      expect(before.get(`${MUSIC_PREFIX}Artist/Album/01 One.mp3`)?.tags?.cover).toBeUndefined();
      const audio = await keys(remote, MUSIC_PREFIX);
      const logs = (await keys(remote, LOG_PREFIX)).size;

      const second = await push(root, stateFile, remote);
      expect(second.problems).toEqual([]);
      expect(second.refreshed).toBe(PATHS.length);
      expect(second.exec?.done).toEqual([]);
      expect(await keys(remote, MUSIC_PREFIX)).toEqual(audio); // no audio object written again
      expect([...(await keys(remote, COVERS_PREFIX)).keys()].sort()).toEqual([`${COVERS_PREFIX}${sha256(ALBUM)}.png`, `${COVERS_PREFIX}${sha256(SINGLE)}.png`].sort());
      expect((await remote.read(`${COVERS_PREFIX}${sha256(SINGLE)}.png`)).equals(SINGLE)).toBe(true);

      const after = await machineB(dbB, remote);
      const one = after.get(`${MUSIC_PREFIX}Artist/Album/01 One.mp3`);
      expect(one?.tags).toMatchObject({ title: 'One', cover: `${sha256(ALBUM)}.png`, lyrics: 'la la la' });
      expect(one?.tags?.bitrate).toBeGreaterThan(0);
      expect(one?.writer).toMatch(/^alice@/);
      expect(after.get(`${MUSIC_PREFIX}Artist/Single/Three.flac`)?.tags).toMatchObject({ cover: `${sha256(SINGLE)}.png` });
      expect(after.get(`${MUSIC_PREFIX}Artist/Album/02 Two.mp3`)?.player).toEqual(player);
      // The same object as before: key, size, MD5 and ETag.
      for (const path of PATHS) {
        const b = before.get(MUSIC_PREFIX + path);
        const a = after.get(MUSIC_PREFIX + path);
        expect([a?.size, a?.md5, a?.etag]).toEqual([b?.size, b?.md5, b?.etag]);
      }
      // The song without a cover still gets its bitrate.
      expect(after.get(`${MUSIC_PREFIX}Artist/Bare.mp3`)?.tags?.bitrate).toBeGreaterThan(0);

      // The index holds the new tags, read by this version.
      const dbA2 = openStateDb(stateFile);
      const rec = new FileIndex(dbA2).get('Artist/Album/01 One.mp3');
      dbA2.close();
      expect(rec?.mediaV).toBe(MEDIA_VERSION);
      expect(rec?.tags?.cover).toBe(`${sha256(ALBUM)}.png`);

      const third = await push(root, stateFile, remote);
      expect([third.refreshed, third.exec?.done.length, third.problems]).toEqual([0, 0, []]);
      expect((await keys(remote, LOG_PREFIX)).size).toBe(logs + 1); // only the second push's log
      expect((await keys(remote, COVERS_PREFIX)).size).toBe(2);
    } finally {
      dbB.close();
      await remote.close();
    }
  }, 120_000);

  it('leaves alone an object whose catalog entry has the new fields already (another machine restated it)', async () => {
    const remote = new FolderRemote(join(dir, 'remote'));
    const root = join(dir, 'library');
    const stateFile = join(dir, 'a', 'lib.db');
    await writeLibrary(root);
    await push(root, stateFile, remote);
    // This machine's state is old; the catalog (and so its mirror) is not.
    const db = openStateDb(stateFile);
    db.exec(`UPDATE files SET media_v = NULL, tags = json_remove(tags, ${NEW_FIELDS}) WHERE tags IS NOT NULL`);
    db.close();
    const logs = (await keys(remote, LOG_PREFIX)).size;
    const second = await push(root, stateFile, remote);
    expect([second.refreshed, second.exec?.done.length, second.problems]).toEqual([PATHS.length, 0, []]);
    expect((await keys(remote, LOG_PREFIX)).size).toBe(logs);
    const dbB = openStateDb(join(dir, 'b', 'lib.db'));
    try {
      expect((await machineB(dbB, remote)).get(`${MUSIC_PREFIX}Artist/Album/01 One.mp3`)?.tags?.cover).toBe(`${sha256(ALBUM)}.png`);
    } finally {
      dbB.close();
    }
  }, 60_000);

  it('reports a file that cannot be read again (deleted after the scan) and refreshes the others; a folder remote keeps its fingerprints', async () => {
    const remote = new FolderRemote(join(dir, 'remote'));
    const root = join(dir, 'library');
    const stateFile = join(dir, 'a', 'lib.db');
    await writeLibrary(root);
    await push(root, stateFile, remote);
    await makeOld(stateFile, remote);
    const gone = 'Artist/Album/02 Two.mp3';
    // Between the scan (planned) and the reading of tags, the file goes.
    const second = await push(root, stateFile, remote, [(e) => e.type === 'planned' && rmSync(join(root, gone))]);
    expect(second.problems).toEqual([{ path: gone, message: expect.stringContaining('its tags could not be read again') }]);
    expect(second.refreshed).toBe(PATHS.length - 1);
    const dbB = openStateDb(join(dir, 'b', 'lib.db'));
    try {
      const b = await machineB(dbB, remote);
      expect(b.get(`${MUSIC_PREFIX}Artist/Album/01 One.mp3`)?.tags?.cover).toBe(`${sha256(ALBUM)}.png`);
      expect(b.get(`${MUSIC_PREFIX}${gone}`)?.tags?.cover).toBeUndefined();
    } finally {
      dbB.close();
    }
    expect([...(await keys(remote, COVERS_PREFIX)).keys()].sort()).toEqual([`${COVERS_PREFIX}${sha256(ALBUM)}.png`, `${COVERS_PREFIX}${sha256(SINGLE)}.png`].sort());
    // The restated rows kept their mtime: the sync records still vouch for them, and the next push does nothing.
    const db = openStateDb(stateFile);
    const unvouched = db
      .prepare(`SELECT COUNT(*) FROM remote_objects o JOIN synced s ON s.remote = o.remote AND s.key = o.key WHERE o.mtime_ms IS NULL`)
      .pluck()
      .get();
    db.close();
    expect(unvouched).toBe(0);
    const logs = (await keys(remote, LOG_PREFIX)).size;
    const third = await push(root, stateFile, remote);
    expect([third.refreshed, third.exec?.done.length, third.problems]).toEqual([0, 0, []]);
    expect((await keys(remote, LOG_PREFIX)).size).toBe(logs);
  }, 60_000);

  it('is stopped by the signal, and a pull reads nothing again: the next push does it all', async () => {
    const remote = new FolderRemote(join(dir, 'remote'));
    const root = join(dir, 'library');
    const stateFile = join(dir, 'a', 'lib.db');
    await writeLibrary(root);
    await push(root, stateFile, remote);
    await makeOld(stateFile, remote);
    const stop = new AbortController();
    await expect(push(root, stateFile, remote, [(e) => e.type === 'planned' && stop.abort(new Error('stopped'))], stop.signal)).rejects.toThrow('stopped');
    const session = await LibrarySession.open({ root, stateFile, user: 'alice', mode: 'write' });
    try {
      const pulled = await runSync(session, { direction: 'pull', remote, filter: makeFilter(), delete: false, maxDelete: { percent: 50 }, dryRun: false, transfers: 4 });
      expect([pulled.refreshed, pulled.problems]).toEqual([0, []]);
    } finally {
      session.close();
    }
    const next = await push(root, stateFile, remote);
    expect([next.refreshed, next.exec?.done.length, next.problems]).toEqual([PATHS.length, 0, []]);
    const dbB = openStateDb(join(dir, 'b', 'lib.db'));
    try {
      expect((await machineB(dbB, remote)).get(`${MUSIC_PREFIX}Artist/Single/Three.flac`)?.tags?.cover).toBe(`${sha256(SINGLE)}.png`);
    } finally {
      dbB.close();
    }
  }, 60_000);
});
