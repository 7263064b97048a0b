/**
 * The Subsonic scenario (issue 14, "Speed"), cratesync only, against s3rver:
 * - seed (not judged): a catalog of `tracks` songs written straight to the
 *   bucket with the catalog codec, as pushes would have left it (logs of
 *   {@link LOG_ENTRIES} entries; tags for {@link ARTISTS} album artists of
 *   albums of {@link TRACKS_PER_ALBUM} tracks, forty genres, thirty years),
 *   each entry with a small real object behind it (the server's first full
 *   listing keeps only what the bucket holds), plus one real object of {@link STREAM_BYTES} bytes under `dj/music/`
 *   (catalogued like the others) for the stream samples;
 * - start: `cratesync serve user add` (password on stdin), then `cratesync
 *   serve --listen 127.0.0.1:<free port>` on a machine with no library (the
 *   remote's own state): it reads the catalog and builds its index; the time
 *   from its start to the first answered getArtists is shown, not judged;
 * - requests, one at a time, JSON, token auth (t = md5(password + salt)):
 *   getArtists, search3 (a real query, and the empty query of offline-first
 *   clients, one page of {@link SEARCH_PAGE} songs), getAlbumList2 of every
 *   type, each {@link SAMPLES} times; the stream's first byte (request sent →
 *   first body byte) {@link SAMPLES} times, from s3rver since this machine has
 *   no copy;
 * - memory: the server's VmRSS after the requests and its peak (VmHWM);
 *   then the server is started again on the state it keeps (every start
 *   but a machine's first), asked getArtists, search3 and getAlbumList2, and
 *   its peak read.
 * Measured, never asserted: a request that fails makes the scenario invalid;
 * the targets are judged in subsonic-report.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3rver } from '../test/support/s3rver.js';
import { freePort } from '../test/support/serve-process.js';
import { encodeLog, logKey, type CatalogPut } from '../src/sync/catalog-codec.js';
import { forEachLimit } from '../src/core/concurrency.js';
import type { BenchPaths } from './paths.js';
import { round, type PhaseContext } from './phase.js';
import type { SampleFigures, SubsonicScenario } from './results.js';
import { latencyFigures, percentile } from './service.js';
import { procMemory } from './service-process.js';
import { baseEnv, type Tool } from './tools.js';

/** Entries per catalog log the seed writes. */
export const LOG_ENTRIES = 10_000;
export const TRACKS_PER_ALBUM = 12;
export const ARTISTS = 2_000;
/** Samples of each request. */
export const SAMPLES = 40;
/** Songs per page of the empty search3 (what offline-first clients page through). */
export const SEARCH_PAGE = 500;
/** Size of the object the stream samples read. */
export const STREAM_BYTES = 8 * 1024 * 1024;
const BUCKET = 'bench-subsonic';
const ROOT = 'dj';
const USER = 'bench';
const PASSWORD = 'bench-password';
const GENRES = Array.from({ length: 40 }, (_, i) => `Genre ${i + 1}`);
const WORDS = ['Night', 'Blue', 'Fire', 'Dream', 'River', 'Gold', 'Shadow', 'Light', 'Storm', 'Heart', 'Echo', 'Wild', 'Glass', 'Neon', 'Velvet', 'Stone'];
const STREAM_KEY = 'music/Bench Stream/Stream/01 Stream.mp3';
/** How long the server may take to read the catalog and answer its first getArtists. */
const START_WAIT_MS = 300_000;

export interface SubsonicEnv {
  tool: Tool;
  server: S3rver;
  paths: BenchPaths;
  ctx: PhaseContext;
}

/** runSubsonic runs the scenario with a catalog of `tracks` songs (see the top). Never throws for a run gone wrong. */
export async function runSubsonic(tracks: number, env: SubsonicEnv): Promise<SubsonicScenario> {
  const out: SubsonicScenario = { tracks, seedMs: 0, requests: {}, valid: true, problems: [] };
  const fail = (p: string): void => {
    out.problems.push(p);
    out.valid = false;
  };
  let child: ChildProcess | undefined;
  try {
    child = await scenario(tracks, env, out, fail);
  } catch (err) {
    fail((err as Error).message);
  } finally {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child!.once('exit', r)), sleep(10_000)]);
    }
  }
  return out;
}

async function scenario(tracks: number, env: SubsonicEnv, out: SubsonicScenario, fail: (p: string) => void): Promise<ChildProcess | undefined> {
  const { server, paths, ctx } = env;
  const scratch = join(paths.tmp, 'subsonic');
  const home = join(scratch, 'cratesync-home');
  await mkdir(home, { recursive: true });
  await server.createBucket(BUCKET);
  ctx.log(`subsonic: seeding a catalog of ${tracks.toLocaleString('en-US')} songs…`);
  const t0 = performance.now();
  await seed(server.endpoint, tracks);
  out.seedMs = round(performance.now() - t0);

  const configFile = join(scratch, 'config.json');
  await writeFile(configFile, `${JSON.stringify({ remote: `s3://${BUCKET}/${ROOT}`, endpoint: server.endpoint, user: USER }, null, 2)}\n`);
  const penv = await baseEnv(scratch, { CRATESYNC_HOME: home, NO_COLOR: '1' });
  const add = await runCli(paths.cli, ['--config', configFile, 'serve', 'user', 'add', USER, '--password-stdin'], penv, `${PASSWORD}\n`);
  if (add.code !== 0) {
    fail(`serve user add exited ${add.code}: ${add.stderr.trim().split('\n')[0] ?? ''}`);
    return undefined;
  }

  const serving = await startServer(paths.cli, configFile, penv);
  let child = serving.child;
  let call = serving.call;
  const first = await serving.ready;
  if (!first.ok) {
    fail(first.why);
    return child;
  }
  const base = serving.base;
  out.startMs = first.ms;
  const artists = countIn(first.body, 'artists');
  out.artists = artists;
  if (artists === 0) fail('getArtists answered no artist');
  ctx.log(`subsonic: serving after ${(first.ms / 1000).toFixed(1)} s, ${artists} artists`);

  const sample = async (name: string, method: string, params: () => Record<string, string>, check?: (body: unknown) => string | undefined): Promise<void> => {
    const ms: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t = performance.now();
      const r = await call(method, params());
      ms.push(performance.now() - t);
      const why = !r.ok ? JSON.stringify(r.body).slice(0, 200) : check?.(r.body);
      if (why) return fail(`${name}: ${why}`);
    }
    out.requests[name] = figures(ms);
  };
  let w = 0;
  await sample('getArtists', 'getArtists', () => ({}));
  await sample('search3 (a word)', 'search3', () => ({ query: WORDS[w++ % WORDS.length]!, songCount: '20', albumCount: '20', artistCount: '20' }), (b) =>
    countIn(b, 'searchResult3') === 0 ? 'found nothing for a word every tenth title has' : undefined,
  );
  let page = 0;
  await sample(`search3 (empty query, ${SEARCH_PAGE}-song pages)`, 'search3', () => ({ query: '', songCount: String(SEARCH_PAGE), songOffset: String((page++ * SEARCH_PAGE) % tracks), albumCount: '0', artistCount: '0' }), (b) =>
    countIn(b, 'searchResult3') === 0 ? 'an empty query gave no song' : undefined,
  );
  const types: Array<[string, Record<string, string>]> = [
    ['newest', {}],
    ['random', {}],
    ['alphabeticalByName', {}],
    ['alphabeticalByArtist', {}],
    ['frequent', {}],
    ['recent', {}],
    ['starred', {}],
    ['highest', {}],
    ['byYear', { fromYear: '1990', toYear: '2000' }],
    ['byGenre', { genre: 'Genre 7' }],
  ];
  const listMs: number[] = [];
  for (const [type, extra] of types) {
    let offset = 0;
    const ms: number[] = [];
    for (let i = 0; i < SAMPLES / 4; i++) {
      const t = performance.now();
      const r = await call('getAlbumList2', { type, size: '50', offset: String(offset), ...extra });
      ms.push(performance.now() - t);
      offset += 50;
      if (!r.ok) fail(`getAlbumList2 ${type}: ${JSON.stringify(r.body).slice(0, 200)}`);
    }
    listMs.push(...ms);
  }
  out.requests['getAlbumList2 (every type)'] = figures(listMs);

  // The stream object's id: found the way a client finds it.
  const found = await call('search3', { query: 'Bench Stream', songCount: '5', albumCount: '0', artistCount: '0' });
  const id = songIdOf(found.body);
  if (!id) {
    fail('search3 did not find the stream object');
  } else {
    const ms: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const r = await firstByte(`${base}/stream?${query({ id, f: 'json' })}`);
      if (r.status !== 200 || r.contentLength !== STREAM_BYTES) {
        fail(`stream: HTTP ${r.status}, Content-Length ${r.contentLength} (want ${STREAM_BYTES})`);
        break;
      }
      ms.push(r.ms);
    }
    out.requests['stream: first byte (from s3rver)'] = figures(ms);
  }
  const mem = child.pid ? procMemory(child.pid) : undefined;
  if (mem) {
    out.rssKiB = mem.rssKiB;
    out.hwmKiB = mem.hwmKiB;
  }

  // Started again on the state it keeps (every start after a machine's first): its peak, through the same requests.
  await stop(child);
  const again = await startServer(paths.cli, configFile, penv);
  child = again.child;
  call = again.call;
  const ready = await again.ready;
  if (!ready.ok) {
    fail(`restart: ${ready.why}`);
    return child;
  }
  out.restartMs = ready.ms;
  for (let i = 0; i < SAMPLES / 4; i++) {
    for (const [method, params] of [
      ['getArtists', {}],
      ['search3', { query: '', songCount: String(SEARCH_PAGE), songOffset: String((i * SEARCH_PAGE) % tracks), albumCount: '0', artistCount: '0' }],
      ['getAlbumList2', { type: 'random', size: '50' }],
    ] as const) {
      const r = await call(method, params);
      if (!r.ok) fail(`restart: ${method}: ${JSON.stringify(r.body).slice(0, 200)}`);
    }
  }
  const after = child.pid ? procMemory(child.pid) : undefined;
  if (after) out.restartHwmKiB = after.hwmKiB;
  return child;
}

interface StartedServer {
  child: ChildProcess;
  base: string;
  call(method: string, params?: Record<string, string>): Promise<{ ok: boolean; body: unknown }>;
  /** Resolves once getArtists answers (the catalog read and indexed), with how long that took. */
  ready: Promise<{ ok: true; ms: number; body: unknown } | { ok: false; why: string }>;
}

/** startServer runs `cratesync serve` on a free port of 127.0.0.1. */
async function startServer(cli: string, configFile: string, env: NodeJS.ProcessEnv): Promise<StartedServer> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [cli, '--config', configFile, 'serve', '--listen', `127.0.0.1:${port}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  child.stdout!.resume();
  const base = `http://127.0.0.1:${port}/rest`;
  const call = (method: string, params: Record<string, string> = {}) => subsonicCall(base, method, params);
  const ready = (async (): Promise<{ ok: true; ms: number; body: unknown } | { ok: false; why: string }> => {
    let first: { ok: boolean; body: unknown } | undefined;
    while (performance.now() - started < START_WAIT_MS) {
      if (child.exitCode !== null) return { ok: false, why: `serve exited ${child.exitCode}: ${stderr.trim().split('\n').pop() ?? ''}` };
      first = await call('getArtists').catch(() => undefined);
      if (first) break;
      await sleep(100);
    }
    if (!first?.ok) return { ok: false, why: `serve never answered getArtists: ${JSON.stringify(first?.body ?? stderr.slice(-300))}` };
    return { ok: true, ms: round(performance.now() - started), body: first.body };
  })();
  return { child, base, call, ready };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([gone, sleep(10_000)]);
}

function figures(ms: number[]): SampleFigures {
  return { count: ms.length, p95Ms: round(percentile(ms, 0.95) ?? 0), ...latencyFigures(ms.map(round)) };
}

/** seed writes the catalog (logs of LOG_ENTRIES) and the one real object the stream samples read. */
async function seed(endpoint: string, tracks: number): Promise<void> {
  const s3 = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  try {
    const stream = randomBytes(STREAM_BYTES);
    const md5 = createHash('md5').update(stream).digest('hex');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${ROOT}/${STREAM_KEY}`, Body: stream }));
    const t0 = Date.now() - 86_400_000;
    const logs: Array<{ key: string; body: Buffer }> = [];
    let objects: Array<{ key: string; body: Buffer }> = [];
    const putObjects = async () => {
      await forEachLimit(objects, 32, async (o) => void (await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${ROOT}/${o.key}`, Body: o.body }))));
      objects = [];
    };
    let entries: CatalogPut[] = [{ op: 'put', key: STREAM_KEY, size: STREAM_BYTES, md5, etag: md5, tags: { title: 'Stream', artist: 'Bench Stream', album: 'Stream', track: 1, durationSec: 210, bitrate: 320 }, at: t0 }];
    const flush = () => {
      const at = t0 + logs.length * 1000;
      logs.push({ key: `${ROOT}/${logKey(at, 'benchseed')}`, body: encodeLog({ v: 1, writer: 'seed@benchseed', entries }) });
      entries = [];
    };
    for (let i = 0; i < tracks - 1; i++) {
      const album = Math.floor(i / TRACKS_PER_ALBUM);
      const artist = album % ARTISTS;
      const track = (i % TRACKS_PER_ALBUM) + 1;
      const artistName = `${artist % 7 === 0 ? 'The ' : ''}Artist ${artist} ${WORDS[artist % WORDS.length]}`;
      const albumName = `Album ${album} ${WORDS[(album * 3) % WORDS.length]}`;
      const title = `Song ${i} ${i % 10 === 0 ? WORDS[i % WORDS.length] : 'Tune'}`;
      const key = `music/${artistName}/${albumName}/${String(track).padStart(2, '0')} ${title}.mp3`;
      // A real object behind every entry: a full listing drops what the bucket does not hold.
      const body = Buffer.from(`${key}\n`.repeat(4));
      objects.push({ key, body });
      const size = body.length;
      const md5i = createHash('md5').update(body).digest('hex');
      entries.push({
        op: 'put',
        key,
        size,
        md5: md5i,
        etag: md5i,
        tags: { title, artist: artistName, album: albumName, albumArtist: artistName, genre: GENRES[album % GENRES.length]!, year: 1970 + (album % 30), track, disc: 1, durationSec: 180 + (i % 120), bitrate: 320 },
        at: t0 + i,
      });
      if (entries.length >= LOG_ENTRIES) {
        flush();
        await putObjects();
      }
    }
    await putObjects();
    if (entries.length) flush();
    await forEachLimit(logs, 4, async (l) => void (await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: l.key, Body: l.body }))));
  } finally {
    s3.destroy();
  }
}

function query(p: Record<string, string>): string {
  const salt = randomBytes(6).toString('hex');
  const t = createHash('md5').update(PASSWORD + salt).digest('hex');
  return new URLSearchParams({ u: USER, t, s: salt, v: '1.16.1', c: 'bench', ...p }).toString();
}

async function subsonicCall(base: string, method: string, params: Record<string, string>): Promise<{ ok: boolean; body: unknown }> {
  const res = await fetch(`${base}/${method}?${query({ f: 'json', ...params })}`);
  const body = (await res.json()) as { 'subsonic-response'?: { status?: string } };
  return { ok: res.status === 200 && body['subsonic-response']?.status === 'ok', body };
}

/** firstByte times a GET from the request to the first byte of its body, then drops the rest. */
function firstByte(url: string): Promise<{ ms: number; status: number; contentLength: number }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = request(url, (res) => {
      res.once('data', () => {
        const ms = performance.now() - t;
        req.destroy();
        resolve({ ms, status: res.statusCode ?? 0, contentLength: Number(res.headers['content-length'] ?? -1) });
      });
      res.once('end', () => resolve({ ms: performance.now() - t, status: res.statusCode ?? 0, contentLength: Number(res.headers['content-length'] ?? -1) }));
    });
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
    req.end();
  });
}

/** countIn counts the entries of a response's payload field (artists: every artist of every index; searchResult3: songs, else albums, else artists). */
function countIn(body: unknown, field: string): number {
  const r = (body as Record<string, Record<string, unknown>>)['subsonic-response']?.[field] as Record<string, unknown> | undefined;
  if (!r) return 0;
  if (field === 'artists') return ((r.index as Array<{ artist?: unknown[] }> | undefined) ?? []).reduce((n, i) => n + (i.artist?.length ?? 0), 0);
  for (const k of ['song', 'album', 'artist']) if (Array.isArray(r[k]) && (r[k] as unknown[]).length) return (r[k] as unknown[]).length;
  return 0;
}

function songIdOf(body: unknown): string | undefined {
  const songs = ((body as Record<string, Record<string, unknown>>)['subsonic-response']?.searchResult3 as { song?: Array<{ id?: string; artist?: string }> } | undefined)?.song ?? [];
  return songs.find((s) => s.artist === 'Bench Stream')?.id;
}

function runCli(cli: string, args: string[], env: NodeJS.ProcessEnv, stdin: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [cli, ...args], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => resolve({ code: code ?? 1, stderr }));
    c.stdin!.end(stdin);
  });
}
