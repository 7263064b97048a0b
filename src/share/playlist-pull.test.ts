/**
 * Playlists down into a library: written under Playlists/<user>/ with paths
 * that lead to the library's files, this machine's own left alone, removed
 * ones moved to the local trash, and hostile M3U8s (climbing paths, absolute
 * paths, URLs, control characters, 100 MB, not UTF-8) refused line by line
 * or whole, each with a problem naming the playlist.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { S3Remote } from '../remote/s3/s3-remote.js';
import { FolderRemote } from '../remote/folder/folder-remote.js';
import { openStateDb, type Db } from '../state/state-db.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { RemoteCatalog } from '../sync/catalog.js';
import { loadCodec } from '../sync/catalog-codec.js';
import { putPlaylist, removePlaylist } from '../sync/playlist-publish.js';
import { LOCAL_TRASH_DIR } from '../sync/layout.js';
import { entryProblem, libraryFile, MAX_PLAYLIST_BYTES, pullPlaylists } from './playlist-pull.js';
import { parseM3u8 } from './m3u8.js';
import { startS3rver, type S3rver } from '../../test/support/s3rver.js';
import type { Remote } from '../remote/remote.js';
import type { Problem } from '../core/problem.js';

process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;

let server: S3rver;
let buckets = 0;
const dbs: Db[] = [];
const dirs: string[] = [];
beforeAll(async () => {
  await loadCodec();
  server = await startS3rver();
});
afterAll(() => server.stop());
afterEach(async () => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function bucket(): Promise<S3Remote> {
  const name = `pull-${++buckets}`;
  await server.createBucket(name);
  return new S3Remote({ bucket: name, prefix: 'dj/', endpoint: server.endpoint });
}

async function tmp(name: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `cs-${name}-`));
  dirs.push(d);
  return d;
}

function machine(remote: Remote, name: string) {
  const db = openStateDb(':memory:');
  dbs.push(db);
  const mirror = new RemoteMirror(db, remote.url);
  const catalog = new RemoteCatalog(remote, mirror, db, `${name}@${name}-m`, `${name}-m`);
  return { db, catalog, writer: `${name}@${name}-m`, ctx: { remote, catalog, user: name } };
}

/** A library with a few files (their bytes do not matter here). */
async function library(): Promise<string> {
  const root = await tmp('lib');
  for (const p of ['House/A - One.mp3', 'Techno/B - Two.flac']) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), p);
  }
  return root;
}

async function pull(m: ReturnType<typeof machine>, remote: Remote, root: string, full = false) {
  const problems: Problem[] = [];
  await m.catalog.refresh({ full, problems });
  const n = await pullPlaylists({ remote, catalog: m.catalog, db: m.db, root, self: m.writer }, problems);
  return { ...n, problems };
}

/** The files a pulled M3U8 names, resolved from its own folder as a player does. */
async function resolved(file: string): Promise<string[]> {
  return parseM3u8(await readFile(file, 'utf8')).map((e) => resolve(dirname(file), e.path));
}

describe('pullPlaylists', () => {
  it('writes another machine’s playlist under Playlists/<user>/ with paths relative to it that lead to the files', async () => {
    const remote = await bucket();
    const alice = machine(remote, 'alice');
    await putPlaylist(alice.ctx, {
      name: 'Sets/Peak Time',
      player: 'strawberry',
      smart: false,
      entries: [{ path: 'House/A - One.mp3', durationSec: 301, artist: 'A', title: 'One' }, { path: 'Techno/B - Two.flac' }],
    });
    await alice.catalog.publish();

    const root = await library();
    const bob = machine(remote, 'bob');
    const r = await pull(bob, remote, root);
    expect(r).toEqual({ written: 1, unchanged: 0, removed: 0, problems: [] });
    const file = join(root, 'Playlists', 'alice', 'Sets', 'Peak Time.m3u8');
    const text = await readFile(file, 'utf8');
    expect(text).toBe('#EXTM3U\n#EXTINF:301,A - One\n../../../House/A - One.mp3\n#EXTINF:-1,\n../../../Techno/B - Two.flac\n');
    const targets = await resolved(file);
    expect(targets).toEqual([join(root, 'House/A - One.mp3'), join(root, 'Techno/B - Two.flac')]);
    for (const t of targets) await stat(t); // they exist

    expect(await pull(bob, remote, root)).toEqual({ written: 0, unchanged: 1, removed: 0, problems: [] });
  });

  it('leaves this machine’s own playlists alone, and moves one removed on the remote to the local trash', async () => {
    const remote = await bucket();
    const alice = machine(remote, 'alice');
    const root = await library();
    await putPlaylist(alice.ctx, { name: 'Mine', player: 'strawberry', smart: false, entries: [{ path: 'House/A - One.mp3' }] });
    await putPlaylist(alice.ctx, { name: 'Gone Soon', player: 'strawberry', smart: false, entries: [{ path: 'House/A - One.mp3' }] });
    await alice.catalog.publish();
    const bob = machine(remote, 'bob');
    expect((await pull(bob, remote, root)).written).toBe(2);
    // alice's own machine writes none of them back into her library.
    const aliceRoot = await library();
    expect(await pull(alice, remote, aliceRoot)).toEqual({ written: 0, unchanged: 0, removed: 0, problems: [] });
    await expect(stat(join(aliceRoot, 'Playlists'))).rejects.toThrow();

    // A file someone else put there (a collection's playlist) is never touched.
    await writeFile(join(root, 'Playlists', 'alice', 'By Hand.m3u8'), '#EXTM3U\n');
    expect(await removePlaylist(alice.ctx, 'Gone Soon')).toBe(true);
    await alice.catalog.publish();
    expect(await pull(bob, remote, root)).toEqual({ written: 0, unchanged: 1, removed: 1, problems: [] });
    expect((await readdir(join(root, 'Playlists', 'alice'))).sort()).toEqual(['By Hand.m3u8', 'Mine.m3u8']);
    const [batch] = await readdir(join(root, LOCAL_TRASH_DIR));
    await stat(join(root, LOCAL_TRASH_DIR, batch!, 'Playlists', 'alice', 'Gone Soon.m3u8'));
  });

  it('refuses hostile entries line by line, naming the playlist and line, and keeps the rest', async () => {
    const remote = await bucket();
    const root = await library();
    const hostile = [
      '#EXTM3U',
      '../../etc/passwd',
      '/etc/passwd',
      'C:\\Windows\\win.ini',
      'House\\A - One.mp3',
      'file:///etc/passwd',
      'House/../../../x.mp3',
      'House/A\u0007.mp3',
      '#EXTINF:1,Good',
      'House/A - One.mp3',
    ].join('\n');
    // Written by another tool: no catalog entry, found by the full listing.
    await remote.put('playlists/mallory/Evil.m3u8', { data: Buffer.from(hostile) });
    const bob = machine(remote, 'bob');
    const r = await pull(bob, remote, root, true);
    expect(r.written).toBe(1);
    expect(r.problems.map((p) => p.path)).toEqual(Array(7).fill('playlists/mallory/Evil.m3u8'));
    expect(r.problems.map((p) => /^line (\d+):/.exec(p.message)?.[1])).toEqual(['2', '3', '4', '5', '6', '7', '8']);
    expect(r.problems[0]!.message).toMatch(/does not stay inside music\/.*entry left out/);
    expect(r.problems[1]!.message).toMatch(/absolute path/);
    expect(r.problems[4]!.message).toMatch(/URL/);
    expect(r.problems[6]!.message).toMatch(/control character/);
    const file = join(root, 'Playlists', 'mallory', 'Evil.m3u8');
    expect(await resolved(file)).toEqual([join(root, 'House/A - One.mp3')]);
  });

  it('refuses a 100 MB playlist and one that is not UTF-8 whole, without reading past the bound', async () => {
    const dir = await tmp('remote');
    const remote = new FolderRemote(dir);
    await mkdir(join(dir, 'playlists', 'mallory'), { recursive: true });
    // A sparse file: 100 MB by the server's word, costing nothing to make.
    await writeFile(join(dir, 'playlists', 'mallory', 'Huge.m3u8'), '#EXTM3U\n');
    await truncate(join(dir, 'playlists', 'mallory', 'Huge.m3u8'), 100 * 1024 * 1024);
    await writeFile(join(dir, 'playlists', 'mallory', 'Latin1.m3u8'), Buffer.from([0x23, 0x45, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x2e, 0x6d, 0x70, 0x33, 0x0a]));
    const root = await library();
    const bob = machine(remote, 'bob');
    const r = await pull(bob, remote, root, true);
    expect(r.written).toBe(0);
    expect([...r.problems].sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual([
      { path: 'playlists/mallory/Huge.m3u8', message: `playlist of ${100 * 1024 * 1024} bytes, more than the ${MAX_PLAYLIST_BYTES / 1048576} MiB allowed: not pulled` },
      { path: 'playlists/mallory/Latin1.m3u8', message: 'playlist not pulled: not UTF-8 text' },
    ].sort((a, b) => (a.path < b.path ? -1 : 1)));
    await expect(stat(join(root, 'Playlists'))).rejects.toThrow();
  });
});

describe('libraryFile and entryProblem', () => {
  it('keep every file a key names inside Playlists/<user>/', () => {
    expect(libraryFile('playlists/alice/Sets/Peak Time.m3u8')).toBe('Playlists/alice/Sets/Peak Time.m3u8');
    expect(libraryFile('playlists/alice/../../../etc/x.m3u8')).toBe('Playlists/alice/_/_/_/etc/x.m3u8');
    expect(libraryFile('playlists/..m3u8')).toBeUndefined();
    expect(libraryFile('playlists/x.m3u8')).toBeUndefined();
    expect(libraryFile('playlists/a//x.m3u8')).toBeUndefined();
  });

  it('accept plain library paths only', () => {
    expect(entryProblem('House/A - One.mp3')).toBeUndefined();
    expect(entryProblem('Déjà/…  x.flac')).toBeUndefined();
    for (const bad of ['../x.mp3', './x.mp3', 'a//b.mp3', '/x.mp3', 'c:x.mp3', '\\\\server\\x.mp3', 'http://h/x.mp3', 'a\tb.mp3', 'a\u007fb.mp3', 'a/'.repeat(3000)]) {
      expect(entryProblem(bad), bad).toBeDefined();
    }
  });
});
