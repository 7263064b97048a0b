import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  copyPlayerFixture,
  openAsPlayer,
  playerHoldingLock,
  playerReadingThenWriting,
  playerWriting,
  schemaOf,
  type QueueFixture,
} from '../../test/fixtures/players/queue-db.js';
import { clementine } from './adapters/clementine.js';
import { strawberry } from './adapters/strawberry.js';
import { openPlayerDb, withBusyRetry } from './player-db.js';
import {
  ackChanges,
  attachQueue,
  detachQueue,
  QUEUE_PREFIX,
  queueHealth,
  queueLength,
  repairQueue,
  takeChanges,
} from './player-queue.js';
import type { SqlitePlayerAdapter } from './sqlite-adapter.js';

interface Case {
  fixture: QueueFixture;
  adapter: SqlitePlayerAdapter;
  /** The songs column holding the URL. */
  url: string;
  /** The SQL the player runs to add song `id` to playlist 1. */
  addItem: string;
}

const CASES: Case[] = [
  {
    fixture: 'strawberry-1.0.14.db',
    adapter: strawberry,
    url: 'url',
    addItem: 'INSERT INTO playlist_items (playlist, type, collection_id, url) SELECT 1, 2, ROWID, url FROM songs WHERE ROWID = ?',
  },
  {
    fixture: 'clementine-1.4.db',
    adapter: clementine,
    url: 'filename',
    addItem: "INSERT INTO playlist_items (playlist, type, library_id) VALUES (1, 'Library', ?)",
  },
];

const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
});
function track<T extends Database.Database>(db: T): T {
  open.push(db);
  return db;
}

/** The count of queued (not acknowledged) changes, taken and acknowledged: what one player write produced. */
function drain(db: Database.Database): { songs: string[]; playlists: string[] } {
  const got = takeChanges(db);
  ackChanges(db);
  return got;
}

/** The player's full-row save of a song: every column set, as Clementine and Strawberry write it. */
function saveSongRow(player: Database.Database, id: number, change: Record<string, unknown> = {}): void {
  const row = player.prepare('SELECT * FROM songs WHERE ROWID = ?').get(id) as Record<string, unknown>;
  const cols = Object.keys(row);
  const values = cols.map((c) => (c in change ? change[c] : row[c]));
  player.prepare(`UPDATE songs SET ${cols.map((c) => `"${c}" = ?`).join(', ')} WHERE ROWID = ?`).run(...values, id);
}

/** The player's playlist save: delete all its items and insert them again, in one transaction. */
function savePlaylist(player: Database.Database, c: Case, songIds: number[]): void {
  player.transaction(() => {
    player.prepare('DELETE FROM playlist_items WHERE playlist = 1').run();
    for (const id of songIds) player.prepare(c.addItem).run(id);
    // The players also store the playlist's last played row on save: not a watched column.
    player.prepare('UPDATE playlists SET last_played = ? WHERE ROWID = 1').run(songIds.length);
  })();
}

describe.each(CASES)('change queue in $fixture', (c) => {
  function setup(): { file: string; db: Database.Database; player: Database.Database } {
    const file = copyPlayerFixture(c.fixture);
    const db = track(openPlayerDb(file, c.adapter));
    const player = track(openAsPlayer(file));
    return { file, db, player };
  }

  it('attach then detach leaves sqlite_master as it was, attached once or twice; journal mode untouched', () => {
    for (const times of [1, 2]) {
      const file = copyPlayerFixture(c.fixture);
      const before = schemaOf(file);
      const db = track(openPlayerDb(file, c.adapter));
      for (let i = 0; i < times; i++) attachQueue(db, c.adapter);
      expect(queueHealth(db, c.adapter)).toEqual({ state: 'attached' });
      expect(schemaOf(file)).not.toEqual(before);
      detachQueue(db);
      expect(queueHealth(db, c.adapter)).toEqual({ state: 'detached' });
      expect(schemaOf(file)).toEqual(before);
      expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(
        db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'").pluck().get(),
      ).toBe(0);
    }
  });

  it('attaching twice keeps the queued rows and makes nothing twice', () => {
    const { db, player } = setup();
    attachQueue(db, c.adapter);
    player.prepare('DELETE FROM songs WHERE ROWID = 1').run();
    const objects = db.prepare(`SELECT count(*) FROM sqlite_master WHERE name LIKE '${QUEUE_PREFIX}%'`).pluck().get();
    attachQueue(db, c.adapter);
    expect(db.prepare(`SELECT count(*) FROM sqlite_master WHERE name LIKE '${QUEUE_PREFIX}%'`).pluck().get()).toBe(objects);
    expect(queueLength(db)).toBe(1);
  });

  it('a full-row song save queues one change when one value changed, none when nothing did', () => {
    const { db, player } = setup();
    attachQueue(db, c.adapter);
    saveSongRow(player, 2);
    expect(queueLength(db)).toBe(0);
    saveSongRow(player, 2, { rating: 0.8, playcount: 3 });
    expect(drain(db)).toEqual({ songs: ['2'], playlists: [] });
    // A column cratesync does not watch (the file's mtime) is no change.
    saveSongRow(player, 2, { mtime: 42 });
    expect(queueLength(db)).toBe(0);
    // A move: the URL changes.
    saveSongRow(player, 2, { [c.url]: 'file:///tmp/music/moved.wav' });
    expect(drain(db)).toEqual({ songs: ['2'], playlists: [] });
  });

  it('a song saved many times before it is read is one change', () => {
    const { db, player } = setup();
    attachQueue(db, c.adapter);
    for (let i = 1; i <= 10; i++) saveSongRow(player, 1, { playcount: i });
    expect(queueLength(db)).toBe(1);
    expect(drain(db)).toEqual({ songs: ['1'], playlists: [] });
  });

  it('inserting and deleting a song are one change each', () => {
    const { db, player } = setup();
    attachQueue(db, c.adapter);
    const cols = (player.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('songs') as string[]).filter((n) => n !== c.url);
    const q = cols.map((n) => `"${n}"`).join(', ');
    const info = player
      .prepare(`INSERT INTO songs (${q}, "${c.url}") SELECT ${q}, 'file:///tmp/music/new.wav' FROM songs WHERE ROWID = 1`)
      .run();
    const id = String(info.lastInsertRowid);
    expect(drain(db)).toEqual({ songs: [id], playlists: [] });
    player.prepare('DELETE FROM songs WHERE ROWID = 3').run();
    expect(drain(db)).toEqual({ songs: ['3'], playlists: [] });
  });

  it('a playlist save (delete all items, insert them in a new order) is one change; a rename is one', () => {
    const { db, player } = setup();
    savePlaylist(player, c, [1, 2, 3]);
    attachQueue(db, c.adapter);
    savePlaylist(player, c, [3, 1, 2]);
    expect(queueLength(db)).toBe(1);
    expect(drain(db)).toEqual({ songs: [], playlists: ['1'] });
    player.prepare('UPDATE playlists SET name = ? WHERE ROWID = 1').run('Peak Time');
    expect(drain(db)).toEqual({ songs: [], playlists: ['1'] });
    player.prepare('UPDATE playlists SET name = ? WHERE ROWID = 1').run('Peak Time');
    expect(queueLength(db)).toBe(0);
  });

  it('a change after takeChanges is kept for the next take; taken rows not acknowledged come again', () => {
    const { db, player } = setup();
    attachQueue(db, c.adapter);
    saveSongRow(player, 1, { playcount: 1 });
    expect(takeChanges(db)).toEqual({ songs: ['1'], playlists: [] });
    // While cratesync handles song 1, the player saves it again and song 2.
    saveSongRow(player, 1, { playcount: 2 });
    saveSongRow(player, 2, { playcount: 2 });
    // Say cratesync crashed before ackChanges: the next take returns all of them.
    expect(takeChanges(db)).toEqual({ songs: ['1', '2'], playlists: [] });
    ackChanges(db);
    expect(queueLength(db)).toBe(0);
    saveSongRow(player, 3, { playcount: 2 });
    expect(takeChanges(db)).toEqual({ songs: ['3'], playlists: [] });
  });

  it('a player upgrade that rebuilds a table loses its triggers: triggers-lost, repaired, queued again', () => {
    const { db, player } = setup();
    attachQueue(db, c.adapter);
    player.exec('ALTER TABLE songs RENAME TO songs_old; CREATE TABLE songs AS SELECT * FROM songs_old; DROP TABLE songs_old;');
    const health = queueHealth(db, c.adapter);
    expect(health).toEqual({
      state: 'triggers-lost',
      missing: ['cratesync_songs_ins', 'cratesync_songs_del', 'cratesync_songs_upd'],
    });
    saveSongRow(player, 1, { playcount: 5 });
    expect(queueLength(db)).toBe(0);
    expect(repairQueue(db, c.adapter)).toEqual(health);
    expect(queueHealth(db, c.adapter)).toEqual({ state: 'attached' });
    saveSongRow(player, 1, { playcount: 6 });
    expect(drain(db)).toEqual({ songs: ['1'], playlists: [] });
  });

  it('a queue table dropped behind our back: queue-lost, the player cannot write until repairQueue makes the queue first', () => {
    const { db, player } = setup();
    attachQueue(db, c.adapter);
    player.exec('DROP TABLE cratesync_queue');
    expect(queueHealth(db, c.adapter)).toEqual({ state: 'queue-lost' });
    expect(() => saveSongRow(player, 1, { playcount: 7 })).toThrow(/cratesync_queue/);
    expect(repairQueue(db, c.adapter)).toEqual({ state: 'queue-lost' });
    expect(queueHealth(db, c.adapter)).toEqual({ state: 'attached' });
    saveSongRow(player, 1, { playcount: 7 });
    expect(drain(db)).toEqual({ songs: ['1'], playlists: [] });
  });

  it('a trigger whose SQL differs from what attachQueue makes is reported and replaced', () => {
    const { db, player } = setup();
    attachQueue(db, c.adapter);
    player.exec(
      'DROP TRIGGER cratesync_playlists_upd; CREATE TRIGGER cratesync_playlists_upd AFTER UPDATE ON playlists BEGIN SELECT 1; END;',
    );
    expect(queueHealth(db, c.adapter)).toEqual({ state: 'triggers-lost', missing: ['cratesync_playlists_upd'] });
    repairQueue(db, c.adapter);
    expect(queueHealth(db, c.adapter)).toEqual({ state: 'attached' });
  });

  it('takeChanges and attachQueue wait for the player\'s write transaction and succeed once it commits', async () => {
    const file = copyPlayerFixture(c.fixture);
    // A short busy timeout so the retry path, not only SQLite's wait, is what gets us through.
    const db = track(openPlayerDb(file, c.adapter, { busyTimeoutMs: 20 }));
    const player = track(openAsPlayer(file));
    player.exec('BEGIN IMMEDIATE');
    let attempts = 0;
    setTimeout(() => player.exec('COMMIT'), 0);
    await withBusyRetry(() => {
      attempts++;
      attachQueue(db, c.adapter);
    });
    expect(attempts).toBeGreaterThan(1);
    expect(queueHealth(db, c.adapter)).toEqual({ state: 'attached' });

    // A change already queued, so takeChanges has rows to mark (with an empty
    // queue it only reads, and reading needs no wait), then the player's open write.
    saveSongRow(player, 1, { playcount: 9 });
    player.exec('BEGIN IMMEDIATE');
    saveSongRow(player, 2, { playcount: 9 });
    attempts = 0;
    setTimeout(() => player.exec('COMMIT'), 0);
    const got = await withBusyRetry(() => {
      attempts++;
      return takeChanges(db);
    });
    expect(attempts).toBeGreaterThan(1);
    expect(got).toEqual({ songs: ['1', '2'], playlists: [] });
  });

  it('after every cratesync call no lock is left: the player can take an exclusive lock without waiting', () => {
    const { db, player } = setup();
    const exclusiveNow = (): void => {
      player.pragma('busy_timeout = 0');
      player.exec('BEGIN EXCLUSIVE');
      player.exec('COMMIT');
    };
    attachQueue(db, c.adapter);
    exclusiveNow();
    saveSongRow(player, 1, { playcount: 4 });
    c.adapter.readAll(db);
    exclusiveNow();
    c.adapter.readSongs(db, ['1', '2']);
    c.adapter.readPlaylists(db, ['1']);
    queueHealth(db, c.adapter);
    queueLength(db);
    exclusiveNow();
    takeChanges(db);
    exclusiveNow();
    ackChanges(db);
    exclusiveNow();
    detachQueue(db);
    exclusiveNow();
  });

  it('a database cratesync may not write: FileError naming the file, the player untouched', () => {
    const { file, db } = setup();
    const before = schemaOf(file);
    // Stands for a read-only file or folder (root ignores file modes).
    db.pragma('query_only = 1');
    expect(() => attachQueue(db, c.adapter)).toThrow(expect.objectContaining({ name: 'FileError', path: file }));
    expect(schemaOf(file)).toEqual(before);
  });

  it('takeChanges on a database without the queue says so, naming the file', () => {
    const { file, db } = setup();
    expect(() => takeChanges(db)).toThrow(file);
    expect(queueLength(db)).toBe(0);
  });
});

describe.each(CASES)('the player and cratesync at once, in $fixture', (c) => {
  it('a synchronous takeChanges waits (busy timeout) while the player, in another thread, holds its write', async () => {
    const file = copyPlayerFixture(c.fixture);
    const db = track(openPlayerDb(file, c.adapter));
    attachQueue(db, c.adapter);
    const player = track(openAsPlayer(file));
    saveSongRow(player, 1, { playcount: 1 });
    player.close();
    const p = await playerHoldingLock(file, 'UPDATE songs SET playcount = 42 WHERE ROWID = 2');
    try {
      // The lock is really held: without waiting, taking fails.
      const impatient = track(openPlayerDb(file, c.adapter, { busyTimeoutMs: 0 }));
      expect(() => takeChanges(impatient)).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
      // The worker commits on its own thread once asked; this thread then
      // blocks in SQLite's busy wait inside takeChanges until that commit.
      p.release();
      expect(takeChanges(db)).toEqual({ songs: ['1', '2'], playlists: [] });
      await p.committed;
    } finally {
      await p.worker.terminate();
    }
  });

  it("the player's writes, with its own short busy timeout, never meet SQLITE_BUSY while cratesync reads and takes", async () => {
    const file = copyPlayerFixture(c.fixture);
    const db = track(openPlayerDb(file, c.adapter));
    attachQueue(db, c.adapter);
    const w = playerWriting(file, 100, 200);
    let rounds = 0;
    try {
      // cratesync retries as it does in production (withBusyRetry): a player
      // writing in a tight loop may keep the lock past our busy timeout; what
      // must never happen is the player's write failing.
      while (Atomics.load(w.running, 0) === 1) {
        await withBusyRetry(() => c.adapter.readAll(db), { tries: 20 });
        const got = await withBusyRetry(() => takeChanges(db), { tries: 20 });
        await withBusyRetry(() => c.adapter.readSongs(db, got.songs), { tries: 20 });
        await withBusyRetry(() => ackChanges(db), { tries: 20 });
        rounds++;
      }
      expect(await w.done).toEqual([]);
    } finally {
      await w.worker.terminate();
    }
    expect(rounds).toBeGreaterThan(0);
    expect(c.adapter.readSongs(db, ['1']).songs[0]?.playCount).toBe(100);
  });

  it("cratesync never waits while holding the write lock: a player transaction that read first can still write", async () => {
    const file = copyPlayerFixture(c.fixture);
    const db = track(openPlayerDb(file, c.adapter));
    attachQueue(db, c.adapter);
    const player = track(openAsPlayer(file));
    saveSongRow(player, 1, { playcount: 1 });
    player.close();
    const p = await playerReadingThenWriting(file, 'UPDATE songs SET playcount = 77 WHERE ROWID = 2', 50);
    try {
      // The player writes a moment after cratesync starts taking. Had we kept
      // our lock while waiting for the player's read to end, its write would
      // fail at once (SQLite's answer to two connections each waiting for the
      // other), whatever its busy timeout.
      p.write();
      expect(() => takeChanges(db)).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
      expect(await p.done).toBeNull();
    } finally {
      await p.worker.terminate();
    }
    expect(await withBusyRetry(() => takeChanges(db))).toEqual({ songs: ['1', '2'], playlists: [] });
    expect(await withBusyRetry(() => ackChanges(db))).toBeUndefined();
    expect(queueLength(db)).toBe(0);
  });

  it('with nothing to mark or delete, takeChanges and ackChanges write nothing: they pass a player holding its write lock', async () => {
    const file = copyPlayerFixture(c.fixture);
    const db = track(openPlayerDb(file, c.adapter, { busyTimeoutMs: 0 }));
    attachQueue(db, c.adapter);
    const player = track(openAsPlayer(file));
    saveSongRow(player, 1, { playcount: 1 });
    expect(takeChanges(db)).toEqual({ songs: ['1'], playlists: [] });
    player.exec('BEGIN IMMEDIATE');
    try {
      // Rows taken but not acknowledged (a crash) are read again without writing.
      expect(takeChanges(db)).toEqual({ songs: ['1'], playlists: [] });
      expect(() => ackChanges(db)).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
    } finally {
      player.exec('COMMIT');
    }
    ackChanges(db);
    player.exec('BEGIN IMMEDIATE');
    try {
      ackChanges(db);
      expect(takeChanges(db)).toEqual({ songs: [], playlists: [] });
    } finally {
      player.exec('COMMIT');
    }
  });
});
