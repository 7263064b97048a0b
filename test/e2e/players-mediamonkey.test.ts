/**
 * MediaMonkey and Clementine end to end, through the real CLI against
 * s3rver. MediaMonkey: a copy of the real MM.DB (Windows paths
 * `C:\Users\testuser\Desktop\songs\…`) attached with `--map` to a library
 * of real MP3s for some of its songs; edits made with the UPDATEs
 * MediaMonkey's own triggers allow (a rating, a play: PlayCounter,
 * LastTimePlayed and a Played row) reach the catalog, and the
 * auto-playlists whose contents depend on them ("Last 50 played", the
 * "Favorites" ones) change on the remote then, and only then. Clementine:
 * a copy of the real clementine.db, rescanned onto such a library, attached,
 * edited the way Clementine writes (rating, play count, a playlist save) and
 * pushed. Detach leaves both databases' schemas exactly as they were.
 */
import { describe, expect, it } from 'vitest';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, win32 } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { listObjects } from '../support/s3-objects.js';
import { usePlayerRemote, schemaOf } from '../support/player-remote.js';
import { cli, cliJson } from '../support/cli.js';
import { makeMp3 } from '../fixtures/mp3.js';
import { MEDIAMONKEY_FIXTURE, openAsMediaMonkey } from '../fixtures/players/mediamonkey-db.js';

const CLEMENTINE_FIXTURE = fileURLToPath(new URL('../fixtures/players/clementine-1.4.db', import.meta.url));
const tmp = (name: string) => mkdtemp(join(tmpdir(), `cs-mm-${name}-`));
const remote = usePlayerRemote('mm', () => tmp('home'));
const { catalogMeta, m3uEntries, playlistKeys } = remote;
const schema = schemaOf;

/** MediaMonkey's dates: OLE Automation days since 1899-12-30. */
const oleDate = (ms: number) => ms / 86_400_000 + 25569;

describe('MediaMonkey (a real MM.DB, Windows paths)', () => {
  const MM_FOLDER = 'C:\\Users\\testuser\\Desktop\\songs';
  // Songs of Work Mix whose files this machine has: Divine Sounds, Django, L'esbroufe, Suntoucher, One Way Glass.
  const HERE = [2, 3, 5, 10, 55];

  it('attach --map publishes songs, tags and playlists; a rating and plays reach the catalog and move the auto-playlists, only then; detach restores the schema', async () => {
    const { bucket: b, url, e } = await remote.bucket();
    const lib = join(await tmp('lib'), 'Music');
    const db = join(await tmp('player'), 'MM.DB');
    await copyFile(MEDIAMONKEY_FIXTURE, db);
    const mm = openAsMediaMonkey(db);
    const fileOf = (id: number) => win32.basename(mm.prepare('SELECT SongPath FROM Songs WHERE ID = ?').pluck().get(id) as string);
    for (const id of HERE) {
      const s = mm.prepare('SELECT SongTitle, Artist FROM Songs WHERE ID = ?').get(id) as { SongTitle: string; Artist: string };
      await mkdir(join(lib, 'songs'), { recursive: true });
      await writeFile(join(lib, 'songs', fileOf(id)), makeMp3({ title: s.SongTitle, artist: s.Artist, seed: id }));
    }
    const before = schema(mm);
    const key = (id: number) => `music/songs/${fileOf(id)}`;

    const attached = await cli(e, '--user', 'alice', 'attach', 'mediamonkey', url, '--db', db, '--library', lib, '--map', `${MM_FOLDER}=${join(lib, 'songs')}`);
    // partly: three auto-playlists cannot be translated (said, and left as MediaMonkey stored them)
    expect(attached.code, attached.stderr).toBe(1);
    expect(attached.stdout).toMatch(/attach: push: 5 uploaded/);
    expect(attached.stdout).toMatch(/metadata of 5 songs published, 71 not in the library \(the player lists files that are gone\), 9 playlists uploaded/);
    expect(attached.stderr).toMatch(/Accessible Tracks: MediaMonkey auto-playlist not translated/);
    expect([...(await listObjects(remote.s3, b, 'dj/music/')).keys()].sort()).toEqual(HERE.map((id) => `dj/${key(id)}`).sort());

    const meta = await catalogMeta(b);
    expect(meta.size).toBe(5);
    const glass = meta.get(key(55));
    expect(glass).toMatchObject({
      source: 'mediamonkey',
      playCount: 0,
      tags: { title: 'One Way Glass', artist: 'Manfred Mann Chapter Three', album: 'Manfred Mann Chapter Three', genre: 'Jazz', year: 1999, track: 7 },
    });
    expect(glass).not.toHaveProperty('rating'); // -1: unrated
    expect(glass!.tags).toMatchObject({ durationSec: 215.64 });

    // Playlists: a folder's child under the folder (the folder, holding no songs, is none itself), the entries in MediaMonkey's SongOrder.
    expect(await playlistKeys(b)).toEqual(
      [
        'Accessible Tracks', 'Favorites - 1 Audio CD Worth (74 min)', 'Favorites - 1 MP3 CD Worth (650 MB)', 'Favorites - Not Heard Recently (1 hr)',
        'Favorites - Top 50', 'Imported playlists/KSP', 'Last 50 played', 'Recently Added', 'Work Mix',
      ].map((n) => `dj/playlists/alice/${n}.m3u8`).sort(),
    );
    const workMix = (mm.prepare('SELECT IDSong FROM PlaylistSongs WHERE IDPlaylist = 16 ORDER BY SongOrder').pluck().all() as number[]).map((id) => `songs/${fileOf(id)}`);
    expect(workMix).toHaveLength(25);
    expect(await m3uEntries(b, 'dj/playlists/alice/Work Mix.m3u8')).toEqual(workMix);
    expect(await m3uEntries(b, 'dj/playlists/alice/Last 50 played.m3u8')).toEqual([]);
    expect(await m3uEntries(b, 'dj/playlists/alice/Favorites - Not Heard Recently (1 hr).m3u8')).toEqual([]);

    // Nothing changed: nothing goes out, no playlist either.
    const idle = await cli(e, '--user', 'alice', 'push', lib, url);
    expect(idle.code, idle.stderr).toBe(0);
    expect(idle.stdout).toMatch(/metadata of 0 songs published, 71 not in the library \(the player lists files that are gone\), 0 playlists uploaded/);

    // MediaMonkey rates One Way Glass four stars, then plays Django and, later, Suntoucher.
    mm.prepare('UPDATE Songs SET Rating = 80 WHERE ID = ?').run(55);
    const play = (id: number, at: number) =>
      mm.transaction(() => {
        mm.prepare('UPDATE Songs SET PlayCounter = PlayCounter + 1, LastTimePlayed = ? WHERE ID = ?').run(oleDate(at), id);
        mm.prepare('INSERT INTO Played (IDSong, PlayDate, UTCOffset) VALUES (?, ?, 0)').run(id, oleDate(at));
      })();
    const t0 = Date.UTC(2026, 10, 29, 20, 0, 0);
    play(3, t0);
    play(10, t0 + 300_000);
    const edited = await cli(e, '--user', 'alice', 'push', lib, url);
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toMatch(/push: 0 uploaded/);
    // the three songs; "Last 50 played", "Favorites - Not Heard Recently" and "Favorites - 1 Audio CD Worth"
    expect(edited.stdout).toMatch(/metadata of 3 songs published, 71 not in the library \(the player lists files that are gone\), 3 playlists uploaded/);
    const after = await catalogMeta(b);
    expect(after.get(key(55))).toMatchObject({ source: 'mediamonkey', rating: 80, playCount: 0 });
    expect(after.get(key(3))).toMatchObject({ playCount: 1, lastPlayed: t0 });
    expect(after.get(key(10))).toMatchObject({ playCount: 1, lastPlayed: t0 + 300_000 });
    expect((await listObjects(remote.s3, b, 'dj/music/')).size).toBe(5);
    expect(await m3uEntries(b, 'dj/playlists/alice/Last 50 played.m3u8')).toEqual([`songs/${fileOf(10)}`, `songs/${fileOf(3)}`]);
    expect(await m3uEntries(b, 'dj/playlists/alice/Favorites - Not Heard Recently (1 hr).m3u8')).toEqual([`songs/${fileOf(55)}`]);
    expect(await m3uEntries(b, 'dj/playlists/alice/Favorites - 1 Audio CD Worth (74 min).m3u8')).toEqual([`songs/${fileOf(55)}`]);

    // Played again (Django, now the latest): the order of "Last 50 played" follows.
    play(3, t0 + 600_000);
    const again = await cli(e, '--user', 'alice', 'push', lib, url);
    expect(again.stdout).toMatch(/metadata of 1 song published, 71 not in the library \(the player lists files that are gone\), 1 playlist uploaded/);
    expect(await m3uEntries(b, 'dj/playlists/alice/Last 50 played.m3u8')).toEqual([`songs/${fileOf(3)}`, `songs/${fileOf(10)}`]);
    expect((await catalogMeta(b)).get(key(3))).toMatchObject({ playCount: 2 });

    const players = await cliJson(e, '--user', 'alice', 'players', '--library', lib);
    expect(players.json.players).toHaveLength(1);
    expect(players.json.players[0]).toMatchObject({ name: 'mediamonkey', songs: 76, queue: 0, triggers: 'attached' });
    expect(players.json.players[0].problems.map((p: { path: string }) => p.path).sort()).toEqual(['Accessible Tracks', 'Favorites - 1 MP3 CD Worth (650 MB)', 'Favorites - Top 50']);

    // Another machine pulls them: a child playlist in its folder, its entries relative to it, pointing at the files.
    const libB = join(await tmp('libB'), 'Music');
    const pulled = await cli({ home: await tmp('homeB'), env: { ...e.env } }, '--user', 'bob', 'pull', libB, url);
    expect(pulled.code, pulled.stderr).toBe(0);
    const ksp = (await readFile(join(libB, 'Playlists', 'alice', 'Imported playlists', 'KSP.m3u8'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
    const kspIds = mm.prepare('SELECT IDSong FROM PlaylistSongs WHERE IDPlaylist = 14 ORDER BY SongOrder').pluck().all() as number[];
    expect(ksp).toEqual(kspIds.map((id) => `../../../songs/${fileOf(id)}`));
    const last = (await readFile(join(libB, 'Playlists', 'alice', 'Last 50 played.m3u8'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(last).toEqual([`../../songs/${fileOf(3)}`, `../../songs/${fileOf(10)}`]);
    for (const rel of last) await expect(readFile(join(libB, 'Playlists', 'alice', rel))).resolves.toBeInstanceOf(Buffer);

    const detached = await cli(e, '--user', 'alice', 'detach', 'mediamonkey', '--library', lib);
    expect(detached.code, detached.stderr).toBe(0);
    expect(schema(mm)).toEqual(before);
    mm.close();
  }, 240_000);
});

describe('Clementine (a real clementine.db)', () => {
  it('attach publishes songs and a playlist, says the song outside the library; a rating, a play and a playlist save reach the remote; detach restores the schema', async () => {
    const { bucket: b, url, e } = await remote.bucket();
    const lib = join(await tmp('lib'), 'Music');
    const SONGS = ['ArtistA/Album1/01 First.mp3', 'ArtistA/Album1/02 Second.mp3', 'ArtistA/Album1/03 Third.mp3'];
    for (const [i, rel] of SONGS.entries()) {
      await mkdir(join(lib, rel, '..'), { recursive: true });
      await writeFile(join(lib, rel), makeMp3({ title: `Title ${i + 1}`, artist: 'Artist A', track: i + 1, seed: 100 + i }));
    }
    const db = join(await tmp('player'), 'clementine.db');
    await copyFile(CLEMENTINE_FIXTURE, db);
    const player = new Database(db);
    // A rescan onto this library: three songs' files are here now (Clementine keeps `filename` as a BLOB URL);
    // the fourth stays at /tmp/music, outside the library.
    SONGS.forEach((rel, i) => {
      player.prepare('UPDATE songs SET filename = ?, artist = ?, rating = -1 WHERE ROWID = ?').run(Buffer.from(pathToFileURL(join(lib, rel)).href), 'Artist A', i + 1);
    });
    // Clementine's PlaylistBackend::SavePlaylist: every item deleted, then inserted again (library items by id).
    const savePlaylist = (ids: number[]) =>
      player.transaction(() => {
        player.prepare('DELETE FROM playlist_items WHERE playlist = 1').run();
        for (const id of ids) player.prepare("INSERT INTO playlist_items (playlist, type, library_id) VALUES (1, 'Library', ?)").run(id);
      })();
    savePlaylist([3, 1, 4]);
    const before = schema(player);

    const attached = await cli(e, '--user', 'alice', 'attach', 'clementine', url, '--db', db, '--library', lib);
    expect(attached.code, attached.stderr).toBe(1); // partly: one song lies outside the library
    expect(attached.stderr).toMatch(/04 Fourth\.wav.*outside the library/);
    expect(attached.stderr).toMatch(/Playlist 1: 1 of its songs are not in the library/);
    expect(attached.stdout).toMatch(/attach: push: 3 uploaded/);
    expect(attached.stdout).toMatch(/metadata of 3 songs published, 1 playlist uploaded/);
    const meta = await catalogMeta(b);
    expect(meta.get(`music/${SONGS[0]}`)).toMatchObject({ source: 'clementine', playCount: 0, tags: { title: '01 First', artist: 'Artist A' } });
    expect(meta.get(`music/${SONGS[0]}`)).not.toHaveProperty('rating');
    expect(await playlistKeys(b)).toEqual(['dj/playlists/alice/Playlist 1.m3u8']);
    // the song outside the library is left out (and said)
    expect(await m3uEntries(b, 'dj/playlists/alice/Playlist 1.m3u8')).toEqual([SONGS[2], SONGS[0]]);

    // LibraryBackend::UpdateSongRating and IncrementPlayCount, as Clementine runs them.
    player.prepare('UPDATE songs SET rating = :rating WHERE ROWID = :id').run({ rating: 0.6, id: 2 });
    const now = Math.floor(Date.UTC(2026, 10, 29, 21, 0, 0) / 1000);
    player.prepare('UPDATE songs SET playcount = playcount + 1, lastplayed = :now, score = max(0, score + 1) WHERE ROWID = :id').run({ now, id: 1 });
    const edited = await cli(e, '--user', 'alice', 'push', lib, url);
    // the playlist did not change: what it leaves out was said when it went out, not on every push
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toMatch(/metadata of 2 songs published, 0 playlists uploaded/);
    const after = await catalogMeta(b);
    expect(after.get(`music/${SONGS[1]}`)).toMatchObject({ source: 'clementine', rating: 60 });
    expect(after.get(`music/${SONGS[0]}`)).toMatchObject({ playCount: 1, lastPlayed: now * 1000 });
    expect((await listObjects(remote.s3, b, 'dj/music/')).size).toBe(3);

    // The playlist saved again, Second added at the top.
    savePlaylist([2, 3, 1, 4]);
    const saved = await cli(e, '--user', 'alice', 'push', lib, url);
    expect(saved.stdout).toMatch(/metadata of 0 songs published, 1 playlist uploaded/);
    // what it leaves out is said again when it goes out (and only then: the edit's push above succeeded)
    expect(saved.code).toBe(1);
    expect(saved.stderr).toMatch(/Playlist 1: 1 of its songs are not in the library/);
    expect(await m3uEntries(b, 'dj/playlists/alice/Playlist 1.m3u8')).toEqual([SONGS[1], SONGS[2], SONGS[0]]);

    const players = await cliJson(e, '--user', 'alice', 'players', '--library', lib);
    expect(players.json.players[0]).toMatchObject({ name: 'clementine', songs: 4, queue: 0, triggers: 'attached' });
    expect(players.json.players[0].problems.map((p: { path: string }) => p.path)).toContain('/tmp/music/ArtistA/Album1/04 Fourth.wav');

    const detached = await cli(e, '--user', 'alice', 'detach', 'clementine', '--library', lib);
    expect(detached.code, detached.stderr).toBe(0);
    expect(schema(player)).toEqual(before);
    player.close();
  }, 180_000);
});
