/**
 * beets and Banshee end to end, through the real CLI against s3rver. beets:
 * a library made by the real `beet import` (files left where they are),
 * attached; then what `beet modify`, `beet mv -d` and `beet rm -d` do to the
 * library reaches the remote: a new title (and mpdstats' rating) in the
 * catalog with no audio re-sent, a moved object (paired by content, not
 * uploaded again) and, with `push --delete`, a removed file in the remote
 * trash. Banshee: a database with Banshee's real schema over a library of
 * real files, attached; its songs, a static playlist and a smart playlist
 * (its materialised entries) are published; a Rating saved the way Banshee
 * saves a track, with the smart playlist refreshed the way Banshee refreshes
 * it, reaches the catalog (stars → 0–100) and the remote playlist, and only
 * then. Detach leaves both databases' schemas exactly as they were.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { listObjects } from '../support/s3-objects.js';
import { usePlayerRemote, schemaOf } from '../support/player-remote.js';
import { cli, cliJson } from '../support/cli.js';
import { makeMp3 } from '../fixtures/mp3.js';
import { makeFlac } from '../fixtures/flac.js';
import { makeBeetsLib } from '../fixtures/players/beets-lib.js';
import { makeBansheeDb, sampleBanshee } from '../fixtures/players/banshee-db.js';

const tmp = (name: string) => mkdtemp(join(tmpdir(), `cs-beets-${name}-`));
const remote = usePlayerRemote('beets', () => tmp('home'));
const { catalogMeta, m3uEntries, playlistKeys } = remote;
const schema = schemaOf;

const musicKeys = async (name: string) => [...(await listObjects(remote.s3, name, 'dj/music/')).keys()].sort();

describe('beets (a library made by the real beet)', () => {
  it('attach publishes what beet imported; beet modify, mv -d and rm -d reach the remote without re-sending audio; detach restores the schema', async () => {
    const { bucket: b, url, e } = await remote.bucket();
    const root = await tmp('lib');
    const lib = await makeBeetsLib(root, { albums: 2, tracksPerAlbum: 2, flacShare: 0.5 });
    // One song imported from outside the music directory (import: copy: no leaves it there).
    const outside = join(root, 'elsewhere', 'Stray.mp3');
    await mkdir(dirname(outside), { recursive: true });
    await writeFile(outside, makeMp3({ title: 'Stray', artist: 'Nobody', seed: 99 }));
    await lib.beet('import', '-A', '-q', '-s', outside);
    const player = new Database(lib.db, { readonly: true });
    const idOf = (rel: string) => player.prepare('SELECT id FROM items WHERE path = ?').pluck().get(Buffer.from(join(lib.music, rel))) as number;
    const before = schema(player);
    const key = (rel: string) => `music/${rel}`;
    expect(lib.files).toHaveLength(4);
    const [modified, moved, removed, kept] = lib.files as [string, string, string, string];

    const attached = await cli(e, '--user', 'alice', 'attach', 'beets', url, '--db', lib.db, '--library', lib.music);
    expect(attached.code, attached.stdout + attached.stderr).toBe(1); // partly: Stray.mp3 lies outside the library
    expect(attached.stderr).toMatch(/Stray\.mp3.*outside the library/);
    expect(attached.stdout).toMatch(/attach: push: 4 uploaded/);
    expect(attached.stdout).toMatch(/metadata of 4 songs published, 0 playlists uploaded/);
    expect(await musicKeys(b)).toEqual(lib.files.map((f) => `dj/${key(f)}`).sort());
    const meta = await catalogMeta(b);
    expect(meta.size).toBe(4);
    const [, artist, album, year, track, title] = /^([^/]+)\/(.+) \((\d{4})\)\/(\d\d) (.+)\.(?:mp3|flac)$/.exec(modified)!;
    expect(meta.get(key(modified))).toMatchObject({ source: 'beets', tags: { title, artist, album, albumArtist: artist, year: Number(year), track: Number(track), disc: 1 } });
    expect(meta.get(key(modified))).not.toHaveProperty('rating'); // nothing rated by mpdstats yet

    const players = await cliJson(e, '--user', 'alice', 'players', '--library', lib.music);
    expect(players.json.players[0]).toMatchObject({ name: 'beets', songs: 5, queue: 0, triggers: 'attached' });
    expect(players.json.players[0].problems.map((p: { path: string }) => p.path)).toEqual([outside]);

    // beet modify: a new title and mpdstats' rating (0–1) in the database only (write: no).
    await lib.beet('modify', '-y', 'title=Renamed In Beets', 'rating=0.8', `id:${idOf(modified)}`);
    const edited = await cli(e, '--user', 'alice', 'push', lib.music, url);
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toMatch(/push: 0 uploaded/);
    expect(edited.stdout).toMatch(/metadata of 1 song published, 0 playlists uploaded/);
    expect((await catalogMeta(b)).get(key(modified))).toMatchObject({ source: 'beets', rating: 80, tags: { title: 'Renamed In Beets', artist } });
    expect(await musicKeys(b)).toEqual(lib.files.map((f) => `dj/${key(f)}`).sort());

    // beet mv -d: the file moves to another folder of the library; the remote object follows, not re-sent.
    const dest = join(lib.music, 'Moved');
    await mkdir(dest);
    const movedId = idOf(moved);
    await lib.beet('mv', '-d', dest, `id:${movedId}`);
    const newPath = (player.prepare('SELECT path FROM items WHERE id = ?').pluck().get(movedId) as Buffer).toString('utf8');
    expect(newPath.startsWith(`${dest}/`)).toBe(true);
    const movedRel = relative(lib.music, newPath);
    expect(existsSync(join(lib.music, moved))).toBe(false);
    const mv = await cli(e, '--user', 'alice', 'push', lib.music, url);
    expect(mv.code, mv.stderr).toBe(0);
    expect(mv.stdout).toMatch(/push: 0 uploaded \(0 B\), 1 moved or copied without a transfer, 3 unchanged/);
    expect(mv.stdout).toMatch(/metadata of 1 song published, 0 playlists uploaded/);
    const afterMove = [modified, removed, kept, movedRel].map((f) => `dj/${key(f)}`).sort();
    expect(await musicKeys(b)).toEqual(afterMove);
    const metaMoved = await catalogMeta(b);
    expect(metaMoved.get(key(movedRel))).toMatchObject({ source: 'beets', tags: { title: /^\d\d (.+)\.(?:mp3|flac)$/.exec(moved.split('/')[2]!)![1] } });
    expect(metaMoved.has(key(moved))).toBe(false);

    // beet rm -d: the file is deleted; push --delete moves the object to the remote trash.
    await lib.beet('rm', '-d', '-f', `id:${idOf(removed)}`);
    expect(existsSync(join(lib.music, removed))).toBe(false);
    const rm = await cli(e, '--user', 'alice', 'push', '--delete', lib.music, url);
    expect(rm.code, rm.stdout + rm.stderr).toBe(0);
    expect(rm.stdout).toMatch(/push: 0 uploaded \(0 B\), 3 unchanged, 1 moved to trash/);
    expect(rm.stdout).toMatch(/metadata of 0 songs published, 0 playlists uploaded/);
    expect(await musicKeys(b)).toEqual([modified, kept, movedRel].map((f) => `dj/${key(f)}`).sort());
    const trash = [...(await listObjects(remote.s3, b, 'dj/.cratesync/trash/')).keys()];
    expect(trash).toHaveLength(1);
    expect(trash[0]).toMatch(new RegExp(`^dj/\\.cratesync/trash/[^/]+/${key(removed).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect((await catalogMeta(b)).has(key(removed))).toBe(false);

    const detached = await cli(e, '--user', 'alice', 'detach', 'beets', '--library', lib.music);
    expect(detached.code, detached.stderr).toBe(0);
    expect(schema(player)).toEqual(before);
    player.close();
  }, 240_000);
});

describe('Banshee (a database with Banshee’s real schema)', () => {
  /**
   * Saves a track the way Banshee's DatabaseTrackInfo.Save does: one UPDATE
   * that rewrites every column, with `changes` applied over the current values.
   */
  function saveTrack(d: Database.Database, trackId: number, changes: Record<string, unknown>): void {
    const row = d.prepare('SELECT * FROM CoreTracks WHERE TrackID = ?').get(trackId) as Record<string, unknown>;
    const cols = Object.keys(row).filter((c) => c !== 'TrackID');
    d.prepare(`UPDATE CoreTracks SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE TrackID = ?`).run(...cols.map((c) => (c in changes ? changes[c] : row[c])), trackId);
  }

  it('attach publishes songs, a static and a smart playlist; a Rating save reaches the catalog and the smart playlist, only then; detach restores the schema', async () => {
    const { bucket: b, url, e } = await remote.bucket();
    const lib = join(await tmp('lib'), 'Music');
    const fixture = sampleBanshee(lib);
    // The library's files (not the stream, nor the podcast episode kept outside the music).
    for (const [i, s] of fixture.songs.entries()) {
      if (!s.path || s.source === 'podcast') continue;
      await mkdir(dirname(s.path), { recursive: true });
      const tags = { title: s.title, artist: s.artist, album: s.album, seed: 200 + i };
      await writeFile(s.path, s.path.endsWith('.flac') ? makeFlac(tags) : makeMp3(tags));
    }
    const db = join(await tmp('player'), 'banshee.db');
    const ids = makeBansheeDb(db, fixture);
    const player = new Database(db);
    const before = schema(player);
    const rel = (i: number) => relative(lib, fixture.songs[i]!.path);
    const key = (i: number) => `music/${rel(i)}`;

    const attached = await cli(e, '--user', 'alice', 'attach', 'banshee', url, '--db', db, '--library', lib);
    expect(attached.code, attached.stdout + attached.stderr).toBe(1); // partly: a stream is not a file
    expect(attached.stderr).toMatch(/http:\/\/radio\.example\/stream\.mp3.*not a local file URI/);
    expect(attached.stdout).toMatch(/attach: push: 4 uploaded/);
    expect(attached.stdout).toMatch(/metadata of 4 songs published, 2 playlists uploaded/);
    expect(await musicKeys(b)).toEqual([0, 1, 2, 3].map((i) => `dj/${key(i)}`).sort());

    const meta = await catalogMeta(b);
    expect(meta.get(key(0))).toMatchObject({
      source: 'banshee',
      rating: 100,
      playCount: 12,
      lastPlayed: 1_700_000_000_000,
      tags: { title: 'Hunter', artist: 'Björk', album: 'Homogenic', albumArtist: 'Björk', genre: 'Electronic', year: 1997, track: 1, disc: 1, durationSec: 255 },
    });
    expect(meta.get(key(1))).toMatchObject({ source: 'banshee', rating: 60, playCount: 2 });
    expect(meta.get(key(3))).not.toHaveProperty('rating'); // 0 stars: unrated

    expect([...(await listObjects(remote.s3, b, 'dj/playlists/')).keys()].sort()).toEqual(['dj/playlists/alice/Favourites.m3u8', 'dj/playlists/alice/Road Trip.m3u8']);
    expect(await m3uEntries(b, 'dj/playlists/alice/Road Trip.m3u8')).toEqual([rel(2), rel(0), rel(1)]);
    expect(await m3uEntries(b, 'dj/playlists/alice/Favourites.m3u8')).toEqual([rel(0), rel(2)]);

    // Nothing changed: no metadata, no playlist.
    const idle = await cli(e, '--user', 'alice', 'push', lib, url);
    expect(idle.code, idle.stderr).toBe(0);
    expect(idle.stdout).toMatch(/metadata of 0 songs published, 0 playlists uploaded/);

    // Banshee: Jóga rated five stars (a full-row save), then "Favourites" (rating ≥ 4) refreshed.
    saveTrack(player, ids.trackIds[1]!, { Rating: 5, DateUpdatedStamp: 1_800_000_000 });
    const smart = ids.smartIds[0]!;
    player.exec(`DELETE FROM CoreSmartPlaylistEntries WHERE SmartPlaylistID = ${String(smart)};
      INSERT INTO CoreSmartPlaylistEntries (EntryID, SmartPlaylistID, TrackID)
        SELECT null, ${String(smart)}, TrackID FROM CoreTracks WHERE Rating >= 4 AND PrimarySourceID = 1 ORDER BY TrackID`);
    player.prepare('UPDATE CoreSmartPlaylists SET Name = Name, Condition = Condition, OrderBy = OrderBy, CachedCount = 3 WHERE SmartPlaylistID = ?').run(smart);
    const edited = await cli(e, '--user', 'alice', 'push', lib, url);
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toMatch(/push: 0 uploaded/);
    expect(edited.stdout).toMatch(/metadata of 1 song published, 1 playlist uploaded/);
    expect((await catalogMeta(b)).get(key(1))).toMatchObject({ source: 'banshee', rating: 100, playCount: 2 });
    expect(await m3uEntries(b, 'dj/playlists/alice/Favourites.m3u8')).toEqual([rel(0), rel(1), rel(2)]);
    expect(await m3uEntries(b, 'dj/playlists/alice/Road Trip.m3u8')).toEqual([rel(2), rel(0), rel(1)]);

    const players = await cliJson(e, '--user', 'alice', 'players', '--library', lib);
    expect(players.json.players[0]).toMatchObject({ name: 'banshee', queue: 0, triggers: 'attached' });
    expect(players.json.players[0].problems.map((p: { path: string }) => p.path)).toEqual(['http://radio.example/stream.mp3']);

    const detached = await cli(e, '--user', 'alice', 'detach', 'banshee', '--library', lib);
    expect(detached.code, detached.stderr).toBe(0);
    expect(schema(player)).toEqual(before);
    player.close();
  }, 180_000);
});
