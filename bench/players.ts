/**
 * The media-players scenario (issue 12, "Speed"), cratesync only, against
 * s3rver through the counting proxy:
 * - setup (not judged): a library of the scale sets' small files, pushed
 *   with the CLI; a Strawberry database made from a copy of the real fixture
 *   (test/fixtures/players/strawberry-1.0.14.db) with its songs and playlist
 *   items deleted and one row per file inserted (its file:// URL, title,
 *   artist, album, track, year, length; unrated), and its one playlist given
 *   {@link PLAYLIST_SONGS} of them;
 * - attach: `cratesync attach strawberry --db FILE`, wall time and peak RSS;
 *   it must send no file (no object stored under `dj/music/` while it runs,
 *   as the proxy tells, and its summary says 0 uploaded) and publish the
 *   metadata of every song and the playlist: afterwards the catalog logs on
 *   the server hold a `player` entry for every song, and
 *   `playlists/<user>/Playlist 1.m3u8` holds the playlist's songs;
 * - service latency: the service started on the same config and home, idle
 *   after its start-up run (which must send nothing); then the player
 *   (player-worker.ts, a thread with its own connection and Strawberry's busy
 *   timeout) plays songs, one play-count write every {@link PLAY_INTERVAL_MS},
 *   for the rest of the scenario, and, one at a time, saves a song's rating
 *   with Strawberry's full-row save. A sample runs from that save's commit to
 *   the new rating in a catalog log on the server: the log listing is polled
 *   every {@link POLL_MS} and each new log read (straight from s3rver);
 * - the player's writes: every one timed from its start to its commit; the
 *   largest, p99, and how many failed with SQLITE_BUSY (a player loses them);
 *   and, as their baseline, the same writes for {@link BASELINE_MS} with no
 *   cratesync process running (after the attach, before the service).
 * The player's database lives on a tmpfs (/dev/shm) when there is one: what
 * is measured is how long cratesync's locks hold the player up, not how long
 * this machine's disk takes to sync a commit (tens of ms on a VM's disk, for
 * every write, with or without cratesync).
 * Measured, never asserted: a run gone wrong is a problem and makes the
 * scenario invalid; the targets are judged in players-report.ts.
 */
import { statfsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { S3rver } from '../test/support/s3rver.js';
import type { CountingProxy } from './counting-proxy.js';
import type { LibrarySet } from './library.js';
import type { BenchPaths } from './paths.js';
import { round, runPhase, type PhaseContext } from './phase.js';
import type { PlayerCommand, PlayerReply, PlayerStats, PlayerWorkerData } from './player-worker.js';
import type { PlayersAttach, PlayerWrites, PlayersScenario, SampleFigures } from './results.js';
import { percentile } from './service.js';
import { procMemory, startService } from './service-process.js';
import { baseEnv, type Checked, type Tool } from './tools.js';

/** Songs of the player's one playlist (the first songs of the library). */
export const PLAYLIST_SONGS = 100;
/** The pause between two of the player's play-count writes. */
export const PLAY_INTERVAL_MS = 20;
/** How often the catalog's log listing on the server is polled. */
export const POLL_MS = 50;
/**
 * Strawberry's busy timeout: it opens its database through Qt's QSQLITE
 * driver without connect options (Database::Connect), so the driver's
 * default applies (QSQLiteDriver::open, `timeOut = 5000`, QSQLITE_BUSY_TIMEOUT
 * unset).
 */
export const STRAWBERRY_BUSY_TIMEOUT_MS = 5000;
/** How long the player writes alone (no cratesync process running) before the service starts: the baseline of its writes. */
export const BASELINE_MS = 2000;
/** An edit whose rating is not in the catalog within this long is counted as lost, and the next one made. */
const LATENCY_WAIT_MS = 30_000;
/** The user the playlists are published as: `playlists/<user>/`. */
export const PLAYERS_USER = 'bench';
/** The remote root in the bucket. */
const ROOT = 'dj';
const LOG_PREFIX = `${ROOT}/.cratesync/catalog/log/`;
const PLAYLIST_PREFIX = `${ROOT}/playlists/`;
const MUSIC_PREFIX = `${ROOT}/music/`;
/** Keys in catalog log entries are relative to the remote root. */
const CATALOG_MUSIC = 'music/';
/** The ratings the edits set, in turn (Strawberry keeps 0–1; the catalog 0–100). */
const RATINGS = [0.2, 0.4, 0.6, 0.8, 1];

export interface PlayersEnv {
  /** cratesync. */
  tool: Tool;
  server: S3rver;
  proxy: CountingProxy;
  paths: BenchPaths;
  ctx: PhaseContext;
}

/** runPlayers runs the scenario on `set` (see the top) with `edits` rating edits. Never throws for a run gone wrong. */
export async function runPlayers(set: LibrarySet, edits: number, env: PlayersEnv): Promise<PlayersScenario> {
  const out: PlayersScenario = { songs: set.count, playlistSongs: Math.min(PLAYLIST_SONGS, set.count), edits, setupMs: 0, latencySamplesMs: [], lost: 0, valid: true, problems: [], warnings: [] };
  const fail = (p: string): void => {
    out.problems.push(p);
    out.valid = false;
  };
  try {
    await scenario(set, edits, env, out, fail);
  } catch (err) {
    fail((err as Error).message);
  }
  return out;
}

async function scenario(set: LibrarySet, edits: number, env: PlayersEnv, out: PlayersScenario, fail: (p: string) => void): Promise<void> {
  const { server, proxy, paths, ctx, tool } = env;
  const scratch = join(paths.tmp, 'players');
  await mkdir(scratch, { recursive: true });
  const bucket = 'bench-players';
  await server.createBucket(bucket);
  const home = join(scratch, 'cratesync-home');
  await mkdir(home, { recursive: true });
  const configFile = join(scratch, 'config.json');
  // The set's own folder: a push-mode service writes nothing into its library.
  await writeFile(configFile, `${JSON.stringify({ library: set.dir, remote: `s3://${bucket}/${ROOT}`, endpoint: proxy.endpoint, user: PLAYERS_USER }, null, 2)}\n`);
  const penv = await baseEnv(scratch, { CRATESYNC_HOME: home, NO_COLOR: '1' });
  const s3 = new S3Client({ endpoint: server.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  let dbDir: string | undefined;
  try {
    const push = await runPhase(tool, { command: process.execPath, args: [paths.cli, '--config', configFile, 'push', '--json'], env: penv }, 'players', 'push', { transferred: set.count }, scratch, ctx);
    out.push = push.result;
    push.problems.forEach(fail);
    if (push.problems.length) return;

    ctx.log(`players: a Strawberry database of ${set.count} songs…`);
    const t0 = performance.now();
    dbDir = await playerDbDir(scratch);
    out.playerDb = dbDir.startsWith(scratch) ? 'the bench\'s scratch folder (no tmpfs)' : `tmpfs (${dbDir})`;
    const dbFile = join(dbDir, 'strawberry.db');
    const rowids = await makeDatabase(join(paths.root, 'test', 'fixtures', 'players', 'strawberry-1.0.14.db'), dbFile, set, out.playlistSongs);
    out.setupMs = round(performance.now() - t0);

    out.attach = await attach(tool, configFile, dbFile, penv, set, scratch, env, s3, bucket, fail);
    // An attach that attached (exit 0, or 1 for a part that failed) still leaves the service part worth measuring.
    if (out.attach.code !== 0 && out.attach.code !== 1) return;

    await serviceLatency(set, rowids, edits, configFile, home, penv, dbFile, env, s3, bucket, out, fail);
  } finally {
    s3.destroy();
    await rm(join(server.dir, bucket), { recursive: true, force: true });
    if (dbDir && !dbDir.startsWith(scratch)) await rm(dbDir, { recursive: true, force: true });
  }
}

/** playerDbDir is a fresh folder for the player's database: on /dev/shm when it is a tmpfs (see the top), else in `scratch`. */
async function playerDbDir(scratch: string): Promise<string> {
  try {
    const TMPFS_MAGIC = 0x01021994;
    if (statfsSync('/dev/shm').type === TMPFS_MAGIC) return await mkdtemp('/dev/shm/cratesync-bench-player-');
  } catch {
    // No /dev/shm: the scratch folder.
  }
  const dir = join(scratch, 'player');
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * makeDatabase copies Strawberry's real database to `file`, replaces its
 * songs by one row per file of `set` (as Strawberry's scan would have made
 * them) and its playlist's items by the first `playlistSongs` songs; returns
 * the ROWID of each file's song, in the set's order.
 */
export async function makeDatabase(fixture: string, file: string, set: LibrarySet, playlistSongs: number): Promise<number[]> {
  await copyFile(fixture, file);
  const db = new Database(file);
  try {
    const rowids: number[] = [];
    db.transaction(() => {
      const template = db.prepare('SELECT * FROM songs LIMIT 1').get() as Record<string, unknown> | undefined;
      if (!template) throw new Error(`${fixture}: no song to take as the template of the rows`);
      const playlist = db.prepare('SELECT ROWID AS id FROM playlists ORDER BY ROWID LIMIT 1').get() as { id: number } | undefined;
      if (!playlist) throw new Error(`${fixture}: no playlist`);
      db.prepare('DELETE FROM playlist_items').run();
      db.prepare('DELETE FROM songs').run();
      const columns = Object.keys(template);
      const insert = db.prepare(`INSERT INTO songs (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
      for (const f of set.files) {
        const t = tagsOf(f.path);
        const url = pathToFileURL(join(set.dir, f.path)).href;
        const row = { ...template, url, title: t.title, artist: t.artist, albumartist: t.artist, effective_albumartist: t.artist, album: t.album, track: t.track, disc: 1, year: t.year, filesize: f.size, length: 180 * 1e9, rating: -1, playcount: 0, lastplayed: -1 };
        rowids.push(Number(insert.run(row).lastInsertRowid));
      }
      const item = db.prepare('INSERT INTO playlist_items (playlist, type, url) VALUES (?, 2, ?)');
      for (const f of set.files.slice(0, playlistSongs)) item.run(playlist.id, pathToFileURL(join(set.dir, f.path)).href);
    })();
    return rowids;
  } finally {
    db.close();
  }
}

/** tagsOf reads what a scale set's path says of its file: `Artist/Album (Year)/NN Title.mp3`. */
export function tagsOf(path: string): { artist: string; album: string; year: number; track: number; title: string } {
  const [artist = '', folder = '', name = ''] = path.split('/');
  const m = /^(.*) \((\d{4})\)$/.exec(folder);
  const n = /^(\d+) (.*)\.mp3$/.exec(name);
  return { artist, album: m?.[1] ?? folder, year: Number(m?.[2] ?? -1), track: Number(n?.[1] ?? -1), title: n?.[2] ?? name };
}

async function attach(tool: Tool, configFile: string, dbFile: string, penv: NodeJS.ProcessEnv, set: LibrarySet, scratch: string, env: PlayersEnv, s3: S3Client, bucket: string, fail: (p: string) => void): Promise<PlayersAttach> {
  const { paths, proxy, ctx } = env;
  let musicStored = 0;
  let playlistsStored = 0;
  const off = proxy.onStored((b, key) => {
    if (b !== bucket) return;
    if (key.startsWith(MUSIC_PREFIX)) musicStored++;
    else if (key.startsWith(PLAYLIST_PREFIX)) playlistsStored++;
  });
  let phase;
  try {
    phase = await runPhase(
      { ...tool, check: (stdout) => checkAttach(stdout, set.count) },
      { command: process.execPath, args: [paths.cli, '--config', configFile, 'attach', 'strawberry', '--db', dbFile], env: penv },
      'players',
      'attach',
      {},
      scratch,
      ctx,
    );
  } finally {
    off();
  }
  phase.problems.forEach(fail);
  const info = phase.result.info ?? {};
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const out: PlayersAttach = { ...phase.result, musicStored, playlistsStored, playlistKeys: [] };
  if (num(info.uploaded) !== undefined) out.uploaded = num(info.uploaded)!;
  if (num(info.metaPublished) !== undefined) out.metaPublished = num(info.metaPublished)!;
  if (num(info.playlistsUploaded) !== undefined) out.playlistsUploaded = num(info.playlistsUploaded)!;
  if (musicStored > 0) fail(`attach: ${musicStored} objects stored under ${MUSIC_PREFIX} (every file was on the remote already)`);
  out.catalogPlayerEntries = (await playerEntries(s3, bucket)).size;
  if (out.catalogPlayerEntries !== set.count) fail(`attach: the catalog logs on the server hold a player entry for ${out.catalogPlayerEntries} songs, not ${set.count}`);
  out.playlistKeys = await listKeys(s3, bucket, PLAYLIST_PREFIX);
  const expected = `${PLAYLIST_PREFIX}${PLAYERS_USER}/Playlist 1.m3u8`;
  if (!out.playlistKeys.includes(expected)) fail(`attach: no ${expected} on the server (playlists there: ${out.playlistKeys.join(', ') || 'none'})`);
  else {
    const m3u = (await getObject(s3, bucket, expected)).toString('utf8');
    const entries = m3u.split('\n').filter((l) => l.trim() && !l.startsWith('#')).length;
    const want = Math.min(PLAYLIST_SONGS, set.count);
    if (entries !== want) fail(`attach: ${expected} lists ${entries} songs, not ${want}`);
  }
  ctx.log(`players: attach ${(out.ms / 1000).toFixed(2)} s, ${musicStored} music objects stored, ${out.catalogPlayerEntries} player entries in the catalog, playlists ${out.playlistKeys.join(', ') || 'none'}`);
  return out;
}

/** checkAttach reads what `attach` printed: its push's summary and what it published. */
export function checkAttach(stdout: string, songs: number): Checked {
  const count = (s: string | undefined) => (s === undefined ? undefined : Number(s.replace(/,/g, '')));
  const uploaded = count(/\battach: push: ([\d,]+) uploaded/.exec(stdout)?.[1]);
  const m = /\battach: metadata of ([\d,]+) songs? published.*?([\d,]+) playlists? uploaded/.exec(stdout);
  const metaPublished = count(m?.[1]);
  const playlistsUploaded = count(m?.[2]);
  const problems: string[] = [];
  if (uploaded === undefined) problems.push(`no "attach: push: … uploaded" line in its output: ${JSON.stringify(stdout.slice(0, 300))}`);
  else if (uploaded !== 0) problems.push(`it uploaded ${uploaded} files (every file was on the remote already)`);
  if (metaPublished === undefined) problems.push(`no "attach: metadata of … published" line in its output: ${JSON.stringify(stdout.slice(0, 300))}`);
  else if (metaPublished !== songs) problems.push(`it published the metadata of ${metaPublished} songs, not ${songs}`);
  if (playlistsUploaded !== undefined && playlistsUploaded !== 1) problems.push(`it uploaded ${playlistsUploaded} playlists, not 1`);
  return { problems, info: { ...(uploaded !== undefined ? { uploaded } : {}), ...(metaPublished !== undefined ? { metaPublished } : {}), ...(playlistsUploaded !== undefined ? { playlistsUploaded } : {}) } };
}

async function serviceLatency(
  set: LibrarySet,
  rowids: number[],
  edits: number,
  configFile: string,
  home: string,
  penv: NodeJS.ProcessEnv,
  dbFile: string,
  env: PlayersEnv,
  s3: S3Client,
  bucket: string,
  out: PlayersScenario,
  fail: (p: string) => void,
): Promise<void> {
  const { paths, ctx } = env;
  const player = await PlayerThread.start(paths.playerWorker, { db: dbFile, busyTimeoutMs: STRAWBERRY_BUSY_TIMEOUT_MS, intervalMs: PLAY_INTERVAL_MS, seed: 12 });
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  const watch = new CatalogWatch(s3, bucket);
  try {
    ctx.log(`players: the player alone for ${BASELINE_MS / 1000} s (its writes' baseline)…`);
    player.send({ type: 'start' });
    await sleep(BASELINE_MS);
    out.baseline = writesOf(await player.split());
    ctx.log(`players: baseline: ${out.baseline.playCounts} play counts, longest ${(out.baseline.maxMs ?? 0).toFixed(1)} ms, p99 ${(out.baseline.p99Ms ?? 0).toFixed(1)} ms`);
    for (const e of out.baseline.firstErrors) fail(`a player write failed: ${e}`);
    ctx.log('players: starting the service…');
    const t0 = performance.now();
    service = await startService({ cli: paths.cli, configFile, home, env: penv, timeoutMs: ctx.timeoutMs });
    const first = await service.waitIdle(ctx.timeoutMs, (s) => s.totals.runs >= 1);
    out.serviceStartupMs = round(performance.now() - t0);
    out.serviceStartupUploaded = first.totals.uploaded;
    if (first.totals.uploaded > 0) fail(`the service's start-up run uploaded ${first.totals.uploaded} files`);
    await watch.start();
    ctx.log(`players: ${edits} rating edits, one at a time, while the player writes a play count every ${PLAY_INTERVAL_MS} ms…`);
    for (let i = 0; i < edits; i++) {
      const idx = Math.min(set.count - 1, Math.floor(((i + 0.5) * set.count) / edits));
      const rating = RATINGS[i % RATINGS.length]!;
      const key = `${CATALOG_MUSIC}${set.files[idx]!.path}`;
      const seen = watch.waitFor(key, Math.round(rating * 100), LATENCY_WAIT_MS);
      const saved = await player.save(i, rowids[idx]!, rating);
      if (!saved.ok) {
        // A save that failed (SQLITE_BUSY) is counted with the player's writes: no edit to wait for.
        seen.cancel();
        out.problems.push(`edit ${i + 1}: the player's save failed: ${saved.error ?? '?'}`);
        continue;
      }
      const at = await seen.promise;
      if (at === undefined) {
        out.lost++;
        fail(`edit ${i + 1}: the rating of ${key} was not in a catalog log within ${LATENCY_WAIT_MS / 1000} s of its save`);
      } else out.latencySamplesMs.push(round(at - saved.committedAt));
      if ((i + 1) % 5 === 0 || i + 1 === edits) ctx.log(`players: ${i + 1}/${edits} edits, p50 so far ${((percentile(out.latencySamplesMs, 0.5) ?? 0) / 1000).toFixed(3)} s`);
      // Edits land anywhere in the service's poll cycle, not in step with it.
      await sleep(300 + ((i * 137) % 500));
    }
    out.latency = sampleFigures(out.latencySamplesMs);
    out.serviceHwmKiB = procMemory(service.pid)?.hwmKiB;
    if (watch.error) out.warnings.push(`catalog poll: ${watch.error}`);
  } finally {
    const w = await player.stop();
    out.writes = writesOf(w);
    for (const e of out.writes.firstErrors) fail(`a player write failed: ${e}`);
    ctx.log(`players: ${w.playCounts} play counts and ${w.saves} saves; longest write ${(out.writes.maxMs ?? 0).toFixed(1)} ms, p99 ${(out.writes.p99Ms ?? 0).toFixed(1)} ms, ${w.busy} SQLITE_BUSY`);
    watch.stop();
    if (service) {
      await service.stop();
      for (const f of service.faults()) fail(f);
      out.warnings.push(...service.warnings());
    }
  }
}

/** writesOf sums up what the player thread measured. */
function writesOf(w: PlayerStats): PlayerWrites {
  return { ...sampleFigures(w.writeMs.map(round)), playCounts: w.playCounts, saves: w.saves, busy: w.busy, errors: w.errorCount, firstErrors: w.errors, busyTimeoutMs: STRAWBERRY_BUSY_TIMEOUT_MS, intervalMs: PLAY_INTERVAL_MS };
}

/** sampleFigures sums up samples (ms): nearest-rank p50, p95, p99, largest, smallest, mean. */
export function sampleFigures(samples: readonly number[]): SampleFigures {
  if (samples.length === 0) return { count: 0 };
  return {
    count: samples.length,
    p50Ms: percentile(samples, 0.5)!,
    p95Ms: percentile(samples, 0.95)!,
    p99Ms: percentile(samples, 0.99)!,
    maxMs: Math.max(...samples),
    minMs: Math.min(...samples),
    meanMs: round(samples.reduce((a, b) => a + b, 0) / samples.length),
  };
}

/** The player thread (player-worker.ts), as the scenario drives it: start it, start its play counts, ask for saves, stop it for its figures. */
export class PlayerThread {
  private readonly waiting = new Map<number, (r: Extract<PlayerReply, { type: 'saved' }>) => void>();
  private stopped?: (r: PlayerStats) => void;
  private splits: Array<(r: PlayerStats) => void> = [];
  private failure?: Error;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: PlayerReply) => {
      if (m.type === 'saved') this.waiting.get(m.id)?.(m);
      else if (m.type === 'split') this.splits.shift()?.(m);
      else if (m.type === 'stopped') this.stopped?.(m);
    });
    worker.on('error', (err) => {
      this.failure = err;
      for (const w of this.waiting.values()) w({ type: 'saved', id: -1, ok: false, committedAt: 0, ms: 0, error: `the player thread failed: ${err.message}` });
      for (const f of [...this.splits.splice(0), ...(this.stopped ? [this.stopped] : [])]) f(failed(err));
    });
  }

  static async start(file: string, data: PlayerWorkerData): Promise<PlayerThread> {
    const worker = new Worker(file, { workerData: data });
    const t = new PlayerThread(worker);
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (m: PlayerReply) => (m.type === 'ready' ? resolve() : reject(new Error(`the player thread said ${m.type} first`))));
      worker.once('error', reject);
    });
    return t;
  }

  send(c: PlayerCommand): void {
    this.worker.postMessage(c);
  }

  save(id: number, rowid: number, rating: number): Promise<Extract<PlayerReply, { type: 'saved' }>> {
    if (this.failure) return Promise.resolve({ type: 'saved', id, ok: false, committedAt: 0, ms: 0, error: `the player thread failed: ${this.failure.message}` });
    return new Promise((resolve) => {
      this.waiting.set(id, (r) => {
        this.waiting.delete(id);
        resolve(r);
      });
      this.send({ type: 'save', id, rowid, rating });
    });
  }

  /** split resolves with what the player measured so far and has it count afresh; its writes go on. */
  split(): Promise<PlayerStats> {
    if (this.failure) return Promise.resolve(failed(this.failure));
    return new Promise((resolve) => {
      this.splits.push(resolve);
      this.send({ type: 'split' });
    });
  }

  /** stop ends the player's writes and resolves with what it measured since the last split; the thread exits. */
  async stop(): Promise<PlayerStats> {
    const done = this.failure ? Promise.resolve(failed(this.failure)) : new Promise<PlayerStats>((resolve) => (this.stopped = resolve));
    if (!this.failure) this.send({ type: 'stop' });
    const r = await done;
    await this.worker.terminate();
    return r;
  }
}

function failed(err: Error): PlayerStats {
  return { playCounts: 0, saves: 0, writeMs: [], busy: 0, errorCount: 1, errors: [`the player thread failed: ${err.message}`] };
}

/**
 * The catalog logs on the server as they land: the log listing polled every
 * {@link POLL_MS} (after the newest key seen: one writer stamps its logs in
 * order), each new log read, and the ratings its `player` entries carry
 * matched against what is waited for. Straight to s3rver, not through the
 * proxy: the bench's reads are not cratesync's traffic.
 */
class CatalogWatch {
  private newest: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters = new Set<{ key: string; rating: number; done: (t: number | undefined) => void }>();
  /** The last error of a poll (the next poll tries again). */
  error: string | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  /** start notes the logs already there (not read) and starts polling. */
  async start(): Promise<void> {
    const keys = await listKeys(this.s3, this.bucket, LOG_PREFIX);
    this.newest = keys[keys.length - 1];
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiters) w.done(undefined);
    this.waiters.clear();
  }

  /**
   * waitFor resolves with the time (ms since the epoch) a new log was read
   * that gives `key` (relative to the remote root: `music/…`) `rating`, or
   * undefined after `timeoutMs`.
   */
  waitFor(key: string, rating: number, timeoutMs: number): { promise: Promise<number | undefined>; cancel: () => void } {
    let cancel = () => {};
    const promise = new Promise<number | undefined>((resolve) => {
      const w = {
        key,
        rating,
        done: (t: number | undefined) => {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve(t);
        },
      };
      const timer = setTimeout(() => w.done(undefined), timeoutMs);
      cancel = () => w.done(undefined);
      this.waiters.add(w);
    });
    return { promise, cancel };
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.poll(), POLL_MS);
  }

  private async poll(): Promise<void> {
    try {
      const keys = await listKeys(this.s3, this.bucket, LOG_PREFIX, this.newest);
      for (const key of keys) {
        const entries = await readLog(this.s3, this.bucket, key);
        const at = performance.timeOrigin + performance.now();
        this.newest = key;
        for (const e of entries) {
          if (e.op !== 'put' || !e.player) continue;
          for (const w of this.waiters) if ((e.key === w.key || e.key === `${ROOT}/${w.key}`) && typeof e.player.rating === 'number' && Math.abs(e.player.rating - w.rating) <= 1) w.done(at);
        }
      }
    } catch (err) {
      this.error = (err as Error).message;
    }
    if (this.timer) this.schedule();
  }
}

interface LogEntry {
  op?: string;
  key?: string;
  player?: { rating?: unknown };
}

async function readLog(s3: S3Client, bucket: string, key: string): Promise<LogEntry[]> {
  const doc = JSON.parse(gunzipSync(await getObject(s3, bucket, key)).toString('utf8')) as { entries?: LogEntry[] };
  return Array.isArray(doc.entries) ? doc.entries : [];
}

/** playerEntries are the music keys that have a `player` entry in some catalog log on the server. */
async function playerEntries(s3: S3Client, bucket: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const key of await listKeys(s3, bucket, LOG_PREFIX)) {
    for (const e of await readLog(s3, bucket, key)) if (e.op === 'put' && e.player && typeof e.key === 'string') out.add(e.key);
  }
  return out;
}

/** listKeys lists the keys under `prefix` (after `startAfter`), sorted. */
async function listKeys(s3: S3Client, bucket: string, prefix: string, startAfter?: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, ...(startAfter && !token ? { StartAfter: startAfter } : {}) }));
    for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out.sort();
}

async function getObject(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}
