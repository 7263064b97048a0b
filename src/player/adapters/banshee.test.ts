import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeBansheeDb, sampleBanshee, type BansheeIds } from '../../../test/fixtures/players/banshee-db.js';
import { openPlayerDb } from '../player-db.js';
import { attachQueue, detachQueue, queueHealth, takeChanges, ackChanges } from '../player-queue.js';
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

/** sqlite_master as a comparable list. */
function schema(d: Database.Database): unknown[] {
  return d.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all();
}

/**
 * Saves a track the way Banshee's DatabaseTrackInfo.Save does: one UPDATE that
 * rewrites every column, with `changes` applied over the current values.
 */
function saveTrack(d: Database.Database, trackId: number, changes: Record<string, unknown>): void {
  const row = d.prepare('SELECT * FROM CoreTracks WHERE TrackID = ?').get(trackId) as Record<string, unknown>;
  const cols = Object.keys(row).filter((c) => c !== 'TrackID');
  const values = cols.map((c) => (c in changes ? changes[c] : row[c]));
  d.prepare(`UPDATE CoreTracks SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE TrackID = ?`).run(...values, trackId);
}

describe('banshee change queue', () => {
  let player: Database.Database;
  beforeEach(() => {
    player = openPlayerDb(file, banshee);
    attachQueue(player, banshee);
  });
  afterEach(() => player.close());

  it('attaches a trigger set per watched table and detaches to the schema Banshee made', () => {
    const pristine = join(dir, 'pristine.db');
    makeBansheeDb(pristine, sampleBanshee(root));
    const fresh = new Database(pristine);
    const before = schema(fresh);
    fresh.close();
    expect(queueHealth(player, banshee)).toEqual({ state: 'attached' });
    const triggers = player.prepare("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'cratesync%'").pluck().all();
    expect(new Set(triggers)).toEqual(new Set(banshee.watched.map((w) => w.table)));
    detachQueue(player);
    expect(schema(player)).toEqual(before);
  });

  it('a full-row save that changes the Rating queues that one song; one that changes nothing watched queues none', () => {
    const track = ids.trackIds[1]!;
    saveTrack(db, track, { DateUpdatedStamp: 1_800_000_000, Score: 50, SkipCount: 3, LastSyncedStamp: 1_800_000_000 });
    expect(takeChanges(player)).toEqual({ songs: [], playlists: [] });
    saveTrack(db, track, { Rating: 4, DateUpdatedStamp: 1_800_000_001 });
    expect(takeChanges(player)).toEqual({ songs: [String(track)], playlists: [] });
    ackChanges(player);
    expect(banshee.readSongs(player, [String(track)]).songs[0]?.rating).toBe(80);
  });

  it("an album's or artist's name changed in place queues every library track pointing at it", () => {
    const album = db.prepare('SELECT AlbumID FROM CoreTracks WHERE TrackID = ?').pluck().get(ids.trackIds[0]) as number;
    // What DatabaseAlbumInfo.Save writes: every column, only ArtistName different.
    db.prepare("UPDATE CoreAlbums SET Title = Title, ArtistName = 'BJÖRK', ArtistNameLowered = 'björk', Rating = 0 WHERE AlbumID = ?").run(album);
    expect(takeChanges(player)).toEqual({ songs: [id(0), id(1)], playlists: [] });
    ackChanges(player);
    expect(banshee.readSongs(player, [id(0)]).songs[0]?.albumArtist).toBe('BJÖRK');
    db.prepare('UPDATE CoreAlbums SET Rating = 3, Duration = 560 WHERE AlbumID = ?').run(album);
    expect(takeChanges(player)).toEqual({ songs: [], playlists: [] });
    db.prepare("UPDATE CoreArtists SET Name = 'SOMEONE' WHERE Name = 'Someone'").run();
    expect(takeChanges(player)).toEqual({ songs: [id(2)], playlists: [] });
  });

  it('a playlist save that deletes and re-inserts its entries queues that one playlist', () => {
    const list = ids.playlistIds[0]!;
    db.transaction(() => {
      db.prepare('DELETE FROM CorePlaylistEntries WHERE PlaylistID = ?').run(list);
      [0, 1, 2].forEach((i, order) => db.prepare('INSERT INTO CorePlaylistEntries (PlaylistID, TrackID, ViewOrder) VALUES (?, ?, ?)').run(list, ids.trackIds[i], order));
    })();
    expect(takeChanges(player)).toEqual({ songs: [], playlists: [String(list)] });
    ackChanges(player);
    expect(banshee.readPlaylists(player, [String(list)]).playlists[0]?.paths).toEqual([`${root}/Björk/Homogenic/01 Hunter.mp3`, `${root}/Björk/Homogenic/02 Jóga.flac`, `${root}/Various/Mix 100% #1/03 Track.mp3`]);
  });

  it('a smart playlist refresh queues it as s<id>, apart from the static playlist with the same number', () => {
    const smart = ids.smartIds[0]!;
    expect(smart).toBe(ids.playlistIds[0]);
    // SmartPlaylistSource.RefreshAndReload: delete the entries and insert the new matches.
    db.exec(`DELETE FROM CoreSmartPlaylistEntries WHERE SmartPlaylistID = ${String(smart)};
      INSERT INTO CoreSmartPlaylistEntries (EntryID, SmartPlaylistID, TrackID)
        SELECT null, ${String(smart)}, TrackID FROM CoreTracks WHERE Rating >= 3 AND PrimarySourceID = 1 ORDER BY Rating DESC`);
    // SmartPlaylistSource.Update rewrites every column; only CachedCount changed.
    db.prepare('UPDATE CoreSmartPlaylists SET Name = Name, Condition = Condition, OrderBy = OrderBy, CachedCount = 3 WHERE SmartPlaylistID = ?').run(smart);
    expect(takeChanges(player)).toEqual({ songs: [], playlists: [`s${String(smart)}`] });
    ackChanges(player);
    const [p] = banshee.readPlaylists(player, [`s${String(smart)}`]).playlists;
    expect(p).toMatchObject({ smart: true, name: 'Favourites' });
    expect(p?.paths).toHaveLength(3);
    db.prepare("UPDATE CoreSmartPlaylists SET Name = 'Best' WHERE SmartPlaylistID = ?").run(smart);
    db.prepare("UPDATE CorePlaylists SET Name = 'Trip' WHERE PlaylistID = ?").run(ids.playlistIds[0]);
    expect(takeChanges(player)).toEqual({ songs: [], playlists: [`s${String(smart)}`, String(ids.playlistIds[0])] });
  });

  it('a removed track queues the song, which is then gone', () => {
    const track = ids.trackIds[3]!;
    // DatabaseTrackInfo removal: the row goes, CoreRemovedTracks keeps a note.
    db.transaction(() => {
      db.prepare('INSERT INTO CoreRemovedTracks (TrackID, Uri, DateRemovedStamp) SELECT TrackID, Uri, 1800000000 FROM CoreTracks WHERE TrackID = ?').run(track);
      db.prepare('DELETE FROM CoreTracks WHERE TrackID = ?').run(track);
    })();
    expect(takeChanges(player).songs).toEqual([String(track)]);
    expect(banshee.readSongs(player, [String(track)]).songs).toEqual([]);
  });
});
