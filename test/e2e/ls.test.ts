/**
 * `cratesync ls` end to end, against a folder remote and s3rver: after a push
 * of tagged MP3 and FLAC files the listing shows their paths, --long their
 * artist – title, album, year and writer, --json every tag; a pattern filters
 * by glob or by words found in paths and tags. A second machine (a fresh
 * state home, no library) sees the same, and later pushes of the first one,
 * from the catalog's log without listing the remote again: an object put
 * there behind cratesync's back shows only with --full.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { makeMp3 } from '../fixtures/mp3.js';
import { makeFlac } from '../fixtures/flac.js';
import { cli, cliJson, type CliEnv } from '../support/cli.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { putObject, s3Client } from '../support/s3-objects.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };
const tmp = (name: string) => mkdtemp(join(tmpdir(), `cs-ls-${name}-`));

// Paths that do not name the artists: a word found means the tags reached the remote.
const TRACKS = {
  'house/01 first.mp3': makeMp3({ artist: 'Daft Punk', title: 'One More Time', album: 'Discovery', year: 2001, genre: 'House', seed: 1 }),
  'misc/02 second.flac': makeFlac({ artist: 'Röyksopp', title: 'Eple', album: 'Melody A.M.', year: 2001, genre: 'Electronic', seed: 2 }),
  'misc/03 third.mp3': makeMp3({ artist: 'Air', title: 'La Femme d’Argent', album: 'Moon Safari', year: 1998, seed: 3 }),
};

async function writeTracks(root: string, tracks: Record<string, Buffer>): Promise<void> {
  for (const [path, data] of Object.entries(tracks)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), data);
  }
}

interface Target {
  name: string;
  url: string;
  env: Record<string, string | undefined>;
  /** Writes `music/<path>` as another tool would (no catalog entry). */
  sneak(path: string, data: Buffer): Promise<void>;
  /** Requests that listed the remote's music/ since `mark` (undefined: not counted). */
  musicListings?(mark: number): number;
  mark?(): number;
}

let server: S3rver;
let proxy: FaultProxy;
let s3: S3Client;
let folder: string;
const cleanup: string[] = [];

beforeAll(async () => {
  server = await startS3rver();
  proxy = await startFaultProxy(server.endpoint);
  s3 = s3Client(server.endpoint);
  await server.createBucket('lsb');
  folder = await tmp('remote');
  cleanup.push(folder);
});
afterAll(async () => {
  s3.destroy();
  await proxy.stop();
  await server.stop();
  for (const d of cleanup) await rm(d, { recursive: true, force: true });
});

const targets: Array<() => Target> = [
  () => ({
    name: 'folder',
    url: folder,
    env: {},
    sneak: async (path, data) => {
      await mkdir(dirname(join(folder, 'music', path)), { recursive: true });
      await writeFile(join(folder, 'music', path), data);
    },
  }),
  () => ({
    name: 's3',
    url: 's3://lsb/dj',
    env: { ...CREDS, AWS_ENDPOINT_URL: proxy.endpoint },
    sneak: (path, data) => putObject(s3, 'lsb', `dj/music/${path}`, data),
    mark: () => proxy.requests.length,
    musicListings: (mark) =>
      proxy.requests.slice(mark).filter((q) => q.method === 'GET' && q.path.includes('list-type=2') && q.path.includes('prefix=dj/music/')).length,
  }),
];

describe.each(targets.map((t, i) => [['folder', 's3'][i]!, t] as const))('ls on a %s remote', (_name, make) => {
  let t: Target;
  let lib: string;
  let alice: CliEnv;
  beforeAll(async () => {
    t = make();
    lib = await tmp('lib');
    cleanup.push(lib);
    const { 'misc/03 third.mp3': _later, ...first } = TRACKS;
    await writeTracks(lib, first);
    alice = { home: await tmp('alice'), env: t.env };
    cleanup.push(alice.home);
    const push = await cli(alice, 'push', lib, t.url, '--user', 'alice');
    expect(push.code, push.stderr).toBe(0);
  });

  it('shows the paths pushed, sorted, and a count', async () => {
    const r = await cli(alice, 'ls', t.url, '--library', lib);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toEqual(['house/01 first.mp3', 'misc/02 second.flac', expect.stringMatching(/^2 objects \(/), '']);
  });

  it('--long shows artist – title, album, year and who wrote it', async () => {
    const r = await cli(alice, 'ls', t.url, '--library', lib, '--long');
    expect(r.code, r.stderr).toBe(0);
    const [mp3, flac] = r.stdout.split('\n').map((l) => l.split('\t'));
    expect(mp3?.slice(2, 5)).toEqual(['Daft Punk – One More Time', 'Discovery', '2001']);
    expect(flac?.slice(2, 5)).toEqual(['Röyksopp – Eple', 'Melody A.M.', '2001']);
    expect(mp3?.[5]).toMatch(/^alice@/);
    expect(mp3?.[6]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('--json has every tag, the hashes and the writer', async () => {
    const r = await cliJson(alice, 'ls', t.url, '--library', lib);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.count).toBe(2);
    const [mp3, flac] = r.json.objects;
    expect(mp3).toMatchObject({ path: 'house/01 first.mp3', key: 'music/house/01 first.mp3', size: TRACKS['house/01 first.mp3'].length, writer: expect.stringMatching(/^alice@/) });
    expect(mp3.tags).toMatchObject({ artist: 'Daft Punk', title: 'One More Time', album: 'Discovery', year: 2001, genre: 'House' });
    expect(mp3.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(mp3.audioHash).toMatch(/^[0-9a-f]{64}$/);
    expect(flac.tags).toMatchObject({ artist: 'Röyksopp', title: 'Eple', album: 'Melody A.M.' });
  });

  it('filters by words in the tags, by glob, and exits 0 when nothing matches', async () => {
    const words = await cli(alice, 'ls', t.url, 'DAFT', 'punk', '--library', lib);
    expect(words.code, words.stderr).toBe(0);
    expect(words.stdout.split('\n')).toEqual(['house/01 first.mp3', expect.stringMatching(/^1 of 2 objects match/), '']);
    const glob = await cliJson(alice, 'ls', t.url, '*.flac', '--library', lib);
    expect(glob.json.objects.map((o: { path: string }) => o.path)).toEqual(['misc/02 second.flac']);
    const none = await cli(alice, 'ls', t.url, 'radiohead', '--library', lib);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^0 of 2 objects match/);
  });

  it('a second machine without a library sees the same, and later pushes from the catalog without a listing', async () => {
    const bob: CliEnv = { home: await tmp('bob'), env: t.env };
    cleanup.push(bob.home);
    const first = await cliJson(bob, 'ls', t.url);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.listed).toBe(true); // never looked before: one full listing
    expect(first.json.objects.map((o: { path: string; tags: { artist: string } }) => [o.path, o.tags.artist])).toEqual([
      ['house/01 first.mp3', 'Daft Punk'],
      ['misc/02 second.flac', 'Röyksopp'],
    ]);

    await writeTracks(lib, { 'misc/03 third.mp3': TRACKS['misc/03 third.mp3'] });
    const push = await cli(alice, 'push', lib, t.url, '--user', 'alice');
    expect(push.code, push.stderr).toBe(0);
    await t.sneak('sneaky/by another tool.mp3', makeMp3({ artist: 'Nobody', seed: 9 }));

    const mark = t.mark?.() ?? 0;
    const again = await cliJson(bob, 'ls', t.url);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.listed).toBe(false);
    expect(t.musicListings?.(mark) ?? 0).toBe(0);
    expect(again.json.objects.map((o: { path: string }) => o.path)).toEqual(['house/01 first.mp3', 'misc/02 second.flac', 'misc/03 third.mp3']);
    expect(again.json.objects[2]).toMatchObject({ tags: { artist: 'Air', album: 'Moon Safari' }, writer: expect.stringMatching(/^alice@/) });
    const words = await cli(bob, 'ls', t.url, 'moon', 'safari');
    expect(words.stdout.split('\n')[0]).toBe('misc/03 third.mp3');

    const full = await cliJson(bob, 'ls', t.url, '--full');
    expect(full.json.listed).toBe(true);
    expect(full.json.objects.map((o: { path: string }) => o.path)).toContain('sneaky/by another tool.mp3');
  });

  it('rejects bad arguments with one line and exit 2', async () => {
    const r = await cli(alice, 'ls', t.url, '--remote', t.url);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cratesync: two remotes given: .*\n$/);
  });
});

describe('ls without a remote argument', () => {
  it('lists the configured remote, with a pattern as the only argument, and the embedded default when none is set', async () => {
    const home = await tmp('home');
    const lib = await tmp('lib');
    const remote = await tmp('remote');
    cleanup.push(home, lib, remote);
    await writeTracks(lib, { 'house/01 first.mp3': TRACKS['house/01 first.mp3'] });
    const env: CliEnv = { home };
    const empty = await cli(env, 'ls');
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toBe('0 objects (0 B)\n');
    expect((await cli(env, 'init', '--library', lib, '--remote', remote)).code).toBe(0);
    expect((await cli(env, 'push')).code).toBe(0);
    const r = await cli(env, 'ls', 'daft');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('house/01 first.mp3');
  });
});

describe('ls of a folder that is not there', () => {
  it('says so and exits 2, instead of showing what the state once knew', async () => {
    const home = await tmp('home');
    const gone = join(await tmp('gone'), 'unplugged');
    cleanup.push(home);
    const r = await cli({ home }, 'ls', gone);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cratesync: folder remote .*unplugged does not exist\n$/);
  });
});
