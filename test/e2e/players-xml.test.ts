/**
 * The XML players end to end, through the real CLI against s3rver.
 * Rhythmbox: a copy of the real rhythmdb.xml and playlists.xml written by
 * Rhythmbox 3.4.6 (paths under /tmp/rb/music) attached with `--map` to a
 * library of real MP3/FLAC files at those names; the automatic playlists are
 * evaluated by cratesync over the songs; a rewrite the way Rhythmbox saves
 * (rhythmdb.xml.tmp written whole, then renamed over rhythmdb.xml) reaches
 * the catalog and moves the automatic playlists that depend on it, only
 * then. iTunes / Music: a Library.xml as iTunes writes it (macOS paths,
 * folders, a smart playlist with its items), attached with `--map`, then
 * rewritten with a new rating and play count (and the smart playlist's items
 * iTunes recomputed). Then Rhythmbox through the running service, which polls
 * the files: a rewrite reaches the catalog.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { copyFile, mkdir, mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listObjects } from '../support/s3-objects.js';
import { usePlayerRemote } from '../support/player-remote.js';
import { cli, cliJson, type CliEnv } from '../support/cli.js';
import { startService, waitFor, type ServiceProcess } from '../support/service-process.js';
import { makeMp3 } from '../fixtures/mp3.js';
import { makeFlac } from '../fixtures/flac.js';
import { itunesXml, type ItPlaylist, type ItTrack } from '../fixtures/players/itunes-xml.js';

const RB_FIXTURE = fileURLToPath(new URL('../fixtures/players/rhythmbox-3.4.6/', import.meta.url));
const tmp = (name: string) => mkdtemp(join(tmpdir(), `cs-xml-${name}-`));
const remote = usePlayerRemote('xml', () => tmp('home'));
const { catalogMeta, m3uEntries, playlistKeys } = remote;

const running: ServiceProcess[] = [];

afterEach(async () => {
  for (const s of running.splice(0)) {
    s.child.kill('SIGKILL');
    await s.exited;
  }
});

async function put(file: string, data: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, data);
}

// ---------------------------------------------------------------- Rhythmbox

/** Where Rhythmbox found the files when it wrote the fixture. */
const RB_MUSIC = '/tmp/rb/music';
const RB_DIR = 'My Music & #1 100%';
/** The fixture's five songs, relative to RB_MUSIC/RB_DIR. */
const RB = {
  dreams: 'Sigur Rós/Static Lights (2023)/01 Ágætis Dreams.mp3',
  frost: 'Sigur Rós/Static Lights (2023)/02 Frost Theory.flac',
  extra: 'Björk/Night Machine (2018)/03 Extra.mp3',
  paper: 'Björk/Night Machine (2018)/01 Paper Season.mp3',
  signal: 'Björk/Night Machine (2018)/02 Signal Dreams.mp3',
};
const rbRel = (k: keyof typeof RB) => `${RB_DIR}/${RB[k]}`;
const rbKey = (k: keyof typeof RB) => `music/${rbRel(k)}`;

interface RbSetup {
  bucket: string;
  url: string;
  e: CliEnv;
  lib: string;
  /** The copy of rhythmdb.xml (playlists.xml beside it). */
  db: string;
}

async function rhythmboxSetup(): Promise<RbSetup> {
  const { bucket: b, url, e } = await remote.bucket();
  const lib = join(await tmp('lib'), 'Music');
  let seed = 0;
  for (const k of Object.keys(RB) as Array<keyof typeof RB>) {
    const title = RB[k].replace(/^.*\/\d\d /, '').replace(/\.\w+$/, '');
    const file = join(lib, rbRel(k));
    await put(file, k === 'frost' ? makeFlac({ title, artist: 'Sigur Rós', seed: ++seed }) : makeMp3({ title, seed: ++seed }));
  }
  const dir = join(await tmp('rb'), 'rhythmbox');
  await mkdir(dir, { recursive: true });
  await copyFile(join(RB_FIXTURE, 'rhythmdb.xml'), join(dir, 'rhythmdb.xml'));
  await copyFile(join(RB_FIXTURE, 'playlists.xml'), join(dir, 'playlists.xml'));
  return { bucket: b, url, e, lib, db: join(dir, 'rhythmdb.xml') };
}

/** The location of a fixture song as it stands (XML-escaped) in rhythmdb.xml; its names need no escape beyond encodeURIComponent's. */
const rbLocationXml = (k: keyof typeof RB) => 'file:///tmp/rb/music/My%20Music%20&amp;%20%231%20100%25/' + RB[k].split('/').map(encodeURIComponent).join('/');

/**
 * Saves rhythmdb.xml the way Rhythmbox does (rhythmdb_tree_save: the whole
 * tree written to `rhythmdb.xml.tmp`, then renamed over rhythmdb.xml), with
 * `props` set on the entry of song `k`, each in Rhythmbox's property order
 * (after last-seen: rating, play-count, last-played).
 */
async function rhythmboxSave(db: string, k: keyof typeof RB, props: { rating?: number; playCount?: number; lastPlayed?: number }): Promise<void> {
  const xml = await readFile(db, 'utf8');
  const loc = `<location>${rbLocationXml(k)}</location>`;
  const at = xml.indexOf(loc);
  if (at < 0) throw new Error(`no entry for ${k} in ${db}`);
  const start = xml.lastIndexOf('<entry', at);
  const end = xml.indexOf('</entry>', at);
  let entry = xml.slice(start, end).replace(/ *<(rating|play-count|last-played)>[^<]*<\/\1>\n/g, '');
  const add = [
    props.rating === undefined ? '' : `    <rating>${props.rating}</rating>\n`,
    props.playCount === undefined ? '' : `    <play-count>${props.playCount}</play-count>\n`,
    props.lastPlayed === undefined ? '' : `    <last-played>${props.lastPlayed}</last-played>\n`,
  ].join('');
  entry = entry.replace(/( *<last-seen>\d+<\/last-seen>\n)/, `$1${add}`);
  const tmpFile = `${db}.tmp`;
  await writeFile(tmpFile, xml.slice(0, start) + entry + xml.slice(end));
  await rename(tmpFile, db);
}

describe('Rhythmbox (a real rhythmdb.xml and playlists.xml, written by Rhythmbox 3.4.6)', () => {
  it('attach --map publishes songs and playlists (automatic ones evaluated); a save with a new rating and a play reaches the catalog and moves the automatic playlists, only then', async () => {
    const s = await rhythmboxSetup();
    const attached = await cli(s.e, '--user', 'alice', 'attach', 'rhythmbox', s.url, '--db', s.db, '--library', s.lib, '--map', `${RB_MUSIC}=${s.lib}`);
    expect(attached.code, attached.stdout + attached.stderr).toBe(0);
    expect(attached.stdout).toMatch(/attach: push: 5 uploaded/);
    expect(attached.stdout).toMatch(/metadata of 5 songs published, 5 playlists uploaded/);
    expect([...(await listObjects(remote.s3, s.bucket, 'dj/music/')).keys()].sort()).toEqual((Object.keys(RB) as Array<keyof typeof RB>).map((k) => `dj/${rbKey(k)}`).sort());

    const meta = await catalogMeta(s.bucket);
    expect(meta.size).toBe(5);
    // Rhythmbox's own tags (not the files'): rating 4 of 5, three plays.
    expect(meta.get(rbKey('paper'))).toMatchObject({
      source: 'rhythmbox',
      rating: 80,
      playCount: 3,
      lastPlayed: 1_796_000_000_000,
      tags: { title: 'Paper Season', artist: 'Björk', album: 'Night Machine', albumArtist: 'Björk', genre: 'Rock', track: 1, disc: 1, year: 2018 },
    });
    expect(meta.get(rbKey('dreams'))).toMatchObject({ source: 'rhythmbox', tags: { title: 'Ágætis Dreams', artist: 'Sigur Rós', year: 2023 } });
    expect(meta.get(rbKey('dreams'))).not.toHaveProperty('rating');
    expect(meta.get(rbKey('frost'))).toMatchObject({ tags: { durationSec: 1 } });

    // The play queue is no playlist; the automatic ones are.
    expect(await playlistKeys(s.bucket)).toEqual(
      ['My Top Rated', 'Recently Added', 'Recently Played', 'Road Trip & #1', 'Rock or Ambient'].map((n) => `dj/playlists/alice/${n}.m3u8`).sort(),
    );
    expect(await m3uEntries(s.bucket, 'dj/playlists/alice/Road Trip & #1.m3u8')).toEqual([rbRel('frost'), rbRel('paper')]);
    expect(await m3uEntries(s.bucket, 'dj/playlists/alice/My Top Rated.m3u8')).toEqual([rbRel('paper')]);
    // genre Rock or ambient, by artist, album, disc, track (the two track 1s of Night Machine in Rhythmbox's last resort: location)
    expect(await m3uEntries(s.bucket, 'dj/playlists/alice/Rock or Ambient.m3u8')).toEqual([rbRel('paper'), rbRel('extra'), rbRel('signal')]);

    // Nothing changed: nothing goes out, no playlist either.
    const idle = await cli(s.e, '--user', 'alice', 'push', s.lib, s.url);
    expect(idle.code, idle.stderr).toBe(0);
    expect(idle.stdout).toMatch(/metadata of 0 songs published, 0 playlists uploaded/);

    // Rhythmbox saves: Frost Theory rated five stars.
    await rhythmboxSave(s.db, 'frost', { rating: 5 });
    const rated = await cli(s.e, '--user', 'alice', 'push', s.lib, s.url);
    expect(rated.code, rated.stderr).toBe(0);
    expect(rated.stdout).toMatch(/push: 0 uploaded/);
    expect(rated.stdout).toMatch(/metadata of 1 song published, 1 playlist uploaded/);
    expect((await catalogMeta(s.bucket)).get(rbKey('frost'))).toMatchObject({ source: 'rhythmbox', rating: 100 });
    // sort-key Rating, descending
    expect(await m3uEntries(s.bucket, 'dj/playlists/alice/My Top Rated.m3u8')).toEqual([rbRel('frost'), rbRel('paper')]);

    // Then plays Signal Dreams: the newest in Recently Played (sort-key LastPlayed, descending).
    const playedAt = Math.floor(Date.now() / 1000);
    await rhythmboxSave(s.db, 'signal', { playCount: 1, lastPlayed: playedAt });
    const played = await cli(s.e, '--user', 'alice', 'push', s.lib, s.url);
    expect(played.code, played.stderr).toBe(0);
    expect(played.stdout).toMatch(/metadata of 1 song published, 1 playlist uploaded/);
    expect((await catalogMeta(s.bucket)).get(rbKey('signal'))).toMatchObject({ playCount: 1, lastPlayed: playedAt * 1000 });
    expect((await m3uEntries(s.bucket, 'dj/playlists/alice/Recently Played.m3u8'))[0]).toBe(rbRel('signal'));
    expect((await listObjects(remote.s3, s.bucket, 'dj/music/')).size).toBe(5);

    // A save that changes nothing (Rhythmbox saves often) publishes nothing.
    await rhythmboxSave(s.db, 'frost', { rating: 5 });
    const same = await cli(s.e, '--user', 'alice', 'push', s.lib, s.url);
    expect(same.stdout).toMatch(/metadata of 0 songs published, 0 playlists uploaded/);

    const players = await cliJson(s.e, '--user', 'alice', 'players', '--library', s.lib);
    expect(players.json.players).toHaveLength(1);
    expect(players.json.players[0]).toMatchObject({ name: 'rhythmbox', songs: 5 });
    expect(players.json.players[0].problems).toEqual([]);

    // cratesync never writes a player's XML: detach only forgets it.
    const dbBefore = await readFile(s.db);
    const detached = await cli(s.e, '--user', 'alice', 'detach', 'rhythmbox', '--library', s.lib);
    expect(detached.code, detached.stderr).toBe(0);
    expect((await cliJson(s.e, '--user', 'alice', 'players', '--library', s.lib)).json.players).toEqual([]);
    expect(await readFile(s.db)).toEqual(dbBefore);
    expect(await readFile(join(dirname(s.db), 'playlists.xml'))).toEqual(await readFile(join(RB_FIXTURE, 'playlists.xml')));
  }, 180_000);

  it('with the service running: rhythmdb.xml saved with a new rating reaches the catalog', async () => {
    const s = await rhythmboxSetup();
    const config = join(s.e.home, 'config.json');
    await writeFile(config, JSON.stringify({ library: s.lib, remote: s.url, user: 'alice', service: { quiet: '200ms' } }));
    const attached = await cli(s.e, '--user', 'alice', '--config', config, 'attach', 'rhythmbox', '--db', s.db, '--map', `${RB_MUSIC}=${s.lib}`);
    expect(attached.code, attached.stdout + attached.stderr).toBe(0);
    expect(attached.stdout).toMatch(/5 playlists uploaded/);
    const svc = await startService(s.e.home, config, s.e.env);
    running.push(svc);

    await rhythmboxSave(s.db, 'dreams', { rating: 3 });
    await waitFor('the rating in the catalog', async () => (await catalogMeta(s.bucket)).get(rbKey('dreams'))?.rating === 60);
    await rhythmboxSave(s.db, 'dreams', { rating: 4.5 });
    await waitFor('the next one', async () => (await catalogMeta(s.bucket)).get(rbKey('dreams'))?.rating === 90);
    await waitFor('My Top Rated on the remote', async () => (await m3uEntries(s.bucket, 'dj/playlists/alice/My Top Rated.m3u8')).includes(rbRel('dreams')));
  }, 180_000);
});

// ---------------------------------------------------------------- iTunes / Music

describe('iTunes / Music (a Library.xml as iTunes writes it)', () => {
  const MEDIA = '/Users/me/Music/iTunes/iTunes Media/Music';
  const SONGS = {
    201: 'Sigur Rós/Ágætis byrjun/01 Intro.mp3',
    202: 'Drum & Bass/#1 Hits 100%/02 Track Two.mp3',
    203: 'Band/Loud/03 Loud.mp3',
  } as const;
  type Id = keyof typeof SONGS;
  const key = (id: Id) => `music/${SONGS[id]}`;
  const base = (): ItTrack[] => [
    { id: 201, path: `${MEDIA}/${SONGS[201]}`, host: '', name: 'Intro', artist: 'Sigur Rós', albumArtist: 'Sigur Rós', album: 'Ágætis byrjun', genre: 'Post-Rock', year: 1999, track: 1, disc: 1, totalTime: 97_123, rating: 80, playCount: 12, playDate: Date.UTC(2026, 10, 1, 20, 30, 0), dateAdded: Date.UTC(2020, 0, 2, 3, 4, 5) },
    { id: 202, path: `${MEDIA}/${SONGS[202]}`, host: '', name: 'Track Two & "more"', artist: 'Artist & Co', album: '#1 Hits 100%', genre: 'Drum & Bass', rating: 60, ratingComputed: true, albumRating: 60 },
    { id: 203, path: `${MEDIA}/${SONGS[203]}`, host: '', name: 'Loud', artist: 'Band', genre: 'Rock', year: 2010 },
    // on a disk this machine does not map: outside the library
    { id: 204, path: '/Volumes/Backup/Elsewhere.mp3', host: '', name: 'Elsewhere', artist: 'Nobody' },
    { id: 205, path: '', name: 'Radio', trackType: 'URL' },
  ];
  const lists = (topRated: number[]): ItPlaylist[] => [
    { name: 'Library', pid: '0000000000000001', master: true, visible: false, items: [201, 202, 203, 204] },
    { name: 'Music', pid: '0000000000000002', distinguishedKind: 4, smart: true, items: [201, 202, 203, 204] },
    { name: 'Sets', pid: 'F000000000000001', folder: true, items: [203, 201] },
    { name: 'Road Trip', pid: 'A000000000000001', parent: 'F000000000000001', items: [203, 201, 205] },
    // "Rating is at least 4 stars", by rating: iTunes writes the items it holds now
    { name: 'Top Rated', pid: 'A000000000000002', smart: true, items: topRated },
  ];

  it('attach --map publishes songs, tags and playlists (a smart one with its items); a rewrite with a new rating and play count reaches the catalog and the smart playlist, only then', async () => {
    const { bucket: b, url, e } = await remote.bucket();
    const lib = join(await tmp('lib'), 'Music');
    for (const id of Object.keys(SONGS).map(Number) as Id[]) await put(join(lib, SONGS[id]), makeMp3({ title: `file ${id}`, seed: id }));
    const xml = join(await tmp('itunes'), 'iTunes Library.xml');
    let tracks = base();
    await writeFile(xml, itunesXml(tracks, lists([201])));

    const attached = await cli(e, '--user', 'alice', 'attach', 'itunes', url, '--db', xml, '--library', lib, '--map', `${MEDIA}=${lib}`);
    expect(attached.code).toBe(1); // partly: one song lies outside the library
    expect(attached.stderr).toMatch(/Elsewhere\.mp3.*outside the library/);
    expect(attached.stdout).toMatch(/attach: push: 3 uploaded/);
    expect(attached.stdout).toMatch(/metadata of 3 songs published, 2 playlists uploaded/);

    const meta = await catalogMeta(b);
    expect(meta.size).toBe(3);
    expect(meta.get(key(201))).toMatchObject({
      source: 'itunes',
      rating: 80,
      playCount: 12,
      lastPlayed: Date.UTC(2026, 10, 1, 20, 30, 0),
      tags: { title: 'Intro', artist: 'Sigur Rós', albumArtist: 'Sigur Rós', album: 'Ágætis byrjun', genre: 'Post-Rock', year: 1999, track: 1, disc: 1 },
    });
    expect(meta.get(key(202))).toMatchObject({ tags: { title: 'Track Two & "more"', artist: 'Artist & Co' } });
    // a computed rating (from the album's) is no rating of the song
    expect(meta.get(key(202))).not.toHaveProperty('rating');
    expect(meta.get(key(203))).not.toHaveProperty('rating');

    // The master playlist and the built-in "Music" are not published; a folder's child under the folder.
    expect(await playlistKeys(b)).toEqual(['dj/playlists/alice/Sets/Road Trip.m3u8', 'dj/playlists/alice/Top Rated.m3u8']);
    expect(await m3uEntries(b, 'dj/playlists/alice/Sets/Road Trip.m3u8')).toEqual([SONGS[203], SONGS[201]]);
    expect(await m3uEntries(b, 'dj/playlists/alice/Top Rated.m3u8')).toEqual([SONGS[201]]);

    // iTunes rewrites its XML (new Date, same content): nothing goes out.
    await writeFile(xml, itunesXml(tracks, lists([201])).replace('2026-11-29T10:00:00Z', '2026-11-29T11:00:00Z'));
    const idle = await cli(e, '--user', 'alice', 'push', lib, url);
    expect(idle.stdout).toMatch(/metadata of 0 songs published, 0 playlists uploaded/);

    // Loud rated five stars and played twice; iTunes recomputes Top Rated and rewrites the XML.
    const playDate = Date.UTC(2026, 10, 29, 22, 0, 0);
    tracks = tracks.map((t) => (t.id === 203 ? { ...t, rating: 100, playCount: 2, playDate } : t));
    await writeFile(xml, itunesXml(tracks, lists([203, 201])));
    const edited = await cli(e, '--user', 'alice', 'push', lib, url);
    expect(edited.stdout).toMatch(/push: 0 uploaded/);
    expect(edited.stdout).toMatch(/metadata of 1 song published, 1 playlist uploaded/);
    expect((await catalogMeta(b)).get(key(203))).toMatchObject({ source: 'itunes', rating: 100, playCount: 2, lastPlayed: playDate });
    expect(await m3uEntries(b, 'dj/playlists/alice/Top Rated.m3u8')).toEqual([SONGS[203], SONGS[201]]);
    expect((await listObjects(remote.s3, b, 'dj/music/')).size).toBe(3);

    const players = await cliJson(e, '--user', 'alice', 'players', '--library', lib);
    expect(players.json.players[0]).toMatchObject({ name: 'itunes', songs: 4 });
    expect(players.json.players[0].problems.map((p: { path: string }) => p.path)).toContain('/Volumes/Backup/Elsewhere.mp3');
  }, 180_000);
});
