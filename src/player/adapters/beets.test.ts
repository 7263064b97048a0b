import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeBansheeDb, sampleBanshee } from '../../../test/fixtures/players/banshee-db.js';
import { makeBeetsLib, type BeetsLib } from '../../../test/fixtures/players/beets-lib.js';
import { openPlayerDb } from '../player-db.js';
import type { PlayerSong } from '../player-model.js';
import { ackChanges, attachQueue, detachQueue, queueHealth, takeChanges } from '../player-queue.js';
import type { PlayerDb } from '../sqlite-adapter.js';
import { beets, beetsAdapter, configDirectory } from './beets.js';

/** What makeLibrary's file names say: `Artist/Album (Year)/NN Title.ext`. */
function fromName(rel: string): { artist: string; album: string; year: number; track: number; title: string } {
  const m = /^([^/]+)\/(.+) \((\d{4})\)\/(\d\d) (.+)\.(?:mp3|flac)$/.exec(rel);
  if (!m) throw new Error(`unexpected fixture file ${rel}`);
  return { artist: m[1]!, album: m[2]!, year: Number(m[3]), track: Number(m[4]), title: m[5]! };
}

describe('beets adapter on a library made by the real beet', () => {
  let root: string;
  let lib: BeetsLib;
  let db: PlayerDb;
  const byPath = (songs: PlayerSong[], rel: string): PlayerSong | undefined => songs.find((s) => s.path === join(lib.music, rel));

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'beets-'));
    lib = await makeBeetsLib(root);
    db = openPlayerDb(lib.db, beets);
  });
  afterEach(async () => {
    db.close();
    await rm(root, { recursive: true, force: true });
  });

  it('beet import, then readAll finds every file with its tags and no playlists', () => {
    const { songs, playlists, problems } = beets.readAll(db);
    expect(problems).toEqual([]);
    expect(playlists).toEqual([]);
    expect(songs.map((s) => s.path).sort()).toEqual(lib.files.map((f) => join(lib.music, f)).sort());
    for (const rel of lib.files) {
      const want = fromName(rel);
      const song = byPath(songs, rel);
      expect(song, rel).toMatchObject({ ...want, albumArtist: want.artist, disc: 1 });
      expect(song?.genre).toBeTypeOf('string');
      expect(song?.durationSec).toBeGreaterThan(0);
      expect(song?.addedAt).toBeGreaterThan(Date.UTC(2020, 0, 1));
      // Nothing played or rated by mpdstats yet.
      expect(song?.rating).toBeUndefined();
      expect(song?.playCount).toBeUndefined();
    }
  });

  describe('once attached', () => {
    beforeEach(() => {
      attachQueue(db, beets);
      expect(takeChanges(db)).toEqual({ songs: [], playlists: [] });
    });

    const idOf = (rel: string): string => {
      const song = byPath(beets.readAll(db).songs, rel);
      if (!song) throw new Error(`no song ${rel}`);
      return song.id;
    };

    it('beet modify -y title=X queues that one song, and readSongs shows the new title', async () => {
      const rel = lib.files[0]!;
      const id = idOf(rel);
      await lib.beet('modify', '-y', 'title=Renamed In Beets', `title:${fromName(rel).title}`, `album:${fromName(rel).album}`);
      expect(takeChanges(db)).toEqual({ songs: [id], playlists: [] });
      ackChanges(db);
      expect(beets.readSongs(db, [id]).songs).toMatchObject([{ id, path: join(lib.music, rel), title: 'Renamed In Beets' }]);
      // The file was not touched (write: no): the path is the same.
      expect(takeChanges(db)).toEqual({ songs: [], playlists: [] });
    });

    it("mpdstats' flexible attributes (rating 0–1, play_count, last_played) queue the song and map to 0–100 and ms", async () => {
      const rel = lib.files[1]!;
      const id = idOf(rel);
      await lib.beet('modify', '-y', 'rating=0.75', 'play_count=3', 'last_played=1700000000', `id:${id}`);
      expect(takeChanges(db)).toEqual({ songs: [id], playlists: [] });
      ackChanges(db);
      expect(beets.readSongs(db, [id]).songs[0]).toMatchObject({ rating: 75, playCount: 3, lastPlayed: 1_700_000_000_000 });
      // Removing an attribute is a change too.
      await lib.beet('modify', '-y', 'rating!', `id:${id}`);
      expect(takeChanges(db)).toEqual({ songs: [id], playlists: [] });
      expect(beets.readSongs(db, [id]).songs[0]?.rating).toBeUndefined();
    });

    it('beet rm (database only) queues the song, which is then gone; the file stays', async () => {
      const rel = lib.files[2]!;
      const id = idOf(rel);
      await lib.beet('rm', '-f', `id:${id}`);
      expect(takeChanges(db)).toEqual({ songs: [id], playlists: [] });
      expect(beets.readSongs(db, [id]).songs).toEqual([]);
      expect(existsSync(join(lib.music, rel))).toBe(true);
    });

    it('beet mv -d moves the file: the song is queued once with its new path', async () => {
      const rel = lib.files[3]!;
      const id = idOf(rel);
      const dest = join(root, 'moved');
      await mkdir(dest);
      await lib.beet('mv', '-d', dest, `id:${id}`);
      expect(takeChanges(db)).toEqual({ songs: [id], playlists: [] });
      const [song] = beets.readSongs(db, [id]).songs;
      expect(song?.path.startsWith(`${dest}/`)).toBe(true);
      expect(existsSync(song!.path)).toBe(true);
      expect(existsSync(join(lib.music, rel))).toBe(false);
      expect(song).toMatchObject({ title: fromName(rel).title });
    });

    it('detach leaves the schema beet made', async () => {
      detachQueue(db);
      const fresh = await mkdtemp(join(tmpdir(), 'beets-fresh-'));
      try {
        const other = await makeBeetsLib(fresh);
        const a = new Database(other.db, { readonly: true });
        const schema = (d: Database.Database): unknown => d.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name').all();
        expect(schema(db)).toEqual(schema(a));
        a.close();
      } finally {
        await rm(fresh, { recursive: true, force: true });
      }
      expect(queueHealth(db, beets)).toEqual({ state: 'detached' });
    });
  });
});

describe('beets paths relative to the music directory (beets ≥ 2.10)', () => {
  let root: string;
  let lib: BeetsLib;
  let copy: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'beets-rel-'));
    lib = await makeBeetsLib(root, { albums: 1, tracksPerAlbum: 2, flacShare: 0 });
    // What beets 2.10's migration does to the paths Debian's 1.6 wrote: relative to `directory`, still bytes.
    copy = join(root, 'copy');
    await mkdir(copy);
    await copyFile(lib.db, join(copy, 'library.db'));
    const w = new Database(join(copy, 'library.db'));
    const prefix = Buffer.from(`${lib.music}/`);
    for (const r of w.prepare('SELECT id, path FROM items').all() as { id: number; path: Buffer }[]) {
      w.prepare('UPDATE items SET path = ? WHERE id = ?').run(r.path.subarray(prefix.length), r.id);
    }
    w.close();
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('joins them with the directory given to the adapter', () => {
    const db = new Database(join(copy, 'library.db'), { readonly: true });
    const { songs, problems } = beetsAdapter({ directory: lib.music }).readAll(db);
    db.close();
    expect(problems).toEqual([]);
    expect(songs.map((s) => s.path).sort()).toEqual(lib.files.map((f) => join(lib.music, f)).sort());
  });

  it("joins them with the config.yaml's directory beside the database", async () => {
    await writeFile(join(copy, 'config.yaml'), `# beets\ndirectory: '${lib.music}'   # music\nlibrary: library.db\n`);
    expect(configDirectory(join(copy, 'library.db'))).toBe(lib.music);
    const db = new Database(join(copy, 'library.db'), { readonly: true });
    const { songs, problems } = beets.readAll(db);
    db.close();
    expect(problems).toEqual([]);
    expect(songs.map((s) => s.path).sort()).toEqual(lib.files.map((f) => join(lib.music, f)).sort());
    await rm(join(copy, 'config.yaml'));
  });

  it('reports each of them, naming the item, when no directory is known', () => {
    const db = new Database(join(copy, 'library.db'), { readonly: true });
    const { songs, problems } = beets.readAll(db);
    db.close();
    expect(songs).toEqual([]);
    expect(problems).toHaveLength(lib.files.length);
    expect(problems[0]?.message).toMatch(/^beets item \d+: a path relative to the music directory, and no directory known/);
  });
});

describe('beets adapter without beet', () => {
  it('refuses a database that is not a beets library', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'beets-not-'));
    try {
      makeBansheeDb(join(dir, 'banshee.db'), sampleBanshee('/m'));
      expect(() => openPlayerDb(join(dir, 'banshee.db'), beets)).toThrow(/banshee\.db: not a beets database: no items table/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a rating off the 0–1 scale and a path that is not UTF-8, and reads the rest', () => {
    const db = new Database(':memory:');
    db.exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, path BLOB, album_id INTEGER, title TEXT, artist TEXT, album TEXT, albumartist TEXT,
               genre TEXT, year INTEGER, track INTEGER, disc INTEGER, length REAL, added REAL);
             CREATE TABLE item_attributes (id INTEGER PRIMARY KEY, entity_id INTEGER, key TEXT, value TEXT, UNIQUE(entity_id, key) ON CONFLICT REPLACE);`);
    db.prepare("INSERT INTO items (id, path, title, artist, album, albumartist, genre, year, track, disc, length, added) VALUES (?, ?, 'T', '', '', '', '', 0, 0, 0, 0.0, 0.0)").run(1, Buffer.from('/m/ok.mp3'));
    db.prepare("INSERT INTO items (id, path, title) VALUES (?, ?, 'Bad')").run(2, Buffer.from([0x2f, 0x6d, 0x2f, 0xff, 0x2e, 0x6d, 0x70, 0x33]));
    db.prepare("INSERT INTO item_attributes (entity_id, key, value) VALUES (1, 'rating', '5')").run();
    const { songs, problems } = beets.readAll(db);
    db.close();
    // Empty text and zero numbers are beets' "not set".
    expect(songs).toEqual([{ id: '1', path: '/m/ok.mp3', title: 'T' }]);
    expect(problems).toEqual([
      { path: '/m/ok.mp3', message: `beets rating "5" is not on mpdstats' 0–1 scale: left out` },
      { path: 'beets item 2', message: 'path is not UTF-8: /m/ÿ.mp3' },
    ]);
  });

  it('finds its database under BEETSDIR, the XDG config folder, and on macOS Application Support', () => {
    expect(beets.defaultPaths({ BEETSDIR: '/b' }, '/home/me', 'linux')).toEqual(['/b/library.db', '/home/me/.config/beets/library.db']);
    expect(beets.defaultPaths({}, '/Users/me', 'darwin')).toEqual(['/Users/me/.config/beets/library.db', '/Users/me/Library/Application Support/beets/library.db']);
  });
});
