/**
 * The playlist routes over a real S3 server (s3rver), real state databases
 * and real RemoteCatalogs: a playlist created through the server is an M3U8
 * under playlists/<crew user>/ that a second machine lists; updates add and
 * remove songs (entries the catalog lacks are kept, not counted); a rename
 * and a delete put the old object in the remote trash; another user's and
 * a smart playlist are refused (50); ids that are no playlist of ours are
 * not found (70); answers have OpenSubsonic's shape.
 */
import { describe, expect, it } from 'vitest';
import { S3Remote } from '../remote/s3/s3-remote.js';

import { putPlaylist } from '../sync/playlist-publish.js';
import { remoteTrash } from '../sync/trash-batches.js';
import { subsonicId } from '../core/subsonic-ids.js';
import { SubsonicError } from './api-error.js';
import { playlistRoutes } from './playlist-routes.js';
import { serveMachinesOnS3rver } from '../../test/support/subsonic-lists-machine.js';
import { validateJson } from '../../test/support/subsonic-validate.js';
import type { SubsonicBody } from './route-types.js';

const { bucket, machine } = serveMachinesOnS3rver('serve-lists');

/** The answer as the server sends it in JSON, for the schema. */
function envelope(body: SubsonicBody) {
  return { 'subsonic-response': { status: 'ok', version: '1.16.1', type: 'cratesync', serverVersion: '0.1.0', openSubsonic: true, ...body } };
}

async function text(remote: S3Remote, key: string): Promise<string> {
  return (await remote.read(key)).toString('utf8');
}

async function failure(p: Promise<unknown>): Promise<number> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof SubsonicError)) throw new Error(`expected a SubsonicError, got ${String(err)}`);
  return err.code;
}

type Listed = { playlists: { playlist: Array<Record<string, unknown>> } };
type One = { playlist: Record<string, unknown> & { entry: Array<Record<string, unknown>> } };

async function setUp() {
  const remote = await bucket();
  const a = machine(remote, 'alice');
  const one = await a.upload('House/A - One.mp3', { title: 'One', artist: 'A', album: 'First' });
  const two = await a.upload('House/A - Two.mp3', { title: 'Two', artist: 'A', album: 'First' });
  const three = await a.upload('Techno/B - Three.flac', { title: 'Three', artist: 'B', album: 'Second' });
  return { remote, a, one, two, three };
}

describe('playlist routes', () => {
  it('createPlaylist writes an M3U8 under the crew user, listed here and on a second machine', async () => {
    const { remote, a, one, two } = await setUp();
    const created = (await a.call(playlistRoutes, 'createPlaylist', { name: 'Warm Up', songId: [two.id, one.id] })) as One;
    expect(validateJson('createPlaylist', envelope(created))).toEqual([]);
    const id = subsonicId('playlist', 'playlists/alice/Warm Up.m3u8');
    expect(created.playlist).toMatchObject({ id, name: 'Warm Up', owner: 'alice', public: true, songCount: 2, duration: 400, readonly: false });
    expect(created.playlist.entry.map((e) => e.id)).toEqual([two.id, one.id]);
    expect(await text(remote, 'playlists/alice/Warm Up.m3u8')).toBe('#EXTM3U\n#EXTINF:200,A - Two\nHouse/A - Two.mp3\n#EXTINF:200,A - One\nHouse/A - One.mp3\n');
    expect(a.catalog.pendingCount()).toBe(0); // published at once

    const listed = (await a.call(playlistRoutes, 'getPlaylists')) as Listed;
    expect(validateJson('getPlaylists', envelope(listed))).toEqual([]);
    expect(listed.playlists.playlist).toEqual([expect.objectContaining({ id, name: 'Warm Up', owner: 'alice', songCount: 2 })]);
    const got = (await a.call(playlistRoutes, 'getPlaylist', { id })) as One;
    expect(validateJson('getPlaylist', envelope(got))).toEqual([]);
    expect(got.playlist.entry.map((e) => [e.title, e.path])).toEqual([
      ['Two', 'House/A - Two.mp3'],
      ['One', 'House/A - One.mp3'],
    ]);

    // A second machine (another crew member's server) learns it from the catalog, read-only there.
    const b = machine(remote, 'bob');
    await b.catalog.refresh({ full: false, problems: [] });
    b.index.keys.push(...a.index.keys);
    const seen = (await b.call(playlistRoutes, 'getPlaylists')) as Listed;
    expect(seen.playlists.playlist).toEqual([expect.objectContaining({ id, owner: 'alice', readonly: true })]);
    expect(((await b.call(playlistRoutes, 'getPlaylist', { id })) as One).playlist.entry).toHaveLength(2);
    expect(((await b.call(playlistRoutes, 'getPlaylists', { username: 'bob' })) as Listed).playlists.playlist).toEqual([]);

    // The same name again is refused: nothing is overwritten.
    expect(await failure(a.call(playlistRoutes, 'createPlaylist', { name: 'Warm Up', songId: one.id }))).toBe(0);
    expect(await text(remote, 'playlists/alice/Warm Up.m3u8')).toContain('A - Two');
  });

  it('updatePlaylist adds and removes by the index the client was shown, keeping entries the catalog lacks', async () => {
    const { remote, a, one, two, three } = await setUp();
    // A player's playlist with an entry not (yet) on the remote between two songs.
    await putPlaylist(
      { remote, catalog: a.catalog, user: 'alice' },
      { name: 'Sets/Peak', player: 'strawberry', smart: false, position: 4, entries: [{ path: 'House/A - One.mp3' }, { path: 'Later/Not Yet.mp3' }, { path: 'House/A - Two.mp3' }] },
    );
    await a.catalog.publish();
    const id = subsonicId('playlist', 'playlists/alice/Sets/Peak.m3u8');
    const before = (await a.call(playlistRoutes, 'getPlaylist', { id })) as One;
    expect(before.playlist.entry.map((e) => e.id)).toEqual([one.id, two.id]);

    // Index 1 is the second song shown (Two), not the entry the client never saw.
    expect(await a.call(playlistRoutes, 'updatePlaylist', { playlistId: id, songIndexToRemove: '1', songIdToAdd: [three.id, one.id] })).toEqual({});
    expect(await text(remote, 'playlists/alice/Sets/Peak.m3u8')).toBe(
      '#EXTM3U\n#EXTINF:-1,\nHouse/A - One.mp3\n#EXTINF:-1,\nLater/Not Yet.mp3\n#EXTINF:200,B - Three\nTechno/B - Three.flac\n#EXTINF:200,A - One\nHouse/A - One.mp3\n',
    );
    // What the catalog says of it is kept: the player it came from, its place.
    expect(a.catalog.playlists.get('playlists/alice/Sets/Peak.m3u8')?.playlist).toEqual({ player: 'strawberry', smart: false, name: 'Sets/Peak', position: 4, tracks: 4 });
    const after = (await a.call(playlistRoutes, 'getPlaylist', { id })) as One;
    expect(after.playlist.entry.map((e) => e.id)).toEqual([one.id, three.id, one.id]);

    expect(await failure(a.call(playlistRoutes, 'updatePlaylist', { playlistId: id, songIndexToRemove: '3' }))).toBe(0);
    expect(await failure(a.call(playlistRoutes, 'updatePlaylist', { playlistId: id, songIndexToRemove: '-1' }))).toBe(0);
    expect(await failure(a.call(playlistRoutes, 'updatePlaylist', { playlistId: id, songIdToAdd: 'tr-ffffffffffffffffffff' }))).toBe(70);
    expect(await failure(a.call(playlistRoutes, 'updatePlaylist', { playlistId: id, songIdToAdd: 'music/House/A - One.mp3' }))).toBe(70);
    expect((await text(remote, 'playlists/alice/Sets/Peak.m3u8')).split('\n')).toHaveLength(10); // unchanged

    // createPlaylist with playlistId replaces the songs.
    const replaced = (await a.call(playlistRoutes, 'createPlaylist', { playlistId: id, songId: two.id })) as One;
    expect(replaced.playlist.entry.map((e) => e.id)).toEqual([two.id]);
    expect(await text(remote, 'playlists/alice/Sets/Peak.m3u8')).toBe('#EXTM3U\n#EXTINF:200,A - Two\nHouse/A - Two.mp3\n');
  });

  it('a rename and a delete move the old object to the remote trash; a second machine sees both', async () => {
    const { remote, a, one } = await setUp();
    const created = (await a.call(playlistRoutes, 'createPlaylist', { name: 'Old', songId: one.id })) as One;
    const oldId = created.playlist.id as string;
    await a.call(playlistRoutes, 'updatePlaylist', { playlistId: oldId, name: 'New' });
    const newId = subsonicId('playlist', 'playlists/alice/New.m3u8');
    expect(((await a.call(playlistRoutes, 'getPlaylists')) as Listed).playlists.playlist.map((p) => [p.id, p.name])).toEqual([[newId, 'New']]);
    expect(await failure(a.call(playlistRoutes, 'getPlaylist', { id: oldId }))).toBe(70);
    expect((await remoteTrash(remote)).flatMap((t) => t.items.map((i) => i.path))).toEqual(['playlists/alice/Old.m3u8']);

    expect(await a.call(playlistRoutes, 'deletePlaylist', { id: newId })).toEqual({});
    expect(((await a.call(playlistRoutes, 'getPlaylists')) as Listed).playlists.playlist).toEqual([]);
    const trashed = (await remoteTrash(remote)).flatMap((t) => t.items.map((i) => i.path)).sort();
    expect(trashed).toEqual(['playlists/alice/New.m3u8', 'playlists/alice/Old.m3u8']);
    const left: string[] = [];
    for await (const o of remote.list('playlists/')) left.push(o.key);
    expect(left).toEqual([]);

    const b = machine(remote, 'bob');
    await b.catalog.refresh({ full: false, problems: [] });
    expect(((await b.call(playlistRoutes, 'getPlaylists')) as Listed).playlists.playlist).toEqual([]);
    expect(await failure(a.call(playlistRoutes, 'deletePlaylist', { id: newId }))).toBe(70);
  });

  it("refuses to change another user's playlist or a smart one (50), and what names no playlist of ours (70, 10)", async () => {
    const { remote, a, one } = await setUp();
    const b = machine(remote, 'bob');
    await b.catalog.refresh({ full: false, problems: [] });
    b.index.keys.push(...a.index.keys);
    await b.call(playlistRoutes, 'createPlaylist', { name: 'Bobs', songId: one.id });
    await putPlaylist({ remote, catalog: a.catalog, user: 'alice' }, { name: 'Smart', player: 'strawberry', smart: true, entries: [{ path: 'House/A - One.mp3' }] });
    await a.catalog.publish();
    await a.catalog.refresh({ full: false, problems: [] });

    const bobs = subsonicId('playlist', 'playlists/bob/Bobs.m3u8');
    const smart = subsonicId('playlist', 'playlists/alice/Smart.m3u8');
    const listed = ((await a.call(playlistRoutes, 'getPlaylists')) as Listed).playlists.playlist;
    expect(listed.map((p) => [p.name, p.owner, p.readonly])).toEqual([
      ['Smart', 'alice', true],
      ['Bobs', 'bob', true],
    ]);
    for (const id of [bobs, smart]) {
      expect(await failure(a.call(playlistRoutes, 'updatePlaylist', { playlistId: id, songIdToAdd: one.id }))).toBe(50);
      expect(await failure(a.call(playlistRoutes, 'deletePlaylist', { id }))).toBe(50);
      expect(await failure(a.call(playlistRoutes, 'createPlaylist', { playlistId: id, songId: one.id }))).toBe(50);
    }
    expect(await text(remote, 'playlists/bob/Bobs.m3u8')).toContain('A - One');
    expect(((await a.call(playlistRoutes, 'getPlaylist', { id: bobs })) as One).playlist.entry).toHaveLength(1);

    expect(await failure(a.call(playlistRoutes, 'getPlaylist', { id: 'playlists/bob/Bobs.m3u8' }))).toBe(70);
    expect(await failure(a.call(playlistRoutes, 'getPlaylist', { id: one.id }))).toBe(70);
    expect(await failure(a.call(playlistRoutes, 'getPlaylist', {}))).toBe(10);
    expect(await failure(a.call(playlistRoutes, 'createPlaylist', { songId: one.id }))).toBe(10);
    expect(await failure(a.call(playlistRoutes, 'createPlaylist', { name: 'x\u0007y' }))).toBe(0);
  });

  it('getPlaylist of an object another tool wrote: entries that are no library path are left out', async () => {
    const { remote, a, one } = await setUp();
    await remote.put('playlists/alice/Raw.m3u8', { data: Buffer.from('#EXTM3U\n../../etc/passwd\nhttp://x/y.mp3\nHouse/A - One.mp3\nNowhere.mp3\n') });
    await a.catalog.refresh({ full: true, problems: [] });
    const id = subsonicId('playlist', 'playlists/alice/Raw.m3u8');
    const got = (await a.call(playlistRoutes, 'getPlaylist', { id })) as One;
    expect(got.playlist.entry.map((e) => e.id)).toEqual([one.id]);
    expect(got.playlist).toMatchObject({ name: 'Raw', songCount: 1, owner: 'alice' });
  });
});
