/**
 * Crews sharing Rekordbox collections, end to end against s3rver with the
 * real CLI: two users on two machines (separate homes, state and libraries).
 * Alice pushes her music and a collection exported "on Windows" (D:/DJ Music)
 * while cratesync sees her library elsewhere; Bob previews what she has,
 * pulls one playlist's tracks only, then her whole collection rewritten to
 * his own files, byte for byte apart from those values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { makeLibrary } from '../fixtures/audio.js';
import { makeCollectionXml, type FixtureTrack } from '../fixtures/rekordbox.js';
import { cli, cliJson, type CliEnv } from '../support/cli.js';
import { treeHashes } from '../support/tree.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { listObjects, putObject, s3Client } from '../support/s3-objects.js';
import { decodeLocation } from '../../src/share/rekordbox/location.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };
const tmp = (name: string) => mkdtemp(join(tmpdir(), `cs-${name}-`));

let server: S3rver;
let s3: S3Client;
const BUCKET = 'crew';
const URL = `s3://${BUCKET}/dj`;

interface Dj extends CliEnv {
  lib: string;
}

async function dj(name: string): Promise<Dj> {
  const home = await tmp(name);
  const lib = join(home, 'Music Library');
  await writeFile(join(home, 'config.json'), JSON.stringify({ library: lib, remote: URL, user: name }));
  return { home, lib, env: { ...CREDS, AWS_ENDPOINT_URL: server.endpoint } };
}

/** Every Location attribute value of a collection XML, raw as written. */
const locations = (xml: string) => [...xml.matchAll(/\bLocation="([^"]*)"/g)].map((m) => m[1] ?? '');
/** The XML with every Location value and every KeyType 1 key emptied: what must stay byte for byte. */
const rest = (xml: string) => xml.replace(/\bLocation="[^"]*"/g, 'Location=""').replace(/(<TRACK\s+Key=")file:[^"]*"/g, '$1"');
const unescape = (s: string) => s.replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

let alice: Dj;
let bob: Dj;
let music: string[];
let xml: string;
const PEAK: string[] = [];

beforeAll(async () => {
  server = await startS3rver();
  s3 = s3Client(server.endpoint);
  await server.createBucket(BUCKET);
  alice = await dj('alice');
  bob = await dj('bob');
  music = (await makeLibrary(alice.lib, { albums: 4, tracksPerAlbum: 3, seed: 'crew' })).filter((p) => /\.(mp3|flac)$/.test(p));
  const push = await cliJson(alice, 'push');
  expect(push.code, push.stderr).toBe(0);

  // Her Rekordbox runs on Windows, where the same files sit under D:/DJ Music.
  const tracks: FixtureTrack[] = [];
  for (const [i, rel] of music.entries()) tracks.push({ rel, size: (await stat(join(alice.lib, rel))).size, artist: `Artist & Co ${i}`, nfd: i === 1 });
  const moved = music[music.length - 1]!;
  tracks.push({ rel: `Old Crate/${moved.slice(moved.lastIndexOf('/') + 1)}`, size: (await stat(join(alice.lib, moved))).size }); // by name and size
  tracks.push({ rel: 'Ghosts/never uploaded.mp3', size: 12345 });
  PEAK.push(...music.slice(0, 3));
  xml = makeCollectionXml({
    root: 'D:/DJ Music',
    tracks,
    playlists: [
      { path: 'Sets/Peak Time', rels: PEAK },
      { path: 'Sets/Deep/Late Night', rels: music.slice(3, 6) },
      { path: 'Warmup', rels: [...music.slice(6, 9), 'Ghosts/never uploaded.mp3'], keyType: 1 },
    ],
  });
  await writeFile(join(alice.home, 'rekordbox.xml'), xml);
}, 120_000);

afterAll(async () => {
  s3.destroy();
  await server.stop();
});

describe('a crew shares collections', () => {
  it('alice pushes a collection exported on Windows: tracks matched to her uploads, the stranger listed', async () => {
    const r = await cliJson(alice, 'collection', 'push', '--xml', join(alice.home, 'rekordbox.xml'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.tracks).toBe(music.length + 2);
    expect(r.json.matched).toEqual({ root: music.length, name: 1, hash: 0 });
    expect(r.json.unmatched.map((t: any) => t.location)).toEqual(['D:/DJ Music/Ghosts/never uploaded.mp3']);
    expect(r.json.roots[0]).toBe('d:/dj music');
    const keys = [...(await listObjects(s3, BUCKET, 'dj/')).keys()];
    expect(keys).toContain('dj/collections/alice/rekordbox_collection');
    expect(keys.filter((k) => /^dj\/\.cratesync\/collections\/alice\/[^/]+\.(xml\.gz|index\.json\.gz)$/.test(k))).toHaveLength(2);
    // The same XML again stores nothing new.
    const again = await cliJson(alice, 'collection', 'push', '--xml', join(alice.home, 'rekordbox.xml'));
    expect(again.json.unchanged).toBe(true);
  });

  it('bob previews what she has that he lacks, with sizes, before downloading anything', async () => {
    const r = await cliJson(bob, 'collection', 'show', '--from', 'alice', '--new');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.new.map((t: any) => t.path).sort()).toEqual([...music].sort());
    let bytes = 0;
    for (const p of music) bytes += (await stat(join(alice.lib, p))).size;
    expect(r.json.newBytes).toBe(bytes);
    expect(r.json.new.find((t: any) => t.path === PEAK[0]).playlists).toEqual(['Sets/Peak Time']);
    expect((await treeHashes(bob.lib)).size).toBe(0); // nothing downloaded
    const text = await cli(bob, 'collection', 'show', '--from', 'alice');
    expect(text.stdout, text.stdout).toMatch(/Peak Time {2}\(3 tracks; you lack 3/);
  });

  it('bob pulls only the tracks of one playlist, and gets it as an M3U8 pointing at them', async () => {
    const r = await cli(bob, 'pull', '--from', 'alice', '--playlist', 'Sets/Peak Time');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const have = [...(await treeHashes(bob.lib)).keys()].filter((p) => !p.startsWith('Playlists/')).sort();
    expect(have).toEqual([...PEAK].sort());
    const m3u = await readFile(join(bob.lib, 'Playlists', 'alice', 'Sets', 'Peak Time.m3u8'), 'utf8');
    const lines = m3u.split('\n').filter(Boolean);
    expect(lines[0]).toBe('#EXTM3U');
    const entries = lines.filter((l) => !l.startsWith('#'));
    expect(entries).toHaveLength(3);
    for (const e of entries) {
      expect(e).not.toContain('\\');
      expect(existsSync(resolve(join(bob.lib, 'Playlists', 'alice', 'Sets'), e)), e).toBe(true);
    }
    expect(lines.filter((l) => l.startsWith('#EXTINF:')).every((l) => /^#EXTINF:\d+,Artist & Co \d+ - /.test(l))).toBe(true);
  });

  it('bob pulls her collection: every Location he gets is his own file, everything else byte for byte', async () => {
    const out = join(bob.home, 'alice.xml');
    const r = await cliJson(bob, 'collection', 'pull', '--from', 'alice', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.have).toBe(3);
    // Her moved copy is the same object as one of her tracks: both are listed missing.
    expect(r.json.absent.filter((t: any) => t.state === 'missing')).toHaveLength(music.length - 3 + 1);
    expect(r.json.absent.filter((t: any) => t.state === 'unmatched').map((t: any) => t.playlists)).toEqual([['Warmup']]);
    const mine = await readFile(out, 'utf8');
    expect(rest(mine)).toBe(rest(xml));
    const locs = locations(mine).map(unescape);
    expect(locs.filter((l) => l === '')).toHaveLength(1); // the ghost: in no object, never pointing at her machine
    for (const l of locs.filter(Boolean)) {
      const p = decodeLocation(l);
      expect(p.startsWith(`${bob.lib}/`), p).toBe(true);
    }

    // With --download-missing, every Location but the ghost's is an existing file of his.
    const full = await cliJson(bob, 'collection', 'pull', '--from', 'alice', '--out', out, '--download-missing');
    expect(full.code, full.stderr).toBe(0);
    const after = locations(await readFile(out, 'utf8')).map(unescape).filter(Boolean);
    expect(after).toHaveLength(music.length + 1);
    for (const l of after) expect(existsSync(decodeLocation(l)), l).toBe(true);
    expect(full.json.absent.map((t: any) => [t.state, t.playlists])).toEqual([['unmatched', ['Warmup']]]);
    // The first copy was kept, not overwritten.
    expect(existsSync(dirname(out))).toBe(true);
  });

  it('versions are listed and an earlier one can be pulled', async () => {
    await writeFile(join(alice.home, 'rekordbox.xml'), xml.replace('Peak Time', 'Peak Hour'));
    expect((await cli(alice, 'collection', 'push', '--xml', join(alice.home, 'rekordbox.xml'))).code).toBe(0);
    const list = await cliJson(bob, 'collection', 'list', '--from', 'alice');
    const versions = list.json[0].versions.map((v: any) => v.version);
    expect(versions).toHaveLength(2);
    const out = join(bob.home, 'old.xml');
    const r = await cliJson(bob, 'collection', 'pull', '--from', 'alice', '--version', versions[0], '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toContain('Name="Peak Time"');
  });

  it('hostile collections are refused with a clear message; forged indexes are ignored with a warning', async () => {
    const bomb = `<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n<DJ_PLAYLISTS Version="1.0.0"><COLLECTION>&lol2;</COLLECTION></DJ_PLAYLISTS>\n`;
    await putObject(s3, BUCKET, 'dj/collections/mallory/rekordbox_collection', Buffer.from(bomb));
    const r = await cli(bob, 'collection', 'pull', '--from', 'mallory', '--out', join(bob.home, 'm.xml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/collections\/mallory\/rekordbox_collection: line 2: .*DTD/);
    expect(existsSync(join(bob.home, 'm.xml'))).toBe(false);

    // Eve's index names a path outside the library: ignored, named, and her XML matched here instead.
    const v = 'dj/.cratesync/collections/eve/2026-01-01T00-00-00.000Z';
    await putObject(s3, BUCKET, 'dj/collections/eve/rekordbox_collection', Buffer.from(xml));
    await putObject(s3, BUCKET, `${v}.xml.gz`, gzipSync(xml));
    const forged = { v: 1, kind: 'rekordbox-index', user: 'eve', writer: 'eve@x', at: 1, xml: { md5: createHash('md5').update(xml).digest('hex'), size: Buffer.byteLength(xml) }, roots: [], tracks: [{ id: '1', path: '../../.ssh/id_rsa' }], playlists: { type: 'folder', name: 'ROOT', children: [] } };
    await putObject(s3, BUCKET, `${v}.index.json.gz`, gzipSync(JSON.stringify(forged)));
    const eve = await cliJson(bob, 'collection', 'show', '--from', 'eve');
    expect(eve.code, eve.stderr).toBe(0);
    expect(eve.stderr).toMatch(/warning: dj\/\.cratesync\/collections\/eve\/2026-01-01T00-00-00\.000Z\.index\.json\.gz|warning: \.cratesync\/collections\/eve\/.*index\.json\.gz: .*tracks\[0\]\.path/);
    expect(eve.json.matchedHere).toBe(true);
    expect(eve.json.tracks).toBe(music.length + 2);

    const bad = await cli(bob, 'collection', 'show', '--from', '../alice');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--from "\.\.\/alice"/);
  });
});
