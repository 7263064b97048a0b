import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { itunesXml, sampleItunes, writeBigItunes } from '../../../test/fixtures/players/itunes-xml.js';
import { FileError } from '../../errors.js';
import { itunes } from './itunes.js';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cratesync-itunes-'));
  file = join(dir, 'iTunes Library.xml');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const WIN = 'C:\\Users\\me\\Music';

describe('itunes adapter', () => {
  it('reads File tracks: fields, Windows and macOS locations decoded, ratings, dates', async () => {
    const { tracks, playlists } = sampleItunes();
    await writeFile(file, itunesXml(tracks, playlists));
    const snap = await itunes.read(file);
    expect(snap.problems).toEqual([]);
    expect(snap.songs.map((s) => s.title)).toEqual(['Intro', 'Track <Two> & "more"', '曲 名', 'Loud']);
    expect(snap.songs[0]).toEqual({
      id: 'file://localhost/C:/Users/me/Music/iTunes/iTunes%20Media/Music/Sigur%20R%C3%B3s/%C3%81g%C3%A6tis%20byrjun/01%20Intro.mp3',
      path: `${WIN}\\iTunes\\iTunes Media\\Music\\Sigur Rós\\Ágætis byrjun\\01 Intro.mp3`,
      title: 'Intro',
      artist: 'Sigur Rós',
      albumArtist: 'Sigur Rós',
      album: 'Ágætis byrjun',
      genre: 'Post-Rock',
      year: 1999,
      track: 1,
      disc: 1,
      durationSec: 97,
      rating: 80,
      playCount: 12,
      lastPlayed: Date.UTC(2026, 10, 1, 20, 30, 0),
      addedAt: Date.UTC(2020, 0, 2, 3, 4, 5),
    });
    // Rating Computed: the album's rating shown on the track, not the track's own.
    expect(snap.songs[1]).toMatchObject({ path: `${WIN}\\Drum & Bass\\#1 Hits 100%\\02 Track <Two>.m4a`, artist: 'Artist & Co', genre: 'Drum & Bass' });
    expect(snap.songs[1]?.rating).toBeUndefined();
    expect(snap.songs[2]).toMatchObject({ id: 'file:///Users/me/Music/Music/Media/%E6%97%A5%E6%9C%AC/%E6%9B%B2%20%E5%90%8D.mp3', path: '/Users/me/Music/Music/Media/日本/曲 名.mp3', rating: 100, playCount: 0 });
  });

  it('names playlists by their folders, keeps item order, marks smart ones, skips the library, built-ins and folders', async () => {
    const { tracks, playlists } = sampleItunes();
    await writeFile(file, itunesXml(tracks, playlists));
    const snap = await itunes.read(file);
    const intro = `${WIN}\\iTunes\\iTunes Media\\Music\\Sigur Rós\\Ágætis byrjun\\01 Intro.mp3`;
    const loud = `${WIN}\\Rock\\Loud.mp3`;
    expect(snap.playlists).toEqual([
      // The URL track (a stream) in Road Trip has no file: left out.
      { id: 'A000000000000001', name: 'Sets/Peak & Time/Road Trip #1', smart: false, paths: [loud, intro], position: 0 },
      { id: 'A000000000000002', name: 'Top Rated', smart: true, paths: ['/Users/me/Music/Music/Media/日本/曲 名.mp3', intro], position: 1 },
      { id: 'A000000000000003', name: 'Sets/Warm-up', smart: false, paths: [`${WIN}\\Drum & Bass\\#1 Hits 100%\\02 Track <Two>.m4a`], position: 1 },
      { id: 'A000000000000004', name: 'Empty', smart: false, paths: [], position: 2 },
    ]);
  });

  it('reports a track with a bad Location or a bad number and reads the rest', async () => {
    const { tracks, playlists } = sampleItunes();
    tracks[0]!.rawLocation = 'file://localhost/C:/Users/me/Music/%ZZbad.mp3';
    tracks.push({ id: 107, path: '', rawLocation: 'file://otherhost/share/x.mp3', name: 'Elsewhere' });
    tracks.push({ id: 108, path: '/Users/me/x.mp3', name: 'No time' });
    let xml = itunesXml(tracks, playlists);
    xml = xml.replace('<key>Year</key><integer>2010</integer>', '<key>Year</key><integer>twenty-ten</integer>');
    xml = xml.replace(/(<key>Name<\/key><string>No time<\/string>)/, '<key>Play Date UTC</key><date>yesterday</date>\n\t\t\t$1');
    await writeFile(file, xml);
    const snap = await itunes.read(file);
    expect(snap.songs.map((s) => s.title)).toEqual(['Track <Two> & "more"', '曲 名', 'Loud', 'No time']);
    expect(snap.songs[2]?.year).toBeUndefined();
    expect(snap.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^track 101 on line \d+ "Intro": Location "file:\/\/localhost\/C:\/Users\/me\/Music\/%ZZbad.mp3": malformed percent-encoding/),
      expect.stringMatching(/^track 106 on line \d+ "Loud": Year "twenty-ten" is not a whole number; left out$/),
      expect.stringMatching(/^track 107 on line \d+ "Elsewhere": Location .*: host otherhost is not this machine$/),
      expect.stringMatching(/^track 108 on line \d+ "No time": Play Date UTC "yesterday" is not a date; left out$/),
    ]);
    expect(snap.problems.every((p) => p.path === file)).toBe(true);
    // The playlists still read, without the refused track.
    expect(snap.playlists.find((p) => p.name === 'Top Rated')?.paths).toEqual(['/Users/me/Music/Music/Media/日本/曲 名.mp3']);
  });

  it('reports a playlist whose folder is missing or contains itself', async () => {
    const { tracks } = sampleItunes();
    await writeFile(
      file,
      itunesXml(tracks, [
        { name: 'Orphan', pid: 'C000000000000001', parent: 'DEADBEEF00000000', items: [101] },
        { name: 'Loop A', pid: 'C000000000000002', parent: 'C000000000000003', folder: true, items: [] },
        { name: 'Loop B', pid: 'C000000000000003', parent: 'C000000000000002', folder: true, items: [] },
        { name: 'In loop', pid: 'C000000000000004', parent: 'C000000000000003', items: [101] },
      ]),
    );
    const snap = await itunes.read(file);
    expect(snap.playlists).toEqual([]);
    expect(snap.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^playlist "Orphan" on line \d+: its folder .* is missing or contains itself; not synced$/),
      expect.stringMatching(/^playlist "In loop" on line \d+: its folder .* is missing or contains itself; not synced$/),
    ]);
  });

  it('refuses a DOCTYPE with an internal subset (entities), naming the file', async () => {
    const { tracks, playlists } = sampleItunes();
    const xml = itunesXml(tracks, playlists)
      .replace('"http://www.apple.com/DTDs/PropertyList-1.0.dtd">', '"http://www.apple.com/DTDs/PropertyList-1.0.dtd" [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>')
      .replace('<string>Intro</string>', '<string>&xxe;</string>');
    await writeFile(file, xml);
    const err = await itunes.read(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).message).toBe(`${file}: line 2: a DTD internal subset is not allowed (no entity is ever declared or expanded)`);
  });

  it('refuses a truncated file, and a file that is not an iTunes library, naming the file', async () => {
    const { tracks, playlists } = sampleItunes();
    const xml = itunesXml(tracks, playlists);
    await writeFile(file, xml.slice(0, xml.indexOf('<key>Playlists</key>')));
    const err = await itunes.read(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).message).toMatch(/ is never closed \(the input ends on line \d+\)$/);
    expect((err as FileError).message.startsWith(`${file}: line `)).toBe(true);
    await writeFile(file, '<?xml version="1.0"?>\n<rhythmdb version="2.0"></rhythmdb>\n');
    await expect(itunes.read(file)).rejects.toThrow(`${file}: not an iTunes library: its root is <rhythmdb>, not <plist>`);
    await writeFile(file, '<?xml version="1.0"?>\n<plist version="1.0"><dict><key>Name</key><string>x</string></dict></plist>\n');
    await expect(itunes.read(file)).rejects.toThrow(`${file}: not an iTunes library: no Tracks`);
  });

  it('knows where iTunes and Music keep their library', () => {
    expect(itunes.defaultPaths({ USERPROFILE: 'C:\\Users\\me' }, 'C:\\Users\\me', 'win32')).toEqual([
      'C:\\Users\\me\\Music\\iTunes\\iTunes Music Library.xml',
      'C:\\Users\\me\\Music\\iTunes\\iTunes Library.xml',
    ]);
    expect(itunes.defaultPaths({}, '/Users/me', 'darwin')).toEqual([
      '/Users/me/Music/iTunes/iTunes Music Library.xml',
      '/Users/me/Music/iTunes/iTunes Library.xml',
      '/Users/me/Music/Music/Library.xml',
    ]);
    expect(itunes.defaultPaths({}, '/home/me', 'linux')).toEqual([]);
    expect(itunes.files('/x/iTunes Library.xml')).toEqual(['/x/iTunes Library.xml']);
  });

  it('reads a 20,000-track library in one streaming pass', async () => {
    await writeBigItunes(file, 20_000);
    const started = process.hrtime.bigint();
    const snap = await itunes.read(file);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    // A measure for the record, not an assertion (no timed assertions).
    console.log(`itunes: 20,000 tracks read in ${ms.toFixed(0)} ms`);
    expect(snap.songs).toHaveLength(20_000);
    expect(snap.problems).toEqual([]);
    expect(snap.playlists[0]?.paths).toHaveLength(20_000);
    expect(snap.songs[19_999]).toMatchObject({ title: 'Song 20000 – plain', rating: 40, year: 1980, durationSec: 200 });
  });
});
