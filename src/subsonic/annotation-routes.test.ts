/**
 * star / unstar / setRating / scrobble over a real S3 server (s3rver), real
 * state databases and real RemoteCatalogs: a song's star, rating and plays
 * land in a catalog log on the remote as its PlayerMeta, merged with what a
 * player said of it, and a second machine (its own state DB, its own
 * catalog) reads them back; album and artist stars stay in the index; a
 * "now playing" scrobble publishes nothing; one bad id changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { S3Remote } from '../remote/s3/s3-remote.js';
import { LOG_PREFIX, type LogDoc } from '../sync/catalog-codec.js';
import { publishPlayerMetas } from '../sync/player-meta.js';
import { SubsonicError } from './api-error.js';
import { annotationRoutes } from './annotation-routes.js';
import { serveMachinesOnS3rver } from '../../test/support/subsonic-lists-machine.js';
import { validateJson } from '../../test/support/subsonic-validate.js';
import type { PlayerMeta } from '../core/tags.js';

const { bucket, machine } = serveMachinesOnS3rver('serve-notes');

async function logs(remote: S3Remote): Promise<LogDoc[]> {
  const keys: string[] = [];
  for await (const o of remote.list(LOG_PREFIX)) keys.push(o.key);
  keys.sort();
  return Promise.all(keys.map(async (k) => JSON.parse(gunzipSync(await remote.read(k)).toString('utf8')) as LogDoc));
}

/** What the newest log says of `key`'s player meta. */
async function lastLogged(remote: S3Remote, key: string): Promise<PlayerMeta | undefined> {
  const all = await logs(remote);
  const e = all
    .at(-1)
    ?.entries.find((x) => x.key === key);
  return e && 'player' in e ? (e.player as PlayerMeta) : undefined;
}

async function failure(p: Promise<unknown>): Promise<number> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof SubsonicError)) throw new Error(`expected a SubsonicError, got ${String(err)}`);
  return err.code;
}

const ok = { 'subsonic-response': { status: 'ok', version: '1.16.1', type: 'cratesync', serverVersion: '0.1.0', openSubsonic: true } };

async function setUp() {
  const remote = await bucket();
  const a = machine(remote, 'alice');
  const one = await a.upload('House/A - One.mp3', { title: 'One', artist: 'A', album: 'First' });
  const two = await a.upload('Techno/B - Two.mp3', { title: 'Two', artist: 'B', album: 'Second' });
  const b = machine(remote, 'bob');
  b.index.keys.push(...a.index.keys);
  /** Bob's machine reads the catalog's new logs: "a second machine sees it". */
  const bobSees = async (key: string) => {
    await b.catalog.refresh({ full: false, problems: [] });
    return b.mirror.get(key)?.player;
  };
  return { remote, a, b, one, two, bobSees };
}

describe('annotation routes', () => {
  it('star and unstar a song: its PlayerMeta in a catalog log, seen by a second machine', async () => {
    const { remote, a, b, one, two, bobSees } = await setUp();
    const before = Date.now();
    const body = await a.call(annotationRoutes, 'star', { id: [one.id, two.id] });
    expect(body).toEqual({});
    expect(validateJson('star', ok)).toEqual([]);
    const logged = await lastLogged(remote, one.key);
    expect(logged).toEqual({ source: 'subsonic', starred: expect.any(Number) });
    expect(logged!.starred).toBeGreaterThanOrEqual(before);
    expect(a.index.refreshes).toBe(1);
    expect(a.index.song(one.id)?.starred).toBe(logged!.starred);

    expect(await bobSees(one.key)).toEqual(logged);
    expect(b.index.song(two.id)?.starred).toBeDefined();
    // The object itself is as it was: a meta moves no file.
    expect(b.mirror.get(one.key)?.md5).toBe(a.mirror.get(one.key)?.md5);

    await a.call(annotationRoutes, 'unstar', { id: one.id });
    expect(await lastLogged(remote, one.key)).toEqual({ source: 'subsonic' });
    expect(await bobSees(one.key)).toEqual({ source: 'subsonic' });
    expect(b.index.song(one.id)?.starred).toBeUndefined();
    expect(b.index.song(two.id)?.starred).toBeDefined();
  });

  it("keeps what a player said of the song (source, tags, rating, plays) and changes only what it is asked", async () => {
    const { remote, a, one, bobSees } = await setUp();
    const META: PlayerMeta = { source: 'strawberry', rating: 80, playCount: 12, lastPlayed: Date.UTC(2026, 10, 1), tags: { title: 'Player Title', genre: 'House' } };
    await publishPlayerMetas(a.catalog, [{ path: 'House/A - One.mp3', meta: META }]);

    await a.call(annotationRoutes, 'star', { id: one.id });
    const starred = await lastLogged(remote, one.key);
    expect(starred).toEqual({ ...META, starred: expect.any(Number) });

    await a.call(annotationRoutes, 'setRating', { id: one.id, rating: '3' });
    expect(await lastLogged(remote, one.key)).toEqual({ ...starred, rating: 60 });
    expect(a.index.song(one.id)?.rating).toBe(60);
    await a.call(annotationRoutes, 'setRating', { id: one.id, rating: '0' });
    const { rating: _gone, ...unrated } = starred!;
    expect(await lastLogged(remote, one.key)).toEqual(unrated);
    expect(await bobSees(one.key)).toEqual(unrated);
  });

  it('scrobble counts plays and keeps the latest time; "now playing" publishes nothing', async () => {
    const { remote, a, one, two, bobSees } = await setUp();
    const logsBefore = (await logs(remote)).length;
    expect(await a.call(annotationRoutes, 'scrobble', { id: one.id, submission: 'false' })).toEqual({});
    expect(await logs(remote)).toHaveLength(logsBefore);

    const t1 = Date.UTC(2026, 10, 29, 20);
    const t2 = Date.UTC(2026, 10, 29, 21);
    await a.call(annotationRoutes, 'scrobble', { id: [one.id, two.id, one.id], time: [String(t2), String(t1), String(t1)] });
    expect(await logs(remote)).toHaveLength(logsBefore + 1); // one log for the lot
    expect(await lastLogged(remote, one.key)).toEqual({ source: 'subsonic', playCount: 2, lastPlayed: t2 });
    expect(await lastLogged(remote, two.key)).toEqual({ source: 'subsonic', playCount: 1, lastPlayed: t1 });

    // A play cached offline and sent late: counted, but the last play stays the latest.
    await a.call(annotationRoutes, 'scrobble', { id: one.id, time: String(t1) });
    expect(await lastLogged(remote, one.key)).toEqual({ source: 'subsonic', playCount: 3, lastPlayed: t2 });
    // No time: now.
    const before = Date.now();
    await a.call(annotationRoutes, 'scrobble', { id: two.id });
    const now = await lastLogged(remote, two.key);
    expect(now?.playCount).toBe(2);
    expect(now!.lastPlayed!).toBeGreaterThanOrEqual(before);
    expect(await bobSees(one.key)).toEqual({ source: 'subsonic', playCount: 3, lastPlayed: t2 });
  });

  it('album and artist stars stay in the index; nothing goes to the catalog', async () => {
    const { remote, a, one } = await setUp();
    const logsBefore = (await logs(remote)).length;
    await a.call(annotationRoutes, 'star', { albumId: one.albumId, artistId: one.artistId });
    await a.call(annotationRoutes, 'star', { id: one.albumId }); // by folder: `id` names the album
    expect([...a.index.stars.keys()].sort()).toEqual([one.albumId, one.artistId].sort());
    expect(await logs(remote)).toHaveLength(logsBefore);
    await a.call(annotationRoutes, 'unstar', { albumId: one.albumId });
    expect([...a.index.stars.keys()]).toEqual([one.artistId]);
  });

  it('one unknown or malformed id fails the request (70) and changes nothing; missing or bad parameters fail too', async () => {
    const { remote, a, one } = await setUp();
    const logsBefore = (await logs(remote)).length;
    expect(await failure(a.call(annotationRoutes, 'star', { id: [one.id, 'tr-ffffffffffffffffffff'] }))).toBe(70);
    expect(await failure(a.call(annotationRoutes, 'star', { id: [one.id, 'music/House/A - One.mp3'] }))).toBe(70);
    expect(await failure(a.call(annotationRoutes, 'star', { id: one.id, albumId: one.artistId }))).toBe(70);
    expect(await failure(a.call(annotationRoutes, 'setRating', { id: one.albumId, rating: '3' }))).toBe(70);
    expect(await failure(a.call(annotationRoutes, 'scrobble', { id: ['tr-ffffffffffffffffffff', one.id] }))).toBe(70);
    expect(await logs(remote)).toHaveLength(logsBefore);
    expect(a.index.song(one.id)?.starred).toBeUndefined();
    expect(a.index.stars.size).toBe(0);

    expect(await failure(a.call(annotationRoutes, 'star', {}))).toBe(10);
    expect(await failure(a.call(annotationRoutes, 'setRating', { id: one.id }))).toBe(10);
    expect(await failure(a.call(annotationRoutes, 'setRating', { id: one.id, rating: '6' }))).toBe(0);
    expect(await failure(a.call(annotationRoutes, 'setRating', { id: one.id, rating: '2.5' }))).toBe(0);
    expect(await failure(a.call(annotationRoutes, 'scrobble', { id: one.id, time: 'yesterday' }))).toBe(0);
    expect(await failure(a.call(annotationRoutes, 'scrobble', { id: [one.id, one.id], time: '1' }))).toBe(0);
    expect(await failure(a.call(annotationRoutes, 'scrobble', { id: one.id, submission: 'maybe' }))).toBe(0);
    expect(await logs(remote)).toHaveLength(logsBefore);
  });

  it("merges into the catalog's latest word: plays on two machines add up", async () => {
    const { remote, a, b, one, bobSees } = await setUp();
    expect(await bobSees(one.key)).toBeUndefined(); // bob's server knows the song, with no plays
    await a.call(annotationRoutes, 'scrobble', { id: one.id });
    // Bob's server has not looked at the catalog since alice's play: it refreshes before it writes.
    await b.call(annotationRoutes, 'scrobble', { id: one.id });
    expect(b.refreshes()).toBe(1);
    expect((await lastLogged(remote, one.key))?.playCount).toBe(2);
  });

  it('requests at once never lose a play: writes run one after another', async () => {
    const { remote, a, one } = await setUp();
    await Promise.all(Array.from({ length: 5 }, () => a.call(annotationRoutes, 'scrobble', { id: one.id })));
    expect((await lastLogged(remote, one.key))?.playCount).toBe(5);
  });
});
