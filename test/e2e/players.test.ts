/**
 * Media players end to end: a copy of the real Strawberry database pointed at
 * a library of real tagged MP3s, attached with the real CLI against s3rver;
 * the SQL writes Strawberry really makes (a full-row UPDATE on every save,
 * delete-and-reinsert of a playlist's items) reach the remote catalog and
 * the playlists under playlists/<user>/; another machine pulls them; detach
 * leaves the database's schema exactly as it was. Then the same through a
 * running service, with a player upgrade that drops the triggers, and an
 * edit published while the service's run is stuck in an upload.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { getObject, listObjects } from '../support/s3-objects.js';
import { usePlayerRemote, schemaOf } from '../support/player-remote.js';
import { cli, cliJson, type CliEnv } from '../support/cli.js';
import { startService, waitFor, type ServiceProcess } from '../support/service-process.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { makeMp3 } from '../fixtures/mp3.js';

const fixture = fileURLToPath(new URL('../fixtures/players/strawberry-1.0.14.db', import.meta.url));
const tmp = (name: string) => mkdtemp(join(tmpdir(), `cs-players-${name}-`));
const remote = usePlayerRemote('players', () => tmp('home'));
const { catalogMeta } = remote;
const schema = schemaOf;
const running: ServiceProcess[] = [];

afterEach(async () => {
  for (const s of running.splice(0)) {
    s.child.kill('SIGKILL');
    await s.exited;
  }
});

const SONGS = [
  { file: 'ArtistA/Album1/01 First.mp3', title: 'First', artist: 'Artist A' },
  { file: 'ArtistA/Album1/02 Second.mp3', title: 'Second', artist: 'Artist A' },
  { file: 'ArtistB/Été #2/03 Third & Co.mp3', title: 'Third', artist: 'Artist B' },
];

interface Setup {
  bucket: string;
  url: string;
  lib: string;
  db: string;
  e: CliEnv;
  /** The player's connection, as Strawberry holds it. */
  player: Database.Database;
}

/** A library of real MP3s and a copy of the real Strawberry database pointing at them (plus one song outside the library). */
async function setup(): Promise<Setup> {
  const { bucket, url: remoteUrl, e } = await remote.bucket();
  const lib = join(await tmp('lib'), 'Music');
  for (const [i, s] of SONGS.entries()) {
    await mkdir(join(lib, s.file, '..'), { recursive: true });
    await writeFile(join(lib, s.file), makeMp3({ title: s.title, artist: s.artist, track: i + 1, seed: i }));
  }
  const db = join(await tmp('player'), 'strawberry.db');
  await copyFile(fixture, db);
  const player = new Database(db);
  // Strawberry's rows point at /tmp/music/*.wav: point them at this library, as a rescan would.
  const rows = player.prepare('SELECT ROWID AS id FROM songs ORDER BY ROWID').all() as Array<{ id: number }>;
  const urls = [...SONGS.map((s) => pathToFileURL(join(lib, s.file)).href), pathToFileURL('/elsewhere/Outside.mp3').href];
  rows.forEach((r, i) => {
    const url = urls[i] ?? pathToFileURL(`/elsewhere/extra-${i}.mp3`).href;
    player.prepare('UPDATE songs SET url = ?, title = ?, artist = ? WHERE ROWID = ?').run(url, SONGS[i]?.title ?? 'Outside', SONGS[i]?.artist ?? 'Nobody', r.id);
  });
  player.prepare('INSERT INTO songs (url, title, artist) VALUES (?, ?, ?)').run(urls[3], 'Outside', 'Nobody');
  player.prepare('DELETE FROM playlist_items').run();
  const pl = player.prepare('SELECT ROWID AS id FROM playlists LIMIT 1').get() as { id: number };
  for (const u of [urls[2], urls[0], urls[1]]) player.prepare('INSERT INTO playlist_items (playlist, type, url) VALUES (?, 2, ?)').run(pl.id, u);
  return { bucket, url: remoteUrl, lib, db, e, player };
}

/** What Strawberry does on every save of a song: every column written, one of them changed. */
function saveSong(player: Database.Database, url: string, change: Record<string, unknown>): void {
  const row = player.prepare('SELECT * FROM songs WHERE url = ?').get(url) as Record<string, unknown>;
  const cols = Object.keys(row);
  player.prepare(`UPDATE songs SET ${cols.map((c) => `${c} = @${c}`).join(', ')} WHERE url = @url`).run({ ...row, ...change });
}

/** What Strawberry does on every save of a playlist: all its items deleted, then inserted again. */
function savePlaylist(player: Database.Database, id: number, urls: string[]): void {
  player.transaction(() => {
    player.prepare('DELETE FROM playlist_items WHERE playlist = ?').run(id);
    for (const u of urls) player.prepare('INSERT INTO playlist_items (playlist, type, url) VALUES (?, 2, ?)').run(id, u);
  })();
}


const url = (s: Setup, i: number) => pathToFileURL(join(s.lib, SONGS[i]!.file)).href;

describe('media players', () => {
  it('attach sends nothing already there, publishes metadata and playlists; edits and playlist saves follow; another machine pulls the playlist; detach restores the schema', async () => {
    const s = await setup();
    const before = schema(s.player);
    const pushed = await cli(s.e, '--user', 'alice', 'push', s.lib, s.url);
    expect(pushed.code, pushed.stderr).toBe(0);
    const musicPuts = (await listObjects(remote.s3, s.bucket, 'dj/music/')).size;
    expect(musicPuts).toBe(3);

    const attached = await cli(s.e, '--user', 'alice', 'attach', 'strawberry', s.url, '--db', s.db, '--library', s.lib);
    expect(attached.code, attached.stderr).toBe(1); // partly: one song lies outside the library
    expect(attached.stderr).toMatch(/Outside\.mp3.*outside the library/);
    expect(attached.stdout).toMatch(/0 uploaded/);
    expect(attached.stdout).toMatch(/metadata of 3 songs published, 1 playlist uploaded/);
    const meta = await catalogMeta(s.bucket);
    expect(meta.get('music/ArtistA/Album1/01 First.mp3')).toMatchObject({ source: 'strawberry', tags: { title: 'First' } });
    const playlists = [...(await listObjects(remote.s3, s.bucket, 'dj/playlists/')).keys()];
    expect(playlists).toEqual(['dj/playlists/alice/Playlist 1.m3u8']);
    const m3u = (await getObject(remote.s3, s.bucket, playlists[0]!)).toString('utf8');
    expect(m3u.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([SONGS[2]!.file, SONGS[0]!.file, SONGS[1]!.file]);

    // A rating set in the player: a full-row save. Reaches the catalog; no audio is sent again.
    saveSong(s.player, url(s, 0), { rating: 0.8, playcount: 7 });
    const edit = await cli(s.e, '--user', 'alice', 'push', s.lib, s.url);
    expect(edit.code, edit.stderr).toBe(0);
    expect(edit.stdout).toMatch(/metadata of 1 song published/);
    expect((await catalogMeta(s.bucket)).get('music/ArtistA/Album1/01 First.mp3')).toMatchObject({ rating: 80, playCount: 7 });
    expect((await listObjects(remote.s3, s.bucket, 'dj/music/')).size).toBe(3);

    // A save that changes nothing publishes nothing.
    saveSong(s.player, url(s, 0), {});
    expect((await cli(s.e, '--user', 'alice', 'push', s.lib, s.url)).stdout).toMatch(/metadata of 0 songs published, 0 playlists uploaded/);

    // The playlist saved in a new order, then renamed.
    const pl = (s.player.prepare('SELECT ROWID AS id FROM playlists LIMIT 1').get() as { id: number }).id;
    savePlaylist(s.player, pl, [url(s, 0), url(s, 1), url(s, 2)]);
    expect((await cli(s.e, '--user', 'alice', 'push', s.lib, s.url)).stdout).toMatch(/1 playlist uploaded/);
    const reordered = (await getObject(remote.s3, s.bucket, 'dj/playlists/alice/Playlist 1.m3u8')).toString('utf8');
    expect(reordered.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(SONGS.map((x) => x.file));
    s.player.prepare('UPDATE playlists SET name = ? WHERE ROWID = ?').run('Warm-up', pl);
    expect((await cli(s.e, '--user', 'alice', 'push', s.lib, s.url)).stdout).toMatch(/1 playlist uploaded/);
    expect([...(await listObjects(remote.s3, s.bucket, 'dj/playlists/')).keys()]).toEqual(['dj/playlists/alice/Warm-up.m3u8']);
    const trash = [...(await listObjects(remote.s3, s.bucket, 'dj/.cratesync/trash/')).keys()];
    expect(trash.some((k) => k.endsWith('playlists/alice/Playlist 1.m3u8'))).toBe(true);

    const players = await cliJson(s.e, '--user', 'alice', 'players', '--library', s.lib);
    expect(players.json.players).toHaveLength(1);
    expect(players.json.players[0]).toMatchObject({ name: 'strawberry', songs: 4, queue: 0, triggers: 'attached' });
    expect(players.json.players[0].problems.map((p: { path: string }) => p.path)).toEqual(['/elsewhere/Outside.mp3']);
    const lists = await cliJson(s.e, '--user', 'alice', 'playlists', s.url, '--library', s.lib);
    expect(lists.json.local).toEqual([expect.objectContaining({ player: 'strawberry', name: 'Warm-up', remoteName: 'Warm-up', tracks: 3 })]);

    // Another machine: a pull brings the playlist, pointing at its own files.
    const libB = join(await tmp('libB'), 'Music');
    const eB: CliEnv = { home: await tmp('homeB'), env: { ...s.e.env } };
    const pulled = await cli(eB, '--user', 'bob', 'pull', libB, s.url);
    expect(pulled.code, pulled.stderr).toBe(0);
    const m3uB = await readFile(join(libB, 'Playlists', 'alice', 'Warm-up.m3u8'), 'utf8');
    const entries = m3uB.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(entries).toHaveLength(3);
    for (const rel of entries) await expect(readFile(join(libB, 'Playlists', 'alice', rel))).resolves.toBeInstanceOf(Buffer);

    const detached = await cli(s.e, '--user', 'alice', 'detach', 'strawberry', '--library', s.lib);
    expect(detached.code, detached.stderr).toBe(0);
    expect(schema(s.player)).toEqual(before);
    expect((await cliJson(s.e, '--user', 'alice', 'players', '--library', s.lib)).json.players).toEqual([]);
    s.player.close();
  }, 240_000);

  it('with the service running: an edit in the player reaches the catalog; an upgrade that drops the triggers is repaired and said', async () => {
    const s = await setup();
    const config = join(s.e.home, 'config.json');
    await writeFile(config, JSON.stringify({ library: s.lib, remote: s.url, user: 'alice', service: { quiet: '200ms' } }));
    const attached = await cli(s.e, '--user', 'alice', '--config', config, 'attach', 'strawberry', '--db', s.db);
    expect(attached.stdout).toMatch(/1 playlist uploaded/);
    const svc = await startService(s.e.home, config, s.e.env);
    running.push(svc);

    saveSong(s.player, url(s, 1), { rating: 0.6 });
    await waitFor('the rating in the catalog', async () => (await catalogMeta(s.bucket)).get('music/ArtistA/Album1/02 Second.mp3')?.rating === 60);

    // A player upgrade rebuilds the songs table: its triggers go with it.
    s.player.exec('ALTER TABLE songs RENAME TO songs_old; CREATE TABLE songs AS SELECT * FROM songs_old; DROP TABLE songs_old;');
    await waitFor('the repair', async () => {
      const st = await cliJson(s.e, '--user', 'alice', '--config', config, 'players');
      return st.json.players[0]?.health === 'repaired' && st.json.players[0]?.triggers === 'attached';
    });
    const status = await cliJson(s.e, '--user', 'alice', '--config', config, 'service', 'status');
    expect(status.json.players?.[0] ?? status.json.status?.players?.[0]).toMatchObject({ name: 'strawberry', health: 'repaired' });
    saveSong(s.player, url(s, 2), { rating: 1 });
    await waitFor('an edit after the repair', async () => (await catalogMeta(s.bucket)).get(`music/${SONGS[2]!.file}`)?.rating === 100);
    s.player.close();
  }, 180_000);
  it('with the service in the middle of an upload: an edit in the player reaches the catalog without waiting for it', async () => {
    const s = await setup();
    const proxy = await startFaultProxy(remote.server.endpoint);
    try {
      const e = { ...s.e, env: { ...s.e.env, AWS_ENDPOINT_URL: proxy.endpoint } };
      const config = join(e.home, 'config.json');
      await writeFile(config, JSON.stringify({ library: s.lib, remote: s.url, user: 'alice', service: { quiet: '200ms' } }));
      await cli(e, '--user', 'alice', '--config', config, 'attach', 'strawberry', '--db', s.db);
      const svc = await startService(e.home, config, e.env);
      running.push(svc);

      // A new file, whose upload the server holds: the service's run waits on it.
      const newFile = 'ArtistC/Single/01 Held.mp3';
      proxy.rules.push({ method: 'PUT', pathIncludes: `/${s.bucket}/dj/music/${newFile}`, action: 'hold', times: 1 });
      await mkdir(join(s.lib, newFile, '..'), { recursive: true });
      await writeFile(join(s.lib, newFile), makeMp3({ title: 'Held', artist: 'Artist C', track: 1, seed: 9 }));
      const held = () => proxy.requests.find((r) => r.method === 'PUT' && r.path.includes(newFile));
      await waitFor('the upload held by the server', () => held() !== undefined);

      saveSong(s.player, url(s, 0), { rating: 0.8 });
      await waitFor('the rating in the catalog', async () => (await catalogMeta(s.bucket)).get(`music/${SONGS[0]!.file}`)?.rating === 80);
      // …while the upload is still unanswered.
      expect(held()?.status).toBeUndefined();

      expect(proxy.release()).toBe(1);
      await waitFor('the held file on the remote', async () => (await listObjects(remote.s3, s.bucket, 'dj/music/')).has(`dj/music/${newFile}`));
    } finally {
      s.player.close();
      await proxy.stop();
    }
  }, 180_000);
});
