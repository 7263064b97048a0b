import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeBansheeDb, sampleBanshee, type BansheeIds } from '../../../test/fixtures/players/banshee-db.js';
import { banshee } from './banshee.js';

let dir: string;
let file: string;
let ids: BansheeIds;
let db: Database.Database;
const root = '/home/me/Music';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'banshee-'));
  file = join(dir, 'banshee.db');
  ids = makeBansheeDb(file, sampleBanshee(root));
  db = new Database(file);
});
afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

const id = (i: number): string => String(ids.trackIds[i]);

describe('banshee adapter', () => {
  it('recognises a Banshee database and refuses another', () => {
    expect(banshee.recognize(db)).toBeUndefined();
    const other = new Database(':memory:');
    other.exec('CREATE TABLE songs (title TEXT)');
    expect(banshee.recognize(other)).toMatch(/CoreTracks.*not a Banshee database/);
    other.close();
  });

  it('reads the music library: paths from file:// URIs, joined names, ratings to 0–100, times to ms', () => {
    const { songs, problems } = banshee.readAll(db);
    expect(songs.map((s) => s.path)).toEqual([
      `${root}/Björk/Homogenic/01 Hunter.mp3`,
      `${root}/Björk/Homogenic/02 Jóga.flac`,
      `${root}/Various/Mix 100% #1/03 Track.mp3`,
      `${root}/Loose/untagged.mp3`,
    ]);
    expect(songs[0]).toEqual({
      id: id(0),
      path: `${root}/Björk/Homogenic/01 Hunter.mp3`,
      title: 'Hunter',
      artist: 'Björk',
      album: 'Homogenic',
      albumArtist: 'Björk',
      genre: 'Electronic',
      year: 1997,
      track: 1,
      disc: 1,
      durationSec: 255,
      rating: 100,
      playCount: 12,
      lastPlayed: 1_700_000_000_000,
      addedAt: 1_600_000_000_000,
    });
    expect(songs.map((s) => s.rating)).toEqual([100, 60, 80, undefined]);
    expect(songs[1]?.durationSec).toBe(305.5);
    expect(songs[2]).toMatchObject({ artist: 'Someone', albumArtist: 'Various Artists', disc: 2 });
    // Unset fields are absent, not 0 or null.
    expect(songs[3]).toEqual({ id: id(3), path: `${root}/Loose/untagged.mp3`, playCount: 0, addedAt: 1_600_000_003_000 });
    // The stream is reported, the podcast episode (another primary source) is not a song at all.
    expect(problems).toEqual([{ path: 'http://radio.example/stream.mp3', message: `Banshee track ${id(4)}: not a local file URI` }]);
  });

  it('reads the static playlist in ViewOrder and the smart one as its materialised entries', () => {
    const { playlists } = banshee.readAll(db);
    expect(playlists).toEqual([
      { id: String(ids.playlistIds[0]), name: 'Road Trip', smart: false, paths: [`${root}/Various/Mix 100% #1/03 Track.mp3`, `${root}/Björk/Homogenic/01 Hunter.mp3`, `${root}/Björk/Homogenic/02 Jóga.flac`] },
      { id: `s${String(ids.smartIds[0])}`, name: 'Favourites', smart: true, paths: [`${root}/Björk/Homogenic/01 Hunter.mp3`, `${root}/Various/Mix 100% #1/03 Track.mp3`] },
    ]);
  });

  it('orders entries by ViewOrder, then EntryID', () => {
    const list = ids.playlistIds[0]!;
    // A drag-and-drop reorder rewrites ViewOrder; equal ones keep insertion order.
    db.prepare('UPDATE CorePlaylistEntries SET ViewOrder = 0 WHERE PlaylistID = ?').run(list);
    db.prepare('UPDATE CorePlaylistEntries SET ViewOrder = -1 WHERE PlaylistID = ? AND TrackID = ?').run(list, ids.trackIds[1]);
    const [p] = banshee.readPlaylists(db, [String(list)]).playlists;
    expect(p?.paths).toEqual([`${root}/Björk/Homogenic/02 Jóga.flac`, `${root}/Various/Mix 100% #1/03 Track.mp3`, `${root}/Björk/Homogenic/01 Hunter.mp3`]);
  });

  it('reads songs and playlists by id; ids gone, of another source or malformed are not returned', () => {
    const { songs } = banshee.readSongs(db, [id(1), id(5), '9999', 'x']);
    expect(songs.map((s) => s.title)).toEqual(['Jóga']);
    const smart = `s${String(ids.smartIds[0])}`;
    const { playlists } = banshee.readPlaylists(db, [smart, 's999', '999']);
    expect(playlists.map((p) => [p.id, p.smart])).toEqual([[smart, true]]);
    // Static playlist 1 and smart playlist 1 are different playlists.
    expect(banshee.readPlaylists(db, ['1']).playlists.map((p) => p.name)).toEqual(['Road Trip']);
  });

  it('finds its database under XDG_CONFIG_HOME or ~/.config', () => {
    expect(banshee.defaultPaths({}, '/home/me', 'linux')).toEqual(['/home/me/.config/banshee-1/banshee.db']);
    expect(banshee.defaultPaths({ XDG_CONFIG_HOME: '/cfg' }, '/home/me', 'linux')).toEqual(['/cfg/banshee-1/banshee.db']);
  });

  it('builds its fixture with the real schema version row', () => {
    expect(db.prepare("SELECT Value FROM CoreConfiguration WHERE Key = 'DatabaseVersion'").get()).toEqual({ Value: '45' });
  });
});
