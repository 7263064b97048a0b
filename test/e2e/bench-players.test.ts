/**
 * The bench's players scenario (bench/players.ts) on a small library: the
 * real CLI and service (built) against s3rver through the counting proxy, a
 * copy of the real Strawberry database, the bench's player thread (built).
 * What is checked is that it measures what it says (the attach's output and
 * the server's catalog read, every edit timed, the player's writes timed and
 * its SQLITE_BUSY failures counted, every target judged), never how fast.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startCountingProxy, type CountingProxy } from '../../bench/counting-proxy.js';
import { ensureSet } from '../../bench/library.js';
import { benchPaths } from '../../bench/paths.js';
import { discoverTools } from '../../bench/tools.js';
import { scaleSpec } from '../../bench/scale.js';
import { checkAttach, makeDatabase, PlayerThread, runPlayers, tagsOf } from '../../bench/players.js';
import { renderPlayers } from '../../bench/players-report.js';
import { scenarioTargets } from '../../bench/scenario-report.js';
import { parseOptions } from '../../bench/options.js';

const fixture = fileURLToPath(new URL('../fixtures/players/strawberry-1.0.14.db', import.meta.url));
const SONGS = 200;
const EDITS = 3;

let server: S3rver;
let proxy: CountingProxy;
let tmp: string;
let paths: ReturnType<typeof benchPaths>;
let data: string;

beforeAll(async () => {
  server = await startS3rver();
  proxy = await startCountingProxy(server.endpoint, { metaPrefix: 'dj/.cratesync/' });
  tmp = await mkdtemp(join(tmpdir(), 'cs-bench-players-'));
  paths = { ...benchPaths(), tmp: join(tmp, 'work') };
  data = join(tmp, 'data');
  await mkdir(paths.tmp, { recursive: true });
  await mkdir(data, { recursive: true });
});

afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('the players scenario', () => {
  it('attaches a Strawberry database of the library, times rating edits to the catalog and the player’s writes', { timeout: 180_000 }, async () => {
    const tool = discoverTools(['cratesync'], paths, undefined).tools[0];
    if (!tool) throw new Error('cratesync is not built: run npm run build');
    const set = await ensureSet(data, scaleSpec(SONGS));
    const ctx = { serverPid: undefined, preload: paths.preload, timeoutMs: 60_000, log: () => {} };
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();

    const p = await runPlayers(set, EDITS, { tool, server, proxy, paths, ctx });

    // No timer of the scenario outlives it: one would keep the bench from exiting.
    expect(timers()).toBe(timersBefore);
    expect(p.problems).toEqual([]);
    expect(p.valid).toBe(true);
    expect(p.push?.code).toBe(0);
    expect(p.attach).toMatchObject({
      code: 0,
      uploaded: 0,
      metaPublished: SONGS,
      playlistsUploaded: 1,
      musicStored: 0,
      playlistsStored: 1,
      catalogPlayerEntries: SONGS,
      playlistKeys: ['dj/playlists/bench/Playlist 1.m3u8'],
    });
    expect(p.attach?.peakRssKiB).toBeGreaterThan(0);
    expect(p.serviceStartupUploaded).toBe(0);
    expect(p.lost).toBe(0);
    expect(p.latencySamplesMs).toHaveLength(EDITS);
    for (const s of p.latencySamplesMs) expect(s).toBeGreaterThan(0);
    expect(p.latency).toMatchObject({ count: EDITS });
    expect(p.writes).toMatchObject({ saves: EDITS, errors: 0, busyTimeoutMs: 5000, intervalMs: 20 });
    expect(p.writes!.playCounts).toBeGreaterThan(0);
    expect(p.writes!.count).toBe(p.writes!.playCounts + EDITS);
    expect(p.serviceHwmKiB).toBeGreaterThan(0);

    // Every target judged (met or missed), none left n/a; the table names the three steps.
    const { targets } = scenarioTargets({ players: p });
    expect(targets).toHaveLength(4);
    for (const t of targets) expect(typeof t.met).toBe('boolean');
    expect(renderPlayers(p).join('\n')).toMatch(/attach strawberry[\s\S]*rating edit → catalog log[\s\S]*the player's writes/);
  });

  it('makes the player database from the real fixture: one song per file, the playlist, and the rows Strawberry would hold', async () => {
    const set = await ensureSet(data, scaleSpec(SONGS));
    const file = join(tmp, 'made.db');
    const rowids = await makeDatabase(fixture, file, set, 100);
    const db = new Database(file, { readonly: true });
    try {
      expect(rowids).toHaveLength(SONGS);
      const rows = db.prepare('SELECT ROWID AS id, url, title, artist, album, track, year, rating FROM songs ORDER BY ROWID').all() as Array<Record<string, unknown>>;
      expect(rows).toHaveLength(SONGS);
      const first = set.files[0]!;
      const t = tagsOf(first.path);
      expect(rows[0]).toMatchObject({ id: rowids[0], url: pathToFileURL(join(set.dir, first.path)).href, title: t.title, artist: t.artist, album: t.album, track: t.track, year: t.year, rating: -1 });
      const items = db.prepare('SELECT url FROM playlist_items ORDER BY ROWID').all() as Array<{ url: string }>;
      expect(items.map((i) => i.url)).toEqual(set.files.slice(0, 100).map((f) => pathToFileURL(join(set.dir, f.path)).href));
      expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
    } finally {
      db.close();
    }
    expect(tagsOf('Velvet Harbour/Blue Garden (1999)/07 Late Lights 2.mp3')).toEqual({ artist: 'Velvet Harbour', album: 'Blue Garden', year: 1999, track: 7, title: 'Late Lights 2' });
  });

  it('counts a player write that meets a lock held past its busy timeout as SQLITE_BUSY, and times every write', { timeout: 60_000 }, async () => {
    const set = await ensureSet(data, scaleSpec(SONGS));
    const file = join(tmp, 'locked.db');
    const rowids = await makeDatabase(fixture, file, set, 10);
    const player = await PlayerThread.start(paths.playerWorker, { db: file, busyTimeoutMs: 50, intervalMs: 5, seed: 1 });
    const other = new Database(file);
    try {
      player.send({ type: 'start' });
      await sleep(100);
      other.exec('BEGIN EXCLUSIVE');
      await sleep(400);
      other.exec('COMMIT');
      const saved = await player.save(1, rowids[3]!, 0.6);
      expect(saved).toMatchObject({ ok: true });
      const w = await player.stop();
      expect(w.busy).toBeGreaterThan(0);
      expect(w.errorCount).toBe(0);
      expect(w.saves).toBe(1);
      expect(w.writeMs).toHaveLength(w.playCounts + 1);
      expect(Math.max(...w.writeMs)).toBeGreaterThanOrEqual(40);
      expect((other.prepare('SELECT rating FROM songs WHERE ROWID = ?').get(rowids[3]) as { rating: number }).rating).toBe(0.6);
    } finally {
      other.close();
    }
  });

  it('reads what attach printed', () => {
    const ok = checkAttach('attach: push: 0 uploaded (0 B), 20,000 unchanged, 0 failed in 1.2 s\nattach: metadata of 20,000 songs published, 1 playlist uploaded\n', 20_000);
    expect(ok).toEqual({ problems: [], info: { uploaded: 0, metaPublished: 20_000, playlistsUploaded: 1 } });
    const bad = checkAttach('attach: push: 3 uploaded (9 KB), 1 unchanged, 0 failed in 1 s\nattach: metadata of 2 songs published, 0 playlists uploaded\n', 4);
    expect(bad.problems).toEqual(['it uploaded 3 files (every file was on the remote already)', 'it published the metadata of 2 songs, not 4', 'it uploaded 0 playlists, not 1']);
    expect(checkAttach('', 4).problems).toHaveLength(2);
  });

  it('has its flags: --players-songs (0 skips; --collection-only skips it) and --players-edits', () => {
    expect(parseOptions([])).toMatchObject({ playersSongs: 20_000, playersEdits: 20 });
    expect(parseOptions(['--players-songs', '0', '--players-edits', '3'])).toMatchObject({ playersSongs: 0, playersEdits: 3 });
    expect(parseOptions(['--collection-only']).playersSongs).toBe(0);
    expect(() => parseOptions(['--players-edits', '0'])).toThrow(/--players-edits/);
  });
});
