/**
 * A media player's metadata in the remote catalog, on a real S3 server
 * (s3rver) with real state databases: it reaches a second machine through
 * the logs and through a snapshot, a meta-only change moves no file, a
 * re-upload without a player keeps it, and an older cratesync (its schema
 * kept in test/fixtures/catalog-schema-v1.ts) still reads the music log and
 * skips only the playlists' log.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { S3Remote } from '../remote/s3/s3-remote.js';
import { openStateDb, type Db } from '../state/state-db.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { CatalogState } from '../state/catalog-state.js';
import { PlaylistMirror } from '../state/remote-playlists.js';
import { RemoteCatalog } from './catalog.js';
import { decodeSnapshot, loadCodec, LOG_PREFIX, logTime, MAX_LOG_ENTRIES, MAX_SNAPSHOT_ENTRIES, SNAP_PREFIX, type LogDoc, type SnapshotDoc } from './catalog-codec.js';
import { foldSnapshot, writeSnapshot } from './catalog-snapshots.js';
import { publishPlayerMetas } from './player-meta.js';
import { putPlaylist } from './playlist-publish.js';
import { MUSIC_PREFIX } from './layout.js';
import { startS3rver, type S3rver } from '../../test/support/s3rver.js';
import * as v1 from '../../test/fixtures/catalog-schema-v1.js';
import type { Remote } from '../remote/remote.js';
import type { PlayerMeta } from '../core/tags.js';

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
  const name = `meta-${++buckets}`;
  await server.createBucket(name);
  return new S3Remote({ bucket: name, prefix: 'dj/', endpoint: server.endpoint });
}

function machine(remote: Remote, name: string) {
  const db = openStateDb(':memory:');
  dbs.push(db);
  const mirror = new RemoteMirror(db, remote.url);
  return { db, mirror, catalog: new RemoteCatalog(remote, mirror, db, `${name}@${name}-m`, `${name}-m`) };
}

/** Uploads `data` to music/<path> as a run does: the put, then its catalog entry. */
async function upload(m: ReturnType<typeof machine>, remote: Remote, path: string, data: string) {
  const r = await remote.put(`${MUSIC_PREFIX}${path}`, { data: Buffer.from(data) });
  m.catalog.record({ op: 'put', key: `${MUSIC_PREFIX}${path}`, size: r.size, md5: r.md5, ...(r.etag ? { etag: r.etag } : {}), tags: { title: path }, at: Date.now() });
}

async function logs(remote: Remote): Promise<Array<{ key: string; doc: unknown }>> {
  const out = [];
  for await (const o of remote.list(LOG_PREFIX)) out.push({ key: o.key, doc: JSON.parse(gunzipSync(await remote.read(o.key)).toString('utf8')) as unknown });
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

const META: PlayerMeta = { source: 'strawberry', rating: 80, playCount: 12, lastPlayed: Date.UTC(2026, 10, 1), tags: { title: 'Player Title', genre: 'House' } };

describe('player metadata in the catalog', () => {
  it('reaches a second machine through the logs; a meta-only change moves no file', async () => {
    const remote = await bucket();
    const a = machine(remote, 'alice');
    const b = machine(remote, 'bob');
    await upload(a, remote, 'A/one.mp3', 'one');
    await a.catalog.publish();
    const before = await remote.stat('music/A/one.mp3');

    const settled: number[][] = [];
    const items = [
      { path: 'A/nothing.mp3', meta: META },
      { path: 'A/one.mp3', meta: META },
    ];
    expect(await publishPlayerMetas(a.catalog, items, { settled: (n) => settled.push([...n]) })).toEqual(['unknown', 'published']);
    expect(await publishPlayerMetas(a.catalog, [{ path: 'A/one.mp3', meta: { ...META } }], { settled: (n) => settled.push([...n]) })).toEqual(['unchanged']);
    // The published one when its log was written, then the unchanged one at once; never the unknown one.
    expect(settled).toEqual([[1], [0]]);
    expect(a.catalog.pendingCount()).toBe(0);

    // The object itself is as it was: same bytes, same ETag, not written again.
    const after = await remote.stat('music/A/one.mp3');
    expect(after).toEqual(before);
    const all = await logs(remote);
    expect(all).toHaveLength(2);
    const metaPut = (all[1]!.doc as LogDoc).entries[0]!;
    expect(metaPut).toMatchObject({ op: 'put', key: 'music/A/one.mp3', size: before.size, etag: before.etag, player: META, tags: { title: 'A/one.mp3' } });

    await b.catalog.refresh({ full: false, problems: [] });
    expect(b.mirror.get('music/A/one.mp3')?.player).toEqual(META);
    expect(b.mirror.get('music/A/one.mp3')?.md5).toBe(a.mirror.get('music/A/one.mp3')?.md5);
  });

  it('a log that cannot be written settles and records nothing; one written over a replaced object leaves that object be', async () => {
    const remote = await bucket();
    let onLogPut: (() => void) | undefined;
    // The remote as the catalog sees it: a hook runs when a log is put.
    const hooked: Remote = Object.assign(Object.create(remote) as Remote, {
      put: (key: string, body: Parameters<Remote['put']>[1]) => {
        if (key.startsWith(LOG_PREFIX) && onLogPut) onLogPut();
        return remote.put(key, body);
      },
    });
    const a = machine(hooked, 'alice');
    await upload(a, remote, 'one.mp3', 'one');
    await upload(a, remote, 'two.mp3', 'two');
    await a.catalog.publish();
    const logsBefore = (await logs(remote)).length;

    onLogPut = () => {
      throw new Error('the server is gone');
    };
    const settled: number[] = [];
    await expect(publishPlayerMetas(a.catalog, [{ path: 'one.mp3', meta: META }], { settled: (n) => settled.push(...n) })).rejects.toThrow(/the server is gone/);
    expect(settled).toEqual([]);
    expect(a.mirror.get('music/one.mp3')?.player).toBeUndefined();
    expect(await logs(remote)).toHaveLength(logsBefore);

    // A run replaces two.mp3 while the log is on its way: the log says the old object, the mirror keeps the new one.
    onLogPut = () => {
      onLogPut = undefined;
      a.mirror.put({ key: 'music/two.mp3', size: 9, md5: 'f'.repeat(32), writer: 'alice@alice-m', writtenAt: Date.now() });
    };
    expect(await publishPlayerMetas(a.catalog, [{ path: 'one.mp3', meta: META }, { path: 'two.mp3', meta: META }], { settled: (n) => settled.push(...n) })).toEqual(['published', 'published']);
    expect(settled).toEqual([0, 1]);
    expect(a.mirror.get('music/one.mp3')?.player).toEqual(META);
    expect(a.mirror.get('music/one.mp3')?.logKey).toMatch(/^\.cratesync\/catalog\/log\//);
    expect(a.mirror.get('music/two.mp3')).toMatchObject({ size: 9, md5: 'f'.repeat(32) });
    expect(a.mirror.get('music/two.mp3')?.player).toBeUndefined();
  });

  it('a re-upload of the same content without a player keeps the meta; other content drops it', async () => {
    const remote = await bucket();
    const a = machine(remote, 'alice');
    const b = machine(remote, 'bob');
    await upload(a, remote, 'same.mp3', 'same');
    await upload(a, remote, 'edited.mp3', 'v1');
    await a.catalog.publish();
    await publishPlayerMetas(a.catalog, [{ path: 'same.mp3', meta: META }]);
    await publishPlayerMetas(a.catalog, [{ path: 'edited.mp3', meta: META }]);
    await a.catalog.publish();

    // bob, with no player, sends both again: one with the same bytes, one edited.
    await b.catalog.refresh({ full: false, problems: [] });
    await upload(b, remote, 'same.mp3', 'same');
    await upload(b, remote, 'edited.mp3', 'v2');
    await b.catalog.publish();
    expect(b.mirror.get('music/same.mp3')?.player).toEqual(META);
    expect(b.mirror.get('music/edited.mp3')?.player).toBeUndefined();

    await a.catalog.refresh({ full: false, problems: [] });
    expect(a.mirror.get('music/same.mp3')?.player).toEqual(META);
    expect(a.mirror.get('music/edited.mp3')?.player).toBeUndefined();
  });

  it('goes into snapshots, with the playlists, and comes out of them on a fresh machine', async () => {
    const remote = await bucket();
    const a = machine(remote, 'alice');
    await upload(a, remote, 'one.mp3', 'one');
    await a.catalog.publish();
    await publishPlayerMetas(a.catalog, [{ path: 'one.mp3', meta: META }]);
    await putPlaylist({ remote, catalog: a.catalog, user: 'alice' }, { name: 'Sets/Peak Time', player: 'strawberry', smart: false, entries: [{ path: 'one.mp3' }] });
    await a.catalog.publish();
    const written = await writeSnapshot(remote, a.mirror, a.catalog.playlists, new CatalogState(a.db, remote.url), { writer: 'alice@alice-m', machine: 'alice-m' });
    expect(written?.objects).toBe(1);

    const key = written!.key;
    const doc = decodeSnapshot(await remote.read(key), key);
    expect(doc.entries.map((e) => [e.key, e.player])).toEqual([['music/one.mp3', META]]);
    expect(doc.playlists?.map((e) => [e.key, e.playlist?.name])).toEqual([['playlists/alice/Sets/Peak Time.m3u8', 'Sets/Peak Time']]);

    // A fresh machine folds the snapshot alone (no log): it has both.
    const c = machine(remote, 'carol');
    foldSnapshot(c.mirror, c.catalog.playlists, new CatalogState(c.db, remote.url), { key, doc }, { problems: [], now: Date.now() });
    expect(c.mirror.get('music/one.mp3')?.player).toEqual(META);
    expect(c.catalog.playlists.get('playlists/alice/Sets/Peak Time.m3u8')?.playlist).toMatchObject({ player: 'strawberry', tracks: 1 });
    // …and the music mirror, which the planner reads, holds music only.
    expect([...c.mirror.lean()].map((o) => o.key)).toEqual(['music/one.mp3']);
  });

  it('a snapshot of an older cratesync (no playlists field) removes no playlist the mirror knows', async () => {
    const remote = await bucket();
    const a = machine(remote, 'alice');
    await upload(a, remote, 'one.mp3', 'one');
    await putPlaylist({ remote, catalog: a.catalog, user: 'alice' }, { name: 'Mix', player: 'strawberry', smart: false, entries: [{ path: 'one.mp3' }] });
    await a.catalog.publish();
    const written = await writeSnapshot(remote, a.mirror, a.catalog.playlists, new CatalogState(a.db, remote.url), { writer: 'alice@alice-m', machine: 'alice-m' });
    const doc = decodeSnapshot(await remote.read(written!.key), written!.key);
    expect(doc.playlists).toHaveLength(1);
    const { playlists: _gone, ...old } = doc;
    // Covered logs are named in it: a snapshot with the field would drop what it lacks.
    foldSnapshot(a.mirror, a.catalog.playlists, new CatalogState(a.db, remote.url), { key: written!.key, doc: old }, { problems: [], now: Date.now() });
    expect(a.catalog.playlists.all().map((p) => p.key)).toEqual(['playlists/alice/Mix.m3u8']);
    foldSnapshot(a.mirror, a.catalog.playlists, new CatalogState(a.db, remote.url), { key: written!.key, doc: { ...old, playlists: [] } }, { problems: [], now: Date.now() });
    expect(a.catalog.playlists.all()).toEqual([]);
  });

  it('an older cratesync still reads the music log (a harmless re-put) and the snapshot, and skips only the playlists log', async () => {
    const remote = await bucket();
    const a = machine(remote, 'alice');
    await upload(a, remote, 'one.mp3', 'one');
    await a.catalog.publish();
    await publishPlayerMetas(a.catalog, [{ path: 'one.mp3', meta: META }]);
    await putPlaylist({ remote, catalog: a.catalog, user: 'alice' }, { name: 'Mix', player: 'strawberry', smart: true, entries: [{ path: 'one.mp3' }] });
    await a.catalog.publish();

    const old = v1.makeSchemas({ musicPrefix: MUSIC_PREFIX, logPrefix: LOG_PREFIX, logTime, maxLogEntries: MAX_LOG_ENTRIES, maxSnapshotEntries: MAX_SNAPSHOT_ENTRIES });
    const all = await logs(remote);
    // The same publish wrote the player's put and the playlist's put to logs of their own.
    expect(all).toHaveLength(3);
    const [upload1, meta, lists] = all;
    const first = v1.check(old.log, upload1!.doc, 'log') as LogDoc;
    const again = v1.check(old.log, meta!.doc, 'log') as LogDoc;
    const { at: _a1, tags: _t1, ...put1 } = first.entries[0] as unknown as Record<string, unknown>;
    const { at: _a2, tags: _t2, ...put2 } = again.entries[0] as unknown as Record<string, unknown>;
    expect(put2).toEqual(put1); // the same object: key, size, md5, etag
    expect(again.entries[0]).not.toHaveProperty('player');
    expect(() => v1.check(old.log, lists!.doc, 'log')).toThrow(/not under music\//);
    expect((lists!.doc as LogDoc).entries.every((e) => e.key.startsWith('playlists/'))).toBe(true);

    const snap = await writeSnapshot(remote, a.mirror, a.catalog.playlists, new CatalogState(a.db, remote.url), { writer: 'alice@alice-m', machine: 'alice-m' });
    const raw = JSON.parse(gunzipSync(await remote.read(snap!.key)).toString('utf8')) as SnapshotDoc;
    expect(raw.playlists).toHaveLength(1);
    const seen = v1.check(old.snapshot, raw, 'snapshot') as SnapshotDoc;
    expect(seen.entries.map((e) => e.key)).toEqual(['music/one.mp3']);
    expect(seen).not.toHaveProperty('playlists');
    expect(snap!.key.startsWith(SNAP_PREFIX)).toBe(true);
  });

  it('drops a player meta out of shape, never the log', async () => {
    const remote = await bucket();
    const a = machine(remote, 'alice');
    const b = machine(remote, 'bob');
    await upload(a, remote, 'x.mp3', 'x');
    await upload(a, remote, 'y.mp3', 'y');
    await a.catalog.publish();
    const x = a.mirror.get('music/x.mp3')!;
    const y = a.mirror.get('music/y.mp3')!;
    a.catalog.record({ op: 'put', key: x.key, size: x.size, md5: x.md5!, player: { source: 'mm', rating: 1e9, playCount: -3, tags: { title: 5 } } as never, at: Date.now() });
    a.catalog.record({ op: 'put', key: y.key, size: y.size, md5: y.md5!, player: { rating: 50 } as never, at: Date.now() });
    await a.catalog.publish();
    const problems: never[] = [];
    await b.catalog.refresh({ full: false, problems });
    expect(problems).toEqual([]);
    expect(b.mirror.get('music/x.mp3')?.player).toEqual({ source: 'mm', tags: {} });
    expect(b.mirror.get('music/y.mp3')?.player).toBeUndefined();
    expect(new PlaylistMirror(b.db, remote.url).all()).toEqual([]);
  });
});
