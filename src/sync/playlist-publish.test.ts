/**
 * Playlists up to a real S3 server (s3rver): put as M3U8 under
 * playlists/<user>/, sent only when the content changes, renamed (the old
 * object to the trash, restorable) and deleted (to the trash), and seen by a
 * second machine through the catalog, never in its music mirror.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { S3Remote } from '../remote/s3/s3-remote.js';
import { openStateDb, type Db } from '../state/state-db.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { RemoteCatalog, recordRestored } from './catalog.js';
import { loadCodec, LOG_PREFIX } from './catalog-codec.js';
import { listPlaylists, playlistKey, putPlaylist, removePlaylist, type PlaylistUp } from './playlist-publish.js';
import { remoteTrash, restoreRemote } from './trash-batches.js';
import { TRASH_PREFIX } from './layout.js';
import { startS3rver, type S3rver } from '../../test/support/s3rver.js';
import type { Remote } from '../remote/remote.js';

process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;

let server: S3rver;
let buckets = 0;
const dbs: Db[] = [];
beforeAll(async () => {
  await loadCodec();
  server = await startS3rver();
});
afterAll(() => server.stop());
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

async function bucket(): Promise<S3Remote> {
  const name = `lists-${++buckets}`;
  await server.createBucket(name);
  return new S3Remote({ bucket: name, prefix: 'dj/', endpoint: server.endpoint });
}

function machine(remote: Remote, name: string, db = openStateDb(':memory:')) {
  dbs.push(db);
  const mirror = new RemoteMirror(db, remote.url);
  const catalog = new RemoteCatalog(remote, mirror, db, `${name}@${name}-m`, `${name}-m`);
  return { db, mirror, catalog, ctx: { remote, catalog, user: name } };
}

async function keys(remote: Remote, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of remote.list(prefix)) out.push(o.key);
  return out.sort();
}

const PEAK: PlaylistUp = {
  name: 'Sets/Peak Time',
  player: 'strawberry',
  smart: false,
  position: 2,
  entries: [
    { path: 'House/A - One.mp3', durationSec: 301, artist: 'A', title: 'One' },
    { path: 'Techno/B - Two.flac', artist: 'B', title: 'Two' },
  ],
};

describe('putPlaylist', () => {
  it('stores the M3U8 under playlists/<user>/ with its metadata in the catalog, and sends nothing when unchanged', async () => {
    const remote = await bucket();
    const a = machine(remote, 'alice');
    const r = await putPlaylist(a.ctx, PEAK);
    expect(r).toEqual({ key: 'playlists/alice/Sets/Peak Time.m3u8', changed: true });
    expect((await remote.read(r.key)).toString('utf8')).toBe(
      '#EXTM3U\n#EXTINF:301,A - One\nHouse/A - One.mp3\n#EXTINF:-1,B - Two\nTechno/B - Two.flac\n',
    );
    await a.catalog.publish();
    const stored = await remote.stat(r.key);

    expect(await putPlaylist(a.ctx, PEAK)).toEqual({ key: r.key, changed: false });
    expect(await remote.stat(r.key)).toEqual(stored);
    // Only the metadata changed: recorded, not sent.
    expect(await putPlaylist(a.ctx, { ...PEAK, position: 3 })).toEqual({ key: r.key, changed: true });
    expect(await remote.stat(r.key)).toEqual(stored);
    await a.catalog.publish();

    const b = machine(remote, 'bob');
    await b.catalog.refresh({ full: false, problems: [] });
    expect(listPlaylists(b.catalog)).toEqual([
      { key: r.key, user: 'alice', name: 'Sets/Peak Time', player: 'strawberry', smart: false, tracks: 2, writer: 'alice@alice-m', when: expect.any(Number) },
    ]);
    expect(b.catalog.playlists.get(r.key)?.playlist?.position).toBe(3);
    expect([...b.mirror.lean()]).toEqual([]); // the music mirror never holds a playlist
    expect(listPlaylists(b.catalog, 'bob')).toEqual([]);
  });

  it('makes every part of a name a safe file name: no name climbs out of its user folder', () => {
    expect(playlistKey('alice', '../../x')).toBe('playlists/alice/_/_/x.m3u8');
    expect(playlistKey('al/ice', 'a:b')).toBe('playlists/al_ice/a_b.m3u8');
  });

  it('a rename puts the new key and moves the old object to the trash, from where it can be restored', async () => {
    const remote = await bucket();
    const a = machine(remote, 'alice');
    await putPlaylist(a.ctx, PEAK);
    await a.catalog.publish();
    const b = machine(remote, 'bob');
    await b.catalog.refresh({ full: false, problems: [] });

    const r = await putPlaylist(a.ctx, { ...PEAK, name: 'Sets/Closing' }, 'Sets/Peak Time');
    expect(r).toEqual({ key: 'playlists/alice/Sets/Closing.m3u8', changed: true });
    await a.catalog.publish();
    expect(await keys(remote, 'playlists/')).toEqual(['playlists/alice/Sets/Closing.m3u8']);
    const trash = await remoteTrash(remote);
    expect(trash).toHaveLength(1);
    expect(trash[0]!.items.map((i) => i.path)).toEqual(['playlists/alice/Sets/Peak Time.m3u8']);

    // bob learns the rename from the log: the old one gone, the new one there.
    await b.catalog.refresh({ full: false, problems: [] });
    expect(listPlaylists(b.catalog).map((p) => p.name)).toEqual(['Sets/Closing']);

    // `cratesync trash restore` puts it back and tells the catalog.
    const restored = await restoreRemote(remote, trash[0]!.stamp);
    expect(restored).toEqual(['playlists/alice/Sets/Peak Time.m3u8']);
    await recordRestored(remote, a.db, 'alice', restored);
    await b.catalog.refresh({ full: false, problems: [] });
    expect(listPlaylists(b.catalog).map((p) => p.key)).toEqual(['playlists/alice/Sets/Closing.m3u8', 'playlists/alice/Sets/Peak Time.m3u8']);
  });

  it('removePlaylist moves it to the trash and records its del; a second time finds nothing', async () => {
    const remote = await bucket();
    const a = machine(remote, 'alice');
    await putPlaylist(a.ctx, PEAK);
    await a.catalog.publish();
    expect(await removePlaylist(a.ctx, 'Sets/Peak Time')).toBe(true);
    await a.catalog.publish();
    expect(await keys(remote, 'playlists/')).toEqual([]);
    expect((await keys(remote, TRASH_PREFIX)).map((k) => k.replace(/^\.cratesync\/trash\/[^/]+\//, ''))).toEqual(['playlists/alice/Sets/Peak Time.m3u8']);
    expect(await removePlaylist(a.ctx, 'Sets/Peak Time')).toBe(false);

    const b = machine(remote, 'bob');
    await b.catalog.refresh({ full: false, problems: [] });
    expect(listPlaylists(b.catalog)).toEqual([]);
    expect((await keys(remote, LOG_PREFIX)).length).toBe(2);
  });

  it('a playlist written by another tool is listed (full listing) with what its key says', async () => {
    const remote = await bucket();
    await remote.put('playlists/dave/Warmup.m3u8', { data: Buffer.from('#EXTM3U\nx.mp3\n') });
    const b = machine(remote, 'bob');
    await b.catalog.refresh({ full: true, problems: [] });
    expect(listPlaylists(b.catalog)).toEqual([{ key: 'playlists/dave/Warmup.m3u8', user: 'dave', name: 'Warmup', when: expect.any(Number) }]);
    expect([...b.mirror.lean()]).toEqual([]);
  });
});
