import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rbEntryXml, rbQuery, rhythmboxPlaylistsXml, rhythmdbXml, sampleRhythmbox, writeBigRhythmdb, writeRhythmbox } from '../../../test/fixtures/players/rhythmbox-xml.js';
import { FileError } from '../../errors.js';
import type { PlayerSnapshot } from '../player-model.js';
import { rhythmbox } from './rhythmbox.js';

const REAL = new URL('../../../test/fixtures/players/rhythmbox-3.4.6/', import.meta.url);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cratesync-rhythmbox-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const byTitle = (snap: PlayerSnapshot, title: string) => snap.songs.find((s) => s.title === title);

describe('rhythmbox adapter', () => {
  it('reads the library and playlists a real Rhythmbox 3.4.6 wrote', async () => {
    for (const f of ['rhythmdb.xml', 'playlists.xml']) await copyFile(new URL(f, REAL), join(dir, f));
    const snap = await rhythmbox.read(join(dir, 'rhythmdb.xml'));
    expect(snap.problems).toEqual([]);
    expect(snap.songs).toHaveLength(5);
    const root = '/tmp/rb/music/My Music & #1 100%';
    const paper = snap.songs.find((s) => s.path === `${root}/Björk/Night Machine (2018)/01 Paper Season.mp3`);
    expect(paper).toEqual({
      id: 'file:///tmp/rb/music/My%20Music%20&%20%231%20100%25/Bj%C3%B6rk/Night%20Machine%20(2018)/01%20Paper%20Season.mp3',
      path: `${root}/Björk/Night Machine (2018)/01 Paper Season.mp3`,
      title: 'Paper Season',
      artist: 'Björk',
      album: 'Night Machine',
      albumArtist: 'Björk',
      genre: 'Rock',
      year: 2018,
      track: 1,
      disc: 1,
      rating: 80,
      playCount: 3,
      lastPlayed: 1_796_000_000_000,
      addedAt: 1_796_017_802_000,
    });
    expect(byTitle(snap, 'Ágætis Dreams')).toMatchObject({ artist: 'Sigur Rós', year: 2023, path: `${root}/Sigur Rós/Static Lights (2023)/01 Ágætis Dreams.mp3` });
    expect(byTitle(snap, 'Ágætis Dreams')?.rating).toBeUndefined();
    expect(byTitle(snap, 'Frost Theory')).toMatchObject({ durationSec: 1, track: 2 });

    expect(snap.playlists.map((p) => p.name)).toEqual(['My Top Rated', 'Recently Added', 'Recently Played', 'Rock or Ambient', 'Road Trip & #1']);
    const [top, added, played, rockOr, trip] = snap.playlists;
    expect(trip).toMatchObject({
      smart: false,
      paths: [`${root}/Sigur Rós/Static Lights (2023)/02 Frost Theory.flac`, `${root}/Björk/Night Machine (2018)/01 Paper Season.mp3`],
    });
    expect(top).toMatchObject({ smart: true, paths: [], rule: { match: 'all', conditions: [{ field: 'rating', op: 'gte', value: 80 }], order: [{ field: 'rating', desc: true }] } });
    expect(added?.rule).toEqual({ match: 'all', conditions: [{ field: 'addedAt', op: 'withinDays', value: 7 }], order: [{ field: 'addedAt', desc: true }] });
    expect(played?.rule?.conditions).toEqual([{ field: 'lastPlayed', op: 'withinDays', value: 7 }]);
    expect(rockOr?.rule).toEqual({
      match: 'any',
      conditions: [
        { field: 'genre', op: 'eq', value: 'Rock' },
        { field: 'genre', op: 'contains', value: 'ambient' },
      ],
      limit: 25,
      order: ['artist', 'album', 'disc', 'track'].map((field) => ({ field, desc: false })),
    });
  });

  it('generates entries and playlists in the element order and escaping the real Rhythmbox wrote', async () => {
    const real = await readFile(new URL('rhythmdb.xml', REAL), 'utf8');
    const realEntry = real.slice(real.indexOf('  <entry type="song">'), real.indexOf('  </entry>') + 11);
    const made = rbEntryXml({ path: '/tmp/x.mp3', title: 'Ágætis Dreams', genre: 'Electronic', artist: 'Sigur Rós', album: 'Static Lights', track: 1, disc: 1, fileSize: 16369, year: 2023, albumArtist: 'Sigur Rós' });
    const names = (xml: string) => [...xml.matchAll(/^ {4}<([a-z-]+)>/gm)].map((m) => m[1] ?? '');
    const common = (a: string[], b: string[]) => a.filter((n) => b.includes(n));
    expect(common(names(made), names(realEntry))).toEqual(common(names(realEntry), names(made)));
    expect(common(names(made), names(realEntry)).length).toBeGreaterThan(10);
    for (const line of ['    <title>&#xC1;g&#xE6;tis Dreams</title>', '    <artist>Sigur R&#xF3;s</artist>', '    <date>738521</date>']) {
      expect(realEntry).toContain(line);
      expect(made).toContain(line);
    }
    const playlists = await readFile(new URL('playlists.xml', REAL), 'utf8');
    const query = rbQuery(['<equals prop="genre">Rock</equals>', '<like prop="genre-folded">ambient</like>'], true);
    expect(playlists).toContain(query);
    expect(playlists).toContain(rhythmboxPlaylistsXml([{ name: 'Play Queue', type: 'queue', paths: [] }]).split('\n')[2]);
    expect(playlists.startsWith('<?xml version="1.0"?>\n<rhythmdb-playlists>\n')).toBe(true);
    expect(real.startsWith('<?xml version="1.0" standalone="yes"?>\n<rhythmdb version="2.0">\n')).toBe(true);
  });

  it('reads a generated library: fields, escaping, paths, ratings; skips other entry types and hidden entries', async () => {
    const root = '/home/me/Music';
    const { entries, playlists } = sampleRhythmbox(root);
    const main = await writeRhythmbox(dir, entries, playlists);
    const snap = await rhythmbox.read(main);
    expect(snap.songs.map((s) => s.title)).toEqual(['Intro', 'Track <Two> & "more"', '曲 名', 'Loud']);
    expect(snap.songs[0]).toEqual({
      id: 'file:///home/me/Music/Sigur%20R%C3%B3s/%C3%81g%C3%A6tis%20byrjun%20(1999)/01%20Intro.mp3',
      path: `${root}/Sigur Rós/Ágætis byrjun (1999)/01 Intro.mp3`,
      title: 'Intro',
      artist: 'Sigur Rós',
      album: 'Ágætis byrjun',
      albumArtist: 'Sigur Rós',
      genre: 'Post-Rock',
      year: 1999,
      track: 1,
      disc: 1,
      durationSec: 97,
      rating: 80,
      playCount: 12,
      lastPlayed: 1_764_000_000_000,
      addedAt: 1_600_000_000_000,
    });
    expect(snap.songs[1]).toMatchObject({ path: `${root}/Drum & Bass/#1 Hits 100%/02 Track <Two>.flac`, artist: 'Artist & Co', album: '#1 Hits 100%', rating: 50, year: 2004 });
    expect(snap.songs[2]).toMatchObject({ path: `${root}/日本/曲 名.mp3`, artist: '日本のアーティスト' });
    expect(snap.songs[2]?.year).toBeUndefined(); // <date>0</date>
  });

  it('keeps static playlist order, translates the query editor’s criteria, and names each playlist it cannot translate', async () => {
    const root = '/home/me/Music';
    const { entries, playlists } = sampleRhythmbox(root);
    const snap = await rhythmbox.read(await writeRhythmbox(dir, entries, playlists));
    expect(snap.playlists.map((p) => [p.name, p.position])).toEqual([
      ['My Top Rated', 0],
      ['Road Trip & #1', 1],
      ['Rock or Ambient', 2],
      ['Old & loved', 3],
    ]);
    expect(snap.playlists[1]?.paths).toEqual([`${root}/Rock/Loud.mp3`, `${root}/Sigur Rós/Ágætis byrjun (1999)/01 Intro.mp3`, `${root}/日本/曲 名.mp3`]);
    expect(snap.playlists[3]?.rule).toEqual({
      match: 'all',
      conditions: [
        { field: 'year', op: 'lte', value: 2005 },
        { field: 'playCount', op: 'gte', value: 2 },
        { field: 'lastPlayed', op: 'withinDays', value: 7 },
        { field: 'artist', op: 'startsWith', value: 'sigur' },
      ],
    });
    const messages = snap.problems.map((p) => `${p.path === join(dir, 'playlists.xml')} ${p.message}`);
    expect(messages).toEqual([
      expect.stringMatching(/^true playlist "By Composer" \(line \d+\): automatic playlist not synced: criterion on property "composer-folded"/),
      expect.stringMatching(/^true playlist "Big ones" \(line \d+\): automatic playlist not synced: a limit by size has no equivalent/),
    ]);
  });

  it('reads a library without playlists.xml (no playlist made yet)', async () => {
    const main = await writeRhythmbox(dir, sampleRhythmbox('/m').entries);
    const snap = await rhythmbox.read(main);
    expect(snap.songs).toHaveLength(4);
    expect(snap.playlists).toEqual([]);
  });

  it('reports one entry with a bad location and reads the rest', async () => {
    const entries = [
      { path: '/m/a.mp3', title: 'A' },
      { path: '/m/b.mp3', title: 'Bad', rawLocation: 'file:///m/%E9t%C3%A9.mp3' },
      { path: '/m/c.mp3', title: 'Net', rawLocation: 'smb://nas/share/c.mp3' },
      { path: '/m/d.mp3', title: 'Dots', rawLocation: 'file:///m/../etc/passwd' },
      { path: '/m/e.mp3', title: 'E', playCount: 2 },
    ];
    const main = await writeRhythmbox(dir, entries);
    const xml = (await readFile(main, 'utf8')).replace('<play-count>2</play-count>', '<play-count>lots</play-count>');
    await writeFile(main, xml);
    const snap = await rhythmbox.read(main);
    expect(snap.songs.map((s) => s.path)).toEqual(['/m/a.mp3', '/m/e.mp3']);
    expect(snap.songs[1]?.playCount).toBeUndefined();
    expect(snap.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^entry on line \d+ "Bad": location "file:\/\/\/m\/%E9t%C3%A9.mp3": malformed percent-encoding or invalid UTF-8$/),
      expect.stringMatching(/^entry on line \d+ "Net": location "smb:\/\/nas\/share\/c.mp3": scheme smb: is not a local file$/),
      expect.stringMatching(/^entry on line \d+ "Dots": .*segment/),
      expect.stringMatching(/^entry on line \d+ "E": <play-count> "lots" is not a whole number; left out$/),
    ]);
    expect(snap.problems.every((p) => p.path === main)).toBe(true);
  });

  it('refuses a DTD with an entity, naming the file, before reading any entry', async () => {
    const main = join(dir, 'rhythmdb.xml');
    await writeFile(
      main,
      '<?xml version="1.0"?>\n<!DOCTYPE rhythmdb [\n<!ENTITY x "boom">\n]>\n<rhythmdb version="2.0">\n' + rbEntryXml({ path: '/m/a.mp3', title: '&x;' }).replace('&amp;x;', '&x;') + '</rhythmdb>\n',
    );
    const err = await rhythmbox.read(main).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).message).toBe(`${main}: line 2: DTD not allowed: a collection never needs one`);
  });

  it('refuses a truncated file, and a file that is not a Rhythmbox library, naming the file', async () => {
    const main = join(dir, 'rhythmdb.xml');
    const whole = rhythmdbXml(sampleRhythmbox('/m').entries);
    await writeFile(main, whole.slice(0, Math.floor(whole.length / 2)));
    await expect(rhythmbox.read(main)).rejects.toThrow(new RegExp(`^${main.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: line \\d+: .*never closed`));
    await expect(rhythmbox.read(main)).rejects.toBeInstanceOf(FileError);
    await writeFile(main, '<?xml version="1.0"?>\n<plist version="1.0"><dict/></plist>\n');
    await expect(rhythmbox.read(main)).rejects.toThrow(`${main}: not a Rhythmbox library: its root is <plist>, not <rhythmdb>`);
    await writeFile(join(dir, 'playlists.xml'), '<rhythmdb-playlists><playlist name="x" type="static">');
    await writeFile(main, whole);
    await expect(rhythmbox.read(main)).rejects.toThrow(`${join(dir, 'playlists.xml')}: line 1: `);
    await rm(main);
    await expect(rhythmbox.read(main)).rejects.toThrow(`${main}: no such file`);
  });

  it('knows where Rhythmbox keeps its library, and which files make a new version', () => {
    expect(rhythmbox.defaultPaths({}, '/home/me', 'linux')).toEqual(['/home/me/.local/share/rhythmbox/rhythmdb.xml', '/home/me/.gnome2/rhythmbox/rhythmdb.xml']);
    expect(rhythmbox.defaultPaths({ XDG_DATA_HOME: '/data' }, '/home/me', 'linux')[0]).toBe('/data/rhythmbox/rhythmdb.xml');
    expect(rhythmbox.defaultPaths({}, 'C:\\Users\\me', 'win32')).toEqual([]);
    expect(rhythmbox.files('/home/me/.local/share/rhythmbox/rhythmdb.xml')).toEqual(['/home/me/.local/share/rhythmbox/rhythmdb.xml', '/home/me/.local/share/rhythmbox/playlists.xml']);
  });

  it('reads a 20,000-song library in one streaming pass', async () => {
    const main = join(dir, 'rhythmdb.xml');
    await writeBigRhythmdb(main, 20_000);
    const started = process.hrtime.bigint();
    const snap = await rhythmbox.read(main);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    // A measure for the record, not an assertion (no timed assertions).
    console.log(`rhythmbox: 20,000 songs read in ${ms.toFixed(0)} ms`);
    expect(snap.songs).toHaveLength(20_000);
    expect(snap.problems).toEqual([]);
    expect(snap.songs[19_999]).toMatchObject({ title: 'Song 19999 – Ωmega', path: '/home/me/Music/Artist 499 Ø/Album 19 & Co/19 Song 19999 #19999.mp3', rating: 20, year: 1979 });
  });
});
